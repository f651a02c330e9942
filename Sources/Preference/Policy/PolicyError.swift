/// Errors raised while turning text into model inputs or running a trainer.
public enum PolicyError: Error, CustomStringConvertible, Equatable {
    /// A prompt rendered to zero tokens, so no response token has a context.
    case emptyPrompt(index: Int)
    /// A model with the wrong head was passed (e.g. a reward model where a policy was expected).
    case wrongHead(role: String, expected: String)
    /// The model's window cannot hold even one prompt token plus one response token.
    case windowTooSmall(maxSeqLen: Int, needed: Int)
    /// The tokenizer lacks the token that must end every response.
    case missingSpecialToken(String)

    public var description: String {
        switch self {
        case .emptyPrompt(let i):
            return "prompt #\(i) renders to no tokens; the chat template must produce at least one token"
        case let .wrongHead(role, expected):
            return "the \(role) model must have a \(expected) head"
        case let .windowTooSmall(m, n):
            return "model maxSeqLen \(m) is too small: at least \(n) tokens are needed"
        case .missingSpecialToken(let t):
            return "the tokenizer has no id for the chat template's end-of-turn token '\(t)' and no EOS token"
        }
    }
}
