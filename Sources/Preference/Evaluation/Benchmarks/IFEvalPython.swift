import Foundation

// The reference checker is Python: its verdicts hang on Python's `str` methods and `re` semantics.
// This file reproduces the ones it uses, so every other IFEval file can read like the reference.

/// Python's `str` predicates and transforms, over Unicode scalars (Python indexes code points).
enum PyStr {
    /// `str.isspace()`: bidirectional class WS/B/S or category Zs (includes U+001C…U+001F, unlike ICU `\s`).
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        switch u.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `\w` of a Python `str` pattern: `str.isalnum()` or `_` (letters and numbers; marks are not word characters).
    static func isWord(_ u: Unicode.Scalar) -> Bool {
        if u == "_" { return true }
        switch u.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
             .decimalNumber, .letterNumber, .otherNumber:
            return true
        default:
            return u.properties.numericType != nil
        }
    }

    /// `str.strip()` with no argument.
    static func strip(_ s: String) -> String {
        let v = s.unicodeScalars
        guard let first = v.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = v.lastIndex(where: { !isSpace($0) })!
        return String(v[first...last])
    }

    /// `str.rstrip()` with no argument.
    static func rstrip(_ s: String) -> String {
        let v = s.unicodeScalars
        guard let last = v.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(v[...last])
    }

    /// `str.split()` with no argument: runs of whitespace separate, no empty pieces.
    static func splitWhitespace(_ s: String) -> [String] {
        var out: [String] = []
        var cur = String.UnicodeScalarView()
        for u in s.unicodeScalars {
            if isSpace(u) {
                if !cur.isEmpty { out.append(String(cur)); cur = String.UnicodeScalarView() }
            } else {
                cur.append(u)
            }
        }
        if !cur.isEmpty { out.append(String(cur)) }
        return out
    }

    /// `str.split(sep)` for a non-empty separator (empty pieces kept).
    static func split(_ s: String, _ sep: String) -> [String] {
        s.components(separatedBy: sep)
    }

    /// `str.isupper()`: at least one cased character and no lowercase or titlecase one.
    static func isUpper(_ s: String) -> Bool { casedOnly(s, upper: true) }

    /// `str.islower()`: at least one cased character and no uppercase or titlecase one.
    static func isLower(_ s: String) -> Bool { casedOnly(s, upper: false) }

    private static func casedOnly(_ s: String, upper: Bool) -> Bool {
        var cased = false
        for u in s.unicodeScalars {
            let p = u.properties
            let title = p.generalCategory == .titlecaseLetter
            if title || (upper ? p.isLowercase : p.isUppercase) { return false }
            if upper ? p.isUppercase : p.isLowercase { cased = true }
        }
        return cased
    }

    /// `str.lower()` (full Unicode lowercase mapping, as Python does).
    static func lower(_ s: String) -> String { s.lowercased() }

    /// `str.startswith` / `endswith` compare code points, not grapheme clusters.
    static func hasPrefix(_ s: String, _ p: String) -> Bool { s.unicodeScalars.starts(with: p.unicodeScalars) }
    static func hasSuffix(_ s: String, _ p: String) -> Bool {
        s.unicodeScalars.reversed().starts(with: p.unicodeScalars.reversed())
    }

    /// `str.removeprefix` / `removesuffix`.
    static func removePrefix(_ s: String, _ p: String) -> String {
        hasPrefix(s, p) ? String(s.unicodeScalars.dropFirst(p.unicodeScalars.count)) : s
    }
    static func removeSuffix(_ s: String, _ p: String) -> String {
        hasSuffix(s, p) && !p.isEmpty ? String(s.unicodeScalars.dropLast(p.unicodeScalars.count)) : s
    }

    /// `str.strip(chars)` for a set of characters.
    static func strip(_ s: String, chars: Set<Unicode.Scalar>) -> String {
        let v = s.unicodeScalars
        guard let first = v.firstIndex(where: { !chars.contains($0) }) else { return "" }
        let last = v.lastIndex(where: { !chars.contains($0) })!
        return String(v[first...last])
    }

    /// Code-point equality (Swift's `==` on String is canonical equivalence; Python's is not).
    static func same(_ a: String, _ b: String) -> Bool { a.unicodeScalars.elementsEqual(b.unicodeScalars) }
}

/// A Python `re` pattern run by ICU. Only `\n` ends a line (Python's `.`, `^`, `$`), and `\s \S \w \W \b`
/// are rewritten to Python's Unicode classes (ICU's `\s` lacks U+001C…U+001F, its `\w` includes marks).
struct PyRegex: @unchecked Sendable {
    let regex: NSRegularExpression

    static let space = "\\t-\\r\\x{1c}-\\x{20}\\x{85}\\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}"
    static let word = "\\p{L}\\p{N}_"

    enum Failure: Error, CustomStringConvertible {
        case invalid(pattern: String, reason: String)
        var description: String {
            switch self {
            case .invalid(let p, let r): return "invalid regular expression \(String(reflecting: p)): \(r)"
            }
        }
    }

    init(_ pattern: String, ignoreCase: Bool = false, multiline: Bool = false, verbose: Bool = false) throws {
        var options: NSRegularExpression.Options = [.useUnixLineSeparators]
        if ignoreCase { options.insert(.caseInsensitive) }
        if multiline { options.insert(.anchorsMatchLines) }
        if verbose { options.insert(.allowCommentsAndWhitespace) }
        do {
            regex = try NSRegularExpression(pattern: try PyRegex.translate(pattern), options: options)
        } catch let e as Failure {
            throw e
        } catch {
            throw Failure.invalid(pattern: pattern, reason: "\(error)")
        }
    }

    /// For the checker's own patterns, which are known to compile.
    init(fixed pattern: String, ignoreCase: Bool = false, multiline: Bool = false, verbose: Bool = false) {
        do { try self.init(pattern, ignoreCase: ignoreCase, multiline: multiline, verbose: verbose) } catch {
            preconditionFailure("IFEval: built-in pattern does not compile: \(error)")
        }
    }

    /// Rewrites Python class escapes to explicit ICU sets and escapes what ICU reads as set syntax
    /// inside a class (`[`, `&`, `$`, `{`, ...); Python reads those literally. Other escapes pass through.
    static func translate(_ p: String) throws -> String {
        let cs = Array(p)
        var out = ""
        var inClass = false
        var i = 0
        while i < cs.count {
            let c = cs[i]
            i += 1
            if c == "\\" {
                guard i < cs.count else { throw Failure.invalid(pattern: p, reason: "trailing backslash") }
                let e = cs[i]
                i += 1
                switch (e, inClass) {
                case ("s", false): out += "[\(space)]"
                case ("S", false): out += "[^\(space)]"
                case ("w", false): out += "[\(word)]"
                case ("W", false): out += "[^\(word)]"
                case ("b", false): out += "(?:(?<=[\(word)])(?![\(word)])|(?<![\(word)])(?=[\(word)]))"
                case ("s", true): out += space
                case ("w", true): out += word
                case ("S", true), ("W", true), ("b", true):
                    throw Failure.invalid(pattern: p, reason: "\\\(e) inside a character class is not supported")
                default:
                    out += "\\\(e)"
                    // `\p{L}`, `\x{ab}`: the braces belong to the escape, not to a set.
                    if "pPx".contains(e), i < cs.count, cs[i] == "{", let close = cs[i...].firstIndex(of: "}") {
                        out += String(cs[i...close])
                        i = close + 1
                    }
                }
                continue
            }
            if !inClass {
                out.append(c)
                if c == "[" {
                    inClass = true
                    if i < cs.count, cs[i] == "^" { out.append("^"); i += 1 }
                    if i < cs.count, cs[i] == "]" { out += "\\]"; i += 1 }
                }
                continue
            }
            if c == "]" {
                inClass = false
                out.append(c)
            } else if c.isASCII, !c.isLetter, !c.isNumber, c != "-" {
                out += "\\\(c)"
            } else {
                out.append(c)
            }
        }
        return out
    }

    private func ns(_ s: String) -> NSString { s as NSString }

    func matches(_ s: String) -> [NSTextCheckingResult] {
        regex.matches(in: s, range: NSRange(location: 0, length: ns(s).length))
    }

    /// `re.findall` when only the number of matches matters.
    func count(_ s: String) -> Int { regex.numberOfMatches(in: s, range: NSRange(location: 0, length: ns(s).length)) }

    /// `re.search(...) is not None`.
    func search(_ s: String) -> Bool { regex.firstMatch(in: s, range: NSRange(location: 0, length: ns(s).length)) != nil }

    /// `re.findall` of the whole match (patterns without groups).
    func findAll(_ s: String) -> [String] {
        let n = ns(s)
        return matches(s).map { n.substring(with: $0.range) }
    }

    /// `re.sub` with a template written ICU-style (`$1`, `$0`).
    func sub(_ template: String, _ s: String) -> String {
        regex.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: ns(s).length), withTemplate: template)
    }

    /// `re.split` for a pattern without groups that never matches the empty string.
    func split(_ s: String) -> [String] {
        let n = ns(s)
        var pieces: [String] = []
        var start = 0
        for m in matches(s) {
            pieces.append(n.substring(with: NSRange(location: start, length: m.range.location - start)))
            start = m.range.location + m.range.length
        }
        pieces.append(n.substring(from: start))
        return pieces
    }
}
