import Foundation

/// Word counting as `instructions_util.count_words`: NLTK's `RegexpTokenizer(r"\w+")`, Python's `\w`.
enum IFEvalText {
    static func countWords(_ s: String) -> Int {
        var n = 0
        var inWord = false
        for u in s.unicodeScalars {
            let w = PyStr.isWord(u)
            if w && !inWord { n += 1 }
            inWord = w
        }
        return n
    }
}

/// `json.loads` accepts the text (Python's C scanner, `strict=True`): any top-level value, `NaN` and
/// `Infinity`, lone surrogate escapes; no control characters inside strings, no trailing commas, and
/// only `[ \t\n\r]` as whitespace. Foundation's parser differs on several of these, so this one is ours.
enum IFEvalJSON {
    static func isValid(_ text: String) -> Bool {
        let s = Array(text.unicodeScalars)
        if s.first == "\u{FEFF}" { return false }
        var p = Parser(s: s)
        p.skipSpace()
        guard p.value(depth: 0) else { return false }
        p.skipSpace()
        return p.i == s.count
    }

    private struct Parser {
        let s: [Unicode.Scalar]
        var i = 0

        mutating func skipSpace() {
            while i < s.count, [" ", "\t", "\n", "\r"].contains(s[i]) { i += 1 }
        }

        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.unicodeScalars)
            guard i + w.count <= s.count, Array(s[i..<i + w.count]) == w else { return false }
            i += w.count
            return true
        }

        /// Python raises RecursionError (not ValueError) past about a thousand levels; refuse those too.
        mutating func value(depth: Int) -> Bool {
            guard i < s.count, depth < 900 else { return false }
            switch s[i] {
            case "\"": return string()
            case "{": return object(depth: depth)
            case "[": return array(depth: depth)
            case "n": return literal("null")
            case "t": return literal("true")
            case "f": return literal("false")
            case "N": return literal("NaN")
            case "I": return literal("Infinity")
            case "-" where i + 1 < s.count && s[i + 1] == "I": return literal("-Infinity")
            default: return number()
            }
        }

        mutating func digits() -> Int {
            let start = i
            while i < s.count, ("0"..."9").contains(s[i]) { i += 1 }
            return i - start
        }

        /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`, fraction and exponent taken only when complete.
        mutating func number() -> Bool {
            if i < s.count, s[i] == "-" { i += 1 }
            guard i < s.count, ("0"..."9").contains(s[i]) else { return false }
            if s[i] == "0" { i += 1 } else { _ = digits() }
            if i + 1 < s.count, s[i] == ".", ("0"..."9").contains(s[i + 1]) { i += 1; _ = digits() }
            if i < s.count, s[i] == "e" || s[i] == "E" {
                var j = i + 1
                if j < s.count, s[j] == "+" || s[j] == "-" { j += 1 }
                if j < s.count, ("0"..."9").contains(s[j]) { i = j; _ = digits() }
            }
            return true
        }

        mutating func string() -> Bool {
            i += 1
            while i < s.count {
                let c = s[i]
                i += 1
                if c == "\"" { return true }
                if c.value < 0x20 { return false }
                if c == "\\" {
                    guard i < s.count else { return false }
                    let e = s[i]
                    i += 1
                    if "\"\\/bfnrt".unicodeScalars.contains(e) { continue }
                    guard e == "u", i + 4 <= s.count, s[i..<i + 4].allSatisfy({ $0.properties.isASCIIHexDigit }) else { return false }
                    i += 4
                }
            }
            return false
        }

        mutating func object(depth: Int) -> Bool {
            i += 1
            skipSpace()
            if i < s.count, s[i] == "}" { i += 1; return true }
            while true {
                guard i < s.count, s[i] == "\"", string() else { return false }
                skipSpace()
                guard i < s.count, s[i] == ":" else { return false }
                i += 1
                skipSpace()
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                guard i < s.count else { return false }
                if s[i] == "}" { i += 1; return true }
                guard s[i] == "," else { return false }
                i += 1
                skipSpace()
            }
        }

        mutating func array(depth: Int) -> Bool {
            i += 1
            skipSpace()
            if i < s.count, s[i] == "]" { i += 1; return true }
            while true {
                guard value(depth: depth + 1) else { return false }
                skipSpace()
                guard i < s.count else { return false }
                if s[i] == "]" { i += 1; return true }
                guard s[i] == "," else { return false }
                i += 1
                skipSpace()
            }
        }
    }
}
