import Foundation

/// NLTK 3.9.1's Punkt sentence tokenizer with its pretrained English parameters (`punkt_tab/english`), as the
/// reference's `count_sentences` and `nltk.word_tokenize` use it. Only tokenizing is ported, not training.
/// Positions are UTF-16 offsets into one `NSString`; every slice comes from a match, so they agree with
/// Python's code-point slices.
final class IFEvalPunkt: @unchecked Sendable {
    let abbreviations: Set<String>
    let collocations: Set<String>   // "first\tsecond"
    let starters: Set<String>
    let ortho: [String: Int]

    /// The English model, read once from the committed resource files.
    static let english: IFEvalPunkt = {
        do { return try IFEvalPunkt(directory: IFEvalResources.directory.appendingPathComponent("punkt_english")) } catch {
            preconditionFailure("IFEval: \(error)")
        }
    }()

    init(directory: URL) throws {
        func lines(_ name: String) throws -> [String] {
            let url = directory.appendingPathComponent(name)
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                throw IFEvalError.missingResource(url.path)
            }
            return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        }
        abbreviations = Set(try lines("abbrev_types.txt"))
        collocations = Set(try lines("collocations.tab"))
        starters = Set(try lines("sent_starters.txt"))
        var o: [String: Int] = [:]
        for line in try lines("ortho_context.tab") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2, let n = Int(parts[1]) else { throw IFEvalError.malformedResource(directory.path, line) }
            o[String(parts[0])] = n
        }
        ortho = o
    }

    // PunktLanguageVars for English.
    private static let nonWord = "(?:[)\\\";}\\]\\*:@\\'\\({\\[\\?!])"
    private static let multiChar = "(?:\\-{2,}|\\.{2,}|(?:\\.\\s){2,}\\.)"
    private static let wordStart = "[^\\(\\\"\\`{\\[:;&\\#\\*@\\)}\\]\\-,]"
    private static let wordRE = PyRegex(fixed: "(\(multiChar)|(?=\(wordStart))\\S+?(?=\\s|$|\(nonWord)|\(multiChar)|,(?=$|\\s|\(nonWord)|\(multiChar)))|\\S)")
    private static let periodContext = PyRegex(fixed: "[\\.\\?!](?=(\(nonWord)|\\s+(\\S+)))")
    private static let realignment = PyRegex(fixed: "[\"\\')\\]}]+?(?:\\s+|(?=--)|$)", multiline: true)
    private static let numeric = PyRegex(fixed: "^-?[\\.,]?\\d[\\d,\\.\\-]*\\.?$")
    private static let initialLetter = PyRegex(fixed: "^[\\p{L}\\p{Nl}\\p{No}_]\\.$")

    private static let orthoBegUC = 1 << 1, orthoMidUC = 1 << 2, orthoUnkUC = 1 << 3
    private static let orthoBegLC = 1 << 4, orthoMidLC = 1 << 5, orthoUnkLC = 1 << 6
    private static let orthoUC = orthoBegUC | orthoMidUC | orthoUnkUC
    private static let orthoLC = orthoBegLC | orthoMidLC | orthoUnkLC

    /// `PunktSentenceTokenizer.tokenize(text)` (with boundary realignment).
    func sentences(_ text: String) -> [String] {
        let ns = text as NSString
        return realign(ns, slices(ns)).map { ns.substring(with: NSRange(location: $0.lowerBound, length: $0.count)) }
    }

    // MARK: spans

    private static func isASCIIWhitespace(_ c: unichar) -> Bool { c == 32 || (c >= 9 && c <= 13) }

    /// `_match_potential_end_contexts` + `_slices_from_text`.
    private func slices(_ text: NSString) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var lastBreak = 0
        var prevSlice = 0..<0
        var prevMatch: NSTextCheckingResult?
        func consider(_ m: NSTextCheckingResult, _ slice: Range<Int>) {
            let after = m.range(at: 1)
            let context = text.substring(with: NSRange(location: slice.lowerBound, length: slice.count))
                + text.substring(with: m.range) + text.substring(with: after)
            guard containsSentenceBreak(context) else { return }
            out.append(lastBreak..<(m.range.location + m.range.length))
            let next = m.range(at: 2)
            lastBreak = next.location != NSNotFound && next.length > 0 ? next.location : m.range.location + m.range.length
        }
        for m in IFEvalPunkt.periodContext.matches(text as String) {
            var lastSpace = 0
            var k = m.range.location - 1
            while k >= prevSlice.upperBound {
                if IFEvalPunkt.isASCIIWhitespace(text.character(at: k)) { lastSpace = k - prevSlice.upperBound; break }
                k -= 1
            }
            let wordStart = lastSpace != 0 ? lastSpace + prevSlice.upperBound + 1 : prevSlice.lowerBound
            let wordSlice = wordStart..<max(wordStart, m.range.location)
            if let pm = prevMatch, prevSlice.upperBound <= wordSlice.lowerBound { consider(pm, prevSlice) }
            prevMatch = m
            prevSlice = wordSlice
        }
        if let pm = prevMatch { consider(pm, prevSlice) }
        let end = (PyStr.rstrip(text as String) as NSString).length
        out.append(lastBreak..<max(lastBreak, end))
        return out
    }

    /// `_realign_boundaries`: closing quotes and brackets after a break stay with the sentence before it.
    private func realign(_ text: NSString, _ slices: [Range<Int>]) -> [Range<Int>] {
        var out: [Range<Int>] = []
        var shift = 0
        for (i, s) in slices.enumerated() {
            let s1 = min(s.lowerBound + shift, s.upperBound)..<s.upperBound
            guard i + 1 < slices.count else {
                if !s1.isEmpty { out.append(s1) }
                continue
            }
            let s2 = slices[i + 1]
            let head = text.substring(with: NSRange(location: s2.lowerBound, length: s2.count))
            if let m = IFEvalPunkt.realignment.regex.firstMatch(in: head, options: .anchored,
                                                                range: NSRange(location: 0, length: (head as NSString).length)) {
                let kept = (PyStr.rstrip((head as NSString).substring(with: m.range)) as NSString).length
                out.append(s1.lowerBound..<max(s1.lowerBound, s2.lowerBound + kept))
                shift = m.range.length
            } else {
                shift = 0
                if !s1.isEmpty { out.append(s1) }
            }
        }
        return out
    }

    // MARK: token annotation

    private struct Token {
        let tok: String
        let type: String
        let periodFinal: Bool
        var sentbreak = false
        var abbr = false
        var ellipsis = false

        var typeNoPeriod: String {
            type.unicodeScalars.count > 1 && type.unicodeScalars.last == "." ? String(type.unicodeScalars.dropLast()) : type
        }
        var typeNoSentPeriod: String { sentbreak ? typeNoPeriod : type }
        var firstUpper: Bool { tok.unicodeScalars.first.map { PyStr.isUpper(String($0)) } ?? false }
        var firstLower: Bool { tok.unicodeScalars.first.map { PyStr.isLower(String($0)) } ?? false }
    }

    private func token(_ tok: String) -> Token {
        let lower = PyStr.lower(tok)
        let type = IFEvalPunkt.numeric.search(lower) ? "##number##" : lower
        return Token(tok: tok, type: type, periodFinal: PyStr.hasSuffix(tok, "."))
    }

    /// `text_contains_sentbreak`: some token other than the last ends a sentence.
    private func containsSentenceBreak(_ text: String) -> Bool {
        var toks: [Token] = []
        for line in PyStr.split(text, "\n") where !PyStr.strip(line).isEmpty {
            let ns = line as NSString
            for m in IFEvalPunkt.wordRE.matches(line) { toks.append(token(ns.substring(with: m.range))) }
        }
        for i in toks.indices { firstPass(&toks[i]) }
        for i in toks.indices where i + 1 < toks.count {
            secondPass(&toks[i], toks[i + 1])
            if toks[i].sentbreak { return true }
        }
        return false
    }

    private func firstPass(_ t: inout Token) {
        let tok = t.tok
        if tok == "." || tok == "?" || tok == "!" {
            t.sentbreak = true
        } else if tok.unicodeScalars.count >= 2 && tok.unicodeScalars.allSatisfy({ $0 == "." }) {
            t.ellipsis = true
        } else if t.periodFinal && !PyStr.hasSuffix(tok, "..") {
            let stem = PyStr.lower(String(tok.unicodeScalars.dropLast()))
            let last = stem.components(separatedBy: "-").last ?? stem
            if abbreviations.contains(stem) || abbreviations.contains(last) { t.abbr = true } else { t.sentbreak = true }
        }
    }

    private enum Ortho { case starter, notStarter, unknown }

    private func secondPass(_ t1: inout Token, _ t2: Token) {
        guard t1.periodFinal else { return }
        let typ = t1.typeNoPeriod, next = t2.typeNoSentPeriod
        let initial = IFEvalPunkt.initialLetter.search(t1.tok)
        if collocations.contains(typ + "\t" + next) {
            t1.sentbreak = false; t1.abbr = true
            return
        }
        if (t1.abbr || t1.ellipsis) && !initial {
            if orthoHeuristic(t2) == .starter { t1.sentbreak = true; return }
            if t2.firstUpper && starters.contains(next) { t1.sentbreak = true; return }
        }
        if initial || typ == "##number##" {
            let o = orthoHeuristic(t2)
            if o == .notStarter { t1.sentbreak = false; t1.abbr = true; return }
            if o == .unknown && initial && t2.firstUpper && (ortho[next, default: 0] & IFEvalPunkt.orthoLC) == 0 {
                t1.sentbreak = false; t1.abbr = true
            }
        }
    }

    private func orthoHeuristic(_ t: Token) -> Ortho {
        if [";", ":", ",", ".", "!", "?"].contains(t.tok) { return .notStarter }
        let o = ortho[t.typeNoSentPeriod, default: 0]
        if t.firstUpper && (o & IFEvalPunkt.orthoLC) != 0 && (o & IFEvalPunkt.orthoMidUC) == 0 { return .starter }
        if t.firstLower && ((o & IFEvalPunkt.orthoUC) != 0 || (o & IFEvalPunkt.orthoBegLC) == 0) { return .notStarter }
        return .unknown
    }
}
