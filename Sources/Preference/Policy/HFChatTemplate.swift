import Tokenizer

/// Chat templates as Hugging Face tokenizers carry them (a Jinja `chat_template`).
///
/// Writing: `jinja(_:)` renders a `ChatTemplate` as Jinja that `tokenizer.apply_chat_template` turns
/// into exactly the text `ChatTemplate.render` makes. Reading: PrefLab does not run Jinja, so a
/// folder's template is recognised by its source, compared with the known formats' sources after
/// dropping the whitespace inside `{{ }}` and `{% %}` tags (which never reaches the output); an
/// unknown source is an error, and the stage's `chat_format:` names the format instead.
public enum HFChatTemplate {
    /// The formats `chat_format:` can name: PrefLab's own templates plus `zephyr`, the `<|user|>`
    /// style HuggingFaceH4/zephyr uses (every turn closed by the tokenizer's EOS, here `</s>`).
    public static let formats: [String: ChatTemplate] = ChatTemplate.builtIn.merging(["zephyr": zephyr(eos: "</s>")]) { a, _ in a }

    /// The `<|user|>` style closed by `eos` (`<|user|>\ncontent</s>\n`, answer opened by `<|assistant|>\n`).
    public static func zephyr(eos: String) -> ChatTemplate {
        ChatTemplate(name: "zephyr", messagePrefix: "<|{role}|>\n", messageSuffix: eos + "\n", generationPrompt: "<|assistant|>\n",
                     endOfTurn: eos, specialTokens: ["<|system|>", "<|user|>", "<|assistant|>", eos])
    }

    /// Jinja whose rendering is `template.render(messages, addGenerationPrompt:)`: the default system
    /// turn when the first message is not a system one, each message as prefix + content + suffix,
    /// then the generation prompt when asked for.
    public static func jinja(_ template: ChatTemplate) -> String {
        let parts = template.messagePrefix.components(separatedBy: "{role}")
        let head = literal(parts[0])
        let role = parts.count > 1 ? " + message['role'] + " + literal(parts.dropFirst().joined(separator: "{role}")) : ""
        var out = ""
        if let system = template.defaultSystemPrompt {
            let turn = template.messagePrefix.replacingOccurrences(of: "{role}", with: "system") + system + template.messageSuffix
            out += "{% if not messages or messages[0]['role'] != 'system' %}{{ \(literal(turn)) }}{% endif %}"
        }
        out += "{% for message in messages %}{{ \(head)\(role) + message['content'] + \(literal(template.messageSuffix)) }}{% endfor %}"
        out += "{% if add_generation_prompt %}{{ \(literal(template.generationPrompt)) }}{% endif %}"
        return out
    }

    /// A Jinja string literal (Jinja unescapes backslash sequences as Python does).
    static func literal(_ s: String) -> String {
        var out = "'"
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "'": out += "\\'"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += "\\x" + (u.value < 0x10 ? "0" : "") + String(u.value, radix: 16)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "'"
    }

    /// Released templates, verbatim, and what they render. `{eos}` stands for the tokenizer's EOS token.
    static let released: [(source: String, format: String)] = [
        // SmolLM2-Instruct (tokenizer_config.json and its GGUF).
        ("{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", "smollm2"),
        // ChatML as the transformers chat-template documentation writes it.
        ("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", "chatml"),
        // HuggingFaceH4/zephyr-7b-beta.
        ("{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}", "zephyr"),
    ]

    /// The format a template source renders, or nil when it is not a known one. `eosToken` is the
    /// tokenizer's EOS (templates that write `eos_token` depend on it).
    public static func recognise(_ source: String, eosToken: String?) -> ChatTemplate? {
        let key = canonical(source)
        for name in ChatTemplate.builtIn.keys.sorted() where canonical(jinja(ChatTemplate.builtIn[name]!)) == key {
            return ChatTemplate.builtIn[name]
        }
        for known in released where canonical(known.source) == key {
            if known.format == "zephyr" { return eosToken.map(zephyr(eos:)) }
            return formats[known.format]
        }
        return nil
    }

    /// `source` without whitespace inside tags outside string literals, and trimmed: two sources with
    /// the same canonical form render the same text.
    static func canonical(_ source: String) -> String {
        var out = "", inTag = false, quote: Character? = nil, escaped = false
        let chars = Array(source.trimmingCharacters(in: .whitespacesAndNewlines))
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if !inTag {
                if c == "{", i + 1 < chars.count, chars[i + 1] == "{" || chars[i + 1] == "%" { inTag = true }
                out.append(c)
            } else if let q = quote {
                out.append(c)
                if escaped { escaped = false } else if c == "\\" { escaped = true } else if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
                out.append(c)
            } else if (c == "}" || c == "%"), i + 1 < chars.count, chars[i + 1] == "}" {
                out.append(c)
                out.append("}")
                inTag = false
                i += 1
            } else if !c.isWhitespace {
                out.append(c)
            }
            i += 1
        }
        return out
    }
}
