// The trainers' settings (Hyperparameters) and the dataset catalogue's entries (DataSpecs) are compute-free
// targets the stage catalogue reads too; users of Preference see them as before.
@_exported import Hyperparameters
@_exported import DataSpecs

/// One turn of a conversation.
public struct ChatMessage: Codable, Hashable, Sendable {
    /// `system`, `user` or `assistant`.
    public var role: String
    /// The turn's text.
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A prompt: the conversation so far, ending with a user turn.
public struct Prompt: Codable, Hashable, Sendable {
    /// The turns; a single-turn prompt is one `user` message.
    public var messages: [ChatMessage]
    /// Where the prompt came from (dataset or task name, category); used for mixes and per-category scores.
    public var source: String?

    public init(messages: [ChatMessage], source: String? = nil) {
        self.messages = messages
        self.source = source
    }

    /// A single-turn prompt.
    public init(_ text: String, source: String? = nil) {
        self.init(messages: [ChatMessage(role: "user", content: text)], source: source)
    }

    /// The last user turn's text (what single-turn tasks score against).
    public var lastUserText: String { messages.last(where: { $0.role == "user" })?.content ?? "" }
}

/// A binary preference: for `prompt`, `chosen` is preferred over `rejected`.
public struct PreferencePair: Codable, Hashable, Sendable {
    public var prompt: Prompt
    /// The preferred response.
    public var chosen: String
    /// The dispreferred response.
    public var rejected: String
    /// Optional margin or scores the labeller attached (e.g. gold reward gap); never used to train DPO.
    public var margin: Double?

    public init(prompt: Prompt, chosen: String, rejected: String, margin: Double? = nil) {
        self.prompt = prompt
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }
}
