import Foundation

/// Renders a conversation to the text a chat model was trained on.
///
/// Each message becomes `messagePrefix` (with `{role}` replaced by the role) + content + `messageSuffix`;
/// `generationPrompt` is appended when the model is to answer next. The template's markers are
/// special tokens, so encoding the rendered text maps them to their ids.
public struct ChatTemplate: Sendable, Codable, Equatable {
    /// Template name, for logs and configs.
    public var name: String
    /// Text before each message's content; `{role}` is replaced by the message's role.
    public var messagePrefix: String
    /// Text after each message's content.
    public var messageSuffix: String
    /// Text that opens the assistant's turn (added when `addGenerationPrompt` is true).
    public var generationPrompt: String
    /// A system message inserted first when the conversation does not start with one (SmolLM2's template does this).
    public var defaultSystemPrompt: String?
    /// The special token that ends a turn: generation stops on it.
    public var endOfTurn: String
    /// The special tokens the template writes; a tokenizer trained for it needs all of them.
    public var specialTokens: [String]

    public init(name: String, messagePrefix: String, messageSuffix: String, generationPrompt: String,
                defaultSystemPrompt: String? = nil, endOfTurn: String, specialTokens: [String]) {
        self.name = name
        self.messagePrefix = messagePrefix
        self.messageSuffix = messageSuffix
        self.generationPrompt = generationPrompt
        self.defaultSystemPrompt = defaultSystemPrompt
        self.endOfTurn = endOfTurn
        self.specialTokens = specialTokens
    }

    /// ChatML: `<|im_start|>role\ncontent<|im_end|>\n` (SmolLM2's format, without its default system prompt).
    public static let chatML = ChatTemplate(
        name: "chatml", messagePrefix: "<|im_start|>{role}\n", messageSuffix: "<|im_end|>\n",
        generationPrompt: "<|im_start|>assistant\n", endOfTurn: "<|im_end|>",
        specialTokens: ["<|im_start|>", "<|im_end|>"])

    /// SmolLM2-Instruct's own template: ChatML plus its default system prompt, exactly as in its GGUF.
    public static let smolLM2 = ChatTemplate(
        name: "smollm2", messagePrefix: "<|im_start|>{role}\n", messageSuffix: "<|im_end|>\n",
        generationPrompt: "<|im_start|>assistant\n",
        defaultSystemPrompt: "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        endOfTurn: "<|im_end|>", specialTokens: ["<|im_start|>", "<|im_end|>"])

    /// For tiny from-scratch models: `<|user|>\ncontent<|end|>\n`, answer opened by `<|assistant|>\n`.
    public static let simple = ChatTemplate(
        name: "simple", messagePrefix: "<|{role}|>\n", messageSuffix: "<|end|>\n",
        generationPrompt: "<|assistant|>\n", endOfTurn: "<|end|>",
        specialTokens: ["<|system|>", "<|user|>", "<|assistant|>", "<|end|>"])

    /// The built-in templates by name.
    public static let builtIn: [String: ChatTemplate] = ["chatml": .chatML, "smollm2": .smolLM2, "simple": .simple]

    /// The text of `messages`, optionally opening the assistant's reply.
    public func render(_ messages: [(role: String, content: String)], addGenerationPrompt: Bool) -> String {
        var out = ""
        if let system = defaultSystemPrompt, messages.first?.role != "system" {
            out += turn(role: "system", content: system)
        }
        for m in messages { out += turn(role: m.role, content: m.content) }
        if addGenerationPrompt { out += generationPrompt }
        return out
    }

    private func turn(role: String, content: String) -> String {
        messagePrefix.replacingOccurrences(of: "{role}", with: role) + content + messageSuffix
    }

    /// The built-in template a GGUF/HF Jinja chat template corresponds to, or nil when none does.
    ///
    /// Only recognises ChatML-shaped templates (with or without SmolLM2's default system prompt);
    /// no Jinja is evaluated.
    public static func matching(jinja: String) -> ChatTemplate? {
        guard jinja.contains("<|im_start|>"), jinja.contains("<|im_end|>") else { return nil }
        if let system = smolLM2.defaultSystemPrompt, jinja.contains(system) { return .smolLM2 }
        return .chatML
    }
}
