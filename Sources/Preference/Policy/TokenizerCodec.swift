import Foundation
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

    /// The template's markers as special tokens and each message's content as plain text, so that
    /// special-token strings inside user data stay text; then the generation prompt.
    public func promptTokens(_ p: Prompt) -> [Int32] {
        var out: [Int32] = []
        func turn(_ role: String, _ content: String) {
            out += tokenizer.encode(template.messagePrefix.replacingOccurrences(of: "{role}", with: role), allowSpecial: true)
            out += encode(content)
            out += tokenizer.encode(template.messageSuffix, allowSpecial: true)
        }
        if let system = template.defaultSystemPrompt, p.messages.first?.role != "system" { turn("system", system) }
        for m in p.messages { turn(m.role, m.content) }
        return out + tokenizer.encode(template.generationPrompt, allowSpecial: true)
    }
}

/// A tokenizer that cannot serve as a policy's codec.
public struct TokenizerCodecError: Error, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}
