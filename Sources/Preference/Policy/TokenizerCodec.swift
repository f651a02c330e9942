import Tokenizer

/// The text codec of a real model: a byte-level BPE tokenizer plus its chat template.
///
/// A response ends with the template's end-of-turn token when the vocabulary has one (so the
/// policy learns to close its turn as chat models do), else with the tokenizer's EOS.
public struct TokenizerCodec: TextCodec, Sendable {
    /// The tokenizer.
    public let tokenizer: BPETokenizer
    /// How prompts are rendered.
    public let template: ChatTemplate
    public let eos: Int32
    public let pad: Int32

    /// Fails when the vocabulary has neither an end-of-turn token nor an EOS to close responses.
    public init(tokenizer: BPETokenizer, template: ChatTemplate) throws {
        guard let eos = tokenizer.id(of: template.endOfTurn) ?? tokenizer.eos else {
            throw TokenizerCodecError(problem: "the tokenizer has neither '\(template.endOfTurn)' nor an EOS token to close responses")
        }
        self.tokenizer = tokenizer
        self.template = template
        self.eos = eos
        self.pad = tokenizer.pad ?? eos
    }

    public func encode(_ text: String) -> [Int32] { tokenizer.encode(text, allowSpecial: false) }

    public func decode(_ ids: [Int32]) -> String {
        tokenizer.decode(ids.filter { $0 != eos && $0 != pad })
    }

    public func promptTokens(_ p: Prompt) -> [Int32] {
        let text = template.render(p.messages.map { (role: $0.role, content: $0.content) }, addGenerationPrompt: true)
        return tokenizer.encode(text, allowSpecial: true)
    }
}

/// A tokenizer that cannot serve as a policy's codec.
public struct TokenizerCodecError: Error, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}
