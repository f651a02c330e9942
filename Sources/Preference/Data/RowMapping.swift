import Foundation
import DataSpecs

/// A row-level problem found while mapping fields.
struct DataRowError: Error {
    var reason: SkipReason
    var message: String
    init(_ reason: SkipReason, _ message: String) {
        self.reason = reason
        self.message = message
    }
}

/// Field access and conversion from records to prompts, responses and scores.
enum DataRowMapping {
    /// The value at a dotted path (`a.b.0.c`); list items by 0-based index.
    static func value(_ record: [String: Any], _ path: String) -> Any? {
        if let direct = record[path] { return direct }  // CSV headers and keys with dots
        var cur: Any? = record
        for part in path.split(separator: ".", omittingEmptySubsequences: false) {
            if let d = cur as? [String: Any] {
                cur = d[String(part)]
            } else if let l = cur as? [Any], let i = Int(part), l.indices.contains(i) {
                cur = l[i]
            } else {
                return nil
            }
        }
        return cur
    }

    static func require(_ record: [String: Any], _ path: String) throws -> Any {
        guard let v = value(record, path) else { throw DataRowError(.missingField, "missing field '\(path)'") }
        return v
    }

    static func string(_ record: [String: Any], _ path: String) throws -> String {
        let v = try require(record, path)
        guard let s = v as? String else {
            throw DataRowError(.wrongType, "field '\(path)' should be a string, found \(dataJSONTypeName(v))")
        }
        return s
    }

    /// A prompt from a string (one user turn) or a list of `{role, content}` messages.
    static func prompt(_ record: [String: Any], _ path: String) throws -> Prompt {
        let v = try require(record, path)
        if let s = v as? String {
            // An HH-style prompt string ("\n\nHuman: …\n\nAssistant:") becomes its turns.
            if s.hasPrefix(HHDialogue.human) {
                let body = s.hasSuffix(HHDialogue.assistant) ? String(s.dropLast(HHDialogue.assistant.count)) : s
                if let turns = try? HHDialogue.parseTurns(body) { return Prompt(messages: turns) }
            }
            return Prompt(s.dataTrimmed)
        }
        if v is [Any] {
            let msgs = try messages(v, path)
            // A conversation ending in an assistant turn is a prompt plus response: keep the prompt.
            if let last = msgs.last, last.role == "assistant" { return Prompt(messages: Array(msgs.dropLast())) }
            return Prompt(messages: msgs)
        }
        throw DataRowError(.wrongType, "field '\(path)' should be a string or a list of messages, found \(dataJSONTypeName(v))")
    }

    /// A response from a string, or the last assistant turn of a message list.
    static func response(_ record: [String: Any], _ path: String) throws -> String {
        let v = try require(record, path)
        if let s = v as? String { return s.dataTrimmed }
        if v is [Any] {
            let msgs = try messages(v, path)
            guard let last = msgs.last(where: { $0.role == "assistant" }) else {
                throw DataRowError(.badDialogue, "field '\(path)' has no assistant turn")
            }
            return last.content
        }
        throw DataRowError(.wrongType, "field '\(path)' should be a string or a list of messages, found \(dataJSONTypeName(v))")
    }

    /// `{role, content}` messages; roles `human`/`gpt`/`bot` are read as user/assistant.
    static func messages(_ v: Any, _ path: String) throws -> [ChatMessage] {
        guard let list = v as? [Any] else {
            throw DataRowError(.wrongType, "field '\(path)' should be a list of messages, found \(dataJSONTypeName(v))")
        }
        return try list.enumerated().map { i, item in
            guard let m = item as? [String: Any] else {
                throw DataRowError(.wrongType, "message \(i) of '\(path)' should be an object, found \(dataJSONTypeName(item))")
            }
            guard let role = m["role"] as? String, let content = m["content"] as? String else {
                throw DataRowError(.wrongType, "message \(i) of '\(path)' needs string 'role' and 'content'")
            }
            let r = role.lowercased()
            let mapped = ["human": "user", "gpt": "assistant", "bot": "assistant"][r] ?? r
            return ChatMessage(role: mapped, content: content.dataTrimmed)
        }
    }

    /// A score: number, numeric string, or a value looked up in `scoreMap`; nil means unscored (null).
    static func score(_ record: [String: Any], _ path: String, _ scoreMap: [String: Double]?) throws -> Double? {
        let v = try require(record, path)
        if let map = scoreMap { return try mapped(v, path, map, what: "score") }
        if v is NSNull { return nil }
        if let s = v as? String {
            let t = s.trimmingCharacters(in: .whitespaces)
            if let d = Double(t), d.isFinite { return d }
            if ["", "n/a", "na", "null", "none"].contains(t.lowercased()) { return nil }
            throw DataRowError(.badScore, "score '\(s)' in '\(path)' is not a number")
        }
        if let n = v as? NSNumber, String(cString: n.objCType) != "c" { return n.doubleValue }
        throw DataRowError(.wrongType, "score '\(path)' should be a number, found \(dataJSONTypeName(v))")
    }

    /// `fields.label` read through `score_map`: positive keeps the pair as mapped, negative swaps it, 0 is a
    /// tie; nil (null, unless the map names it) is unscored.
    static func label(_ record: [String: Any], _ path: String, _ scoreMap: [String: Double]) throws -> Double? {
        try mapped(try require(record, path), path, scoreMap, what: "label")
    }

    /// A raw value looked up in a `score_map`. Numbers and numeric strings compare by value (`1`, `"1"`,
    /// `1.0` and `"1.0"` all match the key `1`), booleans match `true`/`false`, null matches `null` or is
    /// unscored; a list or object is `wrong_type`, any other value missing from the map `bad_score`.
    static func mapped(_ v: Any, _ path: String, _ map: [String: Double], what: String) throws -> Double? {
        let key: String
        if let n = v as? NSNumber, String(cString: n.objCType) == "c" {
            key = n.boolValue ? "true" : "false"
        } else if v is String || v is NSNumber || v is NSNull {
            key = mapKey(canonicalKey(v))
        } else {
            throw DataRowError(.wrongType, "\(what) '\(path)' should be a number, string or boolean, found \(dataJSONTypeName(v))")
        }
        if let s = map[key] ?? map.first(where: { mapKey($0.key) == key })?.value { return s }
        if v is NSNull { return nil }
        throw DataRowError(.badScore, "\(what) '\(key)' in '\(path)' is not in score_map (\(map.keys.sorted().joined(separator: ", ")))")
    }

    /// A raw value or `score_map` key as compared: trimmed, numeric text written as `canonicalKey` writes numbers.
    static func mapKey(_ raw: String) -> String {
        let t = raw.trimmingCharacters(in: .whitespaces)
        if let d = Double(t), d.isFinite { return canonicalKey(NSNumber(value: d)) }
        return t
    }

    /// How a raw value is written as a `score_map` key: integral numbers without ".0", null as "null".
    static func canonicalKey(_ v: Any) -> String {
        if v is NSNull { return "null" }
        if let s = v as? String { return s }
        if let n = v as? NSNumber {
            let d = n.doubleValue
            if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
            return String(d)
        }
        return "\(v)"
    }
}

extension String {
    /// The text without leading and trailing whitespace (zero-width space included, as Foundation's
    /// whitespace set has it); walks only the ends, unlike `trimmingCharacters(in:)` on Linux.
    var dataTrimmed: String {
        let u = unicodeScalars
        func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace || c == "\u{200B}" }
        guard let first = u.firstIndex(where: { !isSpace($0) }), let last = u.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(u[first...last])
    }
}
