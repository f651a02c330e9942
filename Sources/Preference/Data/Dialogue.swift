import Foundation

/// Full dialogues stored whole, as HH-RLHF does: chosen and rejected share everything up to the
/// last assistant turn, and differ only in that turn.
enum HHDialogue {
    static let human = "\n\nHuman:"
    static let assistant = "\n\nAssistant:"

    /// Splits a chosen/rejected pair of full dialogues into (prompt, chosen response, rejected response).
    static func split(chosen: Any, rejected: Any, chosenPath: String, rejectedPath: String) throws
        -> (Prompt, String, String) {
        if let c = chosen as? String, let r = rejected as? String { return try splitHH(c, r) }
        if chosen is [Any], rejected is [Any] {
            let c = try DataRowMapping.messages(chosen, chosenPath)
            let r = try DataRowMapping.messages(rejected, rejectedPath)
            guard let cl = c.last, cl.role == "assistant", let rl = r.last, rl.role == "assistant" else {
                throw DataRowError(.badDialogue, "'\(chosenPath)' and '\(rejectedPath)' must both end with an assistant turn")
            }
            guard Array(c.dropLast()) == Array(r.dropLast()) else {
                throw DataRowError(.badDialogue, "chosen and rejected dialogues differ before their last assistant turn")
            }
            return (Prompt(messages: Array(c.dropLast())), cl.content, rl.content)
        }
        throw DataRowError(.wrongType, "'\(chosenPath)' and '\(rejectedPath)' should both be dialogue strings or both message lists, "
            + "found \(dataJSONTypeName(chosen)) and \(dataJSONTypeName(rejected))")
    }

    /// The HH split: the prompt is the longest shared text up to (and including) the last
    /// "\n\nAssistant:" marker both share; the rest of each is its response. Responses that
    /// themselves contain "\n\nHuman:" (the model ran on) stay whole.
    static func splitHH(_ chosen: String, _ rejected: String) throws -> (Prompt, String, String) {
        let c = Array(chosen.utf8), r = Array(rejected.utf8)
        var n = 0
        while n < c.count && n < r.count && c[n] == r[n] { n += 1 }
        let marker = Array(assistant.utf8)
        var cut: Int?
        var i = n - marker.count
        while i >= 0 {
            if c[i..<(i + marker.count)].elementsEqual(marker) { cut = i + marker.count; break }
            i -= 1
        }
        guard let cut else {
            throw DataRowError(.badDialogue, "chosen and rejected share no '\\n\\nAssistant:' turn; expected HH-style dialogues")
        }
        let promptText = String(decoding: c[0..<cut], as: UTF8.self)
        let msgs = try parseTurns(String(promptText.dropLast(assistant.count)))
        let trim: (ArraySlice<UInt8>) -> String = {
            String(decoding: $0, as: UTF8.self).dataTrimmed
        }
        return (Prompt(messages: msgs), trim(c[cut...]), trim(r[cut...]))
    }

    /// "\n\nHuman: a\n\nAssistant: b\n\nHuman: c" → user/assistant/user messages.
    static func parseTurns(_ text: String) throws -> [ChatMessage] {
        var msgs: [ChatMessage] = []
        var rest = Substring(text)
        guard rest.hasPrefix(human) || rest.hasPrefix(human.dropFirst(2)) else {
            throw DataRowError(.badDialogue, "the dialogue should start with 'Human:'")
        }
        while !rest.isEmpty {
            let role: String
            if rest.hasPrefix(human) { role = "user"; rest = rest.dropFirst(human.count) }
            else if rest.hasPrefix(assistant) { role = "assistant"; rest = rest.dropFirst(assistant.count) }
            else if rest.hasPrefix(human.dropFirst(2)) && msgs.isEmpty { role = "user"; rest = rest.dropFirst(human.count - 2) }
            else { throw DataRowError(.badDialogue, "unexpected text between turns") }
            let nextH = rest.range(of: human)?.lowerBound ?? rest.endIndex
            let nextA = rest.range(of: assistant)?.lowerBound ?? rest.endIndex
            let end = min(nextH, nextA)
            msgs.append(ChatMessage(role: role, content: String(rest[..<end]).dataTrimmed))
            rest = rest[end...]
        }
        guard msgs.last?.role == "user" else {
            throw DataRowError(.badDialogue, "the shared prompt should end with a Human turn")
        }
        return msgs
    }
}
