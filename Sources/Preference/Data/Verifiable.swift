import Foundation
import DataSpecs

/// A prompt with a reference answer that a response can be checked against (GSM8K).
public struct VerifiableItem: Codable, Hashable, Sendable {
    /// The question as a prompt.
    public var prompt: Prompt
    /// The checkable final answer, normalized (GSM8K: the number after `####`, e.g. "18").
    public var answer: String
    /// The full reference solution, when the data has one.
    public var reference: String?

    public init(prompt: Prompt, answer: String, reference: String? = nil) {
        self.prompt = prompt
        self.answer = answer
        self.reference = reference
    }
}

/// GSM8K answers: references end with `#### <number>`; responses are read the paper's way
/// (Unpacking, App. D): the number after `####` when present, else the last number in the text.
public enum GSM8K {
    /// The normalized number after the last `####` of a reference solution.
    public static func referenceAnswer(_ solution: String) -> String? {
        guard let r = solution.range(of: "####", options: .backwards) else { return nil }
        return normalize(String(solution[r.upperBound...]))
    }

    /// The answer a response gives: after `####` when present, else its last number.
    public static func extractAnswer(from response: String) -> String? {
        if let r = response.range(of: "####", options: .backwards),
           let n = lastNumber(in: String(response[r.upperBound...]).split(separator: "\n").first.map(String.init) ?? "") {
            return n
        }
        return lastNumber(in: response)
    }

    /// Whether `response` arrives at `answer` (both normalized as numbers).
    public static func isCorrect(response: String, answer: String) -> Bool {
        guard let got = extractAnswer(from: response), let want = normalize(answer) else { return false }
        return got == want
    }

    /// A number written with optional sign, `$`, thousands commas, decimals: canonical text or nil.
    public static func normalize(_ text: String) -> String? {
        var s = text.trimmingCharacters(in: .whitespacesAndNewlines)
        s = s.replacingOccurrences(of: ",", with: "").replacingOccurrences(of: "$", with: "")
        while s.hasSuffix(".") { s.removeLast() }
        guard let v = Double(s), v.isFinite else { return nil }
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return String(v)
    }

    /// The last number-looking token (digits with optional sign, commas, one decimal point).
    static func lastNumber(in text: String) -> String? {
        let chars = Array(text)
        var i = chars.count - 1
        while i >= 0 {
            if chars[i].isASCII, chars[i].isNumber {
                var j = i
                while j > 0, chars[j - 1].isASCII, chars[j - 1].isNumber || chars[j - 1] == "," || chars[j - 1] == "." { j -= 1 }
                if j > 0, chars[j - 1] == "-" { j -= 1 }
                var token = String(chars[j...i])
                while token.hasPrefix(",") || token.hasPrefix(".") { token.removeFirst() }
                if let n = normalize(token) { return n }
                i = j - 1
            } else {
                i -= 1
            }
        }
        return nil
    }
}

extension AnswerFormat {
    /// The checkable answer from a reference field, or nil when it has none.
    public func referenceAnswer(_ text: String) -> String? {
        switch self {
        case .gsm8k: return GSM8K.referenceAnswer(text)
        case .exact:
            let t = text.trimmingCharacters(in: .whitespacesAndNewlines)
            return t.isEmpty ? nil : t
        }
    }

    /// Whether `response` gives `answer`.
    public func isCorrect(response: String, answer: String) -> Bool {
        switch self {
        case .gsm8k: return GSM8K.isCorrect(response: response, answer: answer)
        case .exact: return response.trimmingCharacters(in: .whitespacesAndNewlines) == answer
        }
    }
}
