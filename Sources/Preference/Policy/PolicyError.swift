/// Errors raised while turning text into model inputs or running a trainer.
public enum PolicyError: Error, CustomStringConvertible, Equatable {
    /// A prompt rendered to zero tokens, so no response token has a context.
    case emptyPrompt(index: Int)
    /// A model with the wrong head was passed (e.g. a reward model where a policy was expected).
    case wrongHead(role: String, expected: String)
    /// The model's window cannot hold even one prompt token plus one response token.
    case windowTooSmall(maxSeqLen: Int, needed: Int)

    public var description: String {
        switch self {
        case .emptyPrompt(let i):
            return "prompt #\(i) renders to no tokens; the chat template must produce at least one token"
        case let .wrongHead(role, expected):
            return "the \(role) model must have a \(expected) head"
        case let .windowTooSmall(m, n):
            return "model maxSeqLen \(m) is too small: at least \(n) tokens are needed"
        }
    }
}
