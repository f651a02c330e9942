import Foundation
import Randomness

/// `less than` / `at least`: the two comparisons the reference supports.
public enum IFEvalRelation: String, Sendable {
    case lessThan = "less than"
    case atLeast = "at least"

    func holds(_ actual: Int, _ threshold: Int) -> Bool {
        self == .lessThan ? actual < threshold : actual >= threshold
    }
}

/// One verifiable instruction with its parameters, checked as the reference's `check_following` does
/// (google-research `instruction_following_eval/instructions.py`; each case names its class there).
enum IFEvalCheck: @unchecked Sendable {
    case responseLanguage(String)                          // ResponseLanguageChecker
    case numberSentences(Int, IFEvalRelation)              // NumberOfSentences
    case placeholders(Int)                                 // PlaceholderChecker
    case bullets(Int)                                      // BulletListChecker
    case constrainedResponse                               // ConstrainedResponseChecker
    case highlights(Int)                                   // HighlightSectionChecker
    case sections(PyRegex, Int)                            // SectionChecker
    case paragraphs(Int)                                   // ParagraphChecker
    case postscript(PyRegex)                               // PostscriptChecker
    case keywords([PyRegex])                               // KeywordChecker
    case keywordFrequency(PyRegex, Int, IFEvalRelation)    // KeywordFrequencyChecker
    case numberWords(Int, IFEvalRelation)                  // NumberOfWords
    case json                                              // JsonFormat
    case nthParagraphFirstWord(count: Int, nth: Int, word: String) // ParagraphFirstWordCheck
    case forbiddenWords([PyRegex])                         // ForbiddenWords
    case twoResponses                                      // TwoResponsesChecker
    case repeatPrompt(String)                              // RepeatPromptThenAnswer
    case endPhrase(String)                                 // EndChecker
    case title                                             // TitleChecker
    case letterFrequency(Unicode.Scalar, Int, IFEvalRelation) // LetterFrequencyChecker
    case englishCapital                                    // CapitalLettersEnglishChecker
    case englishLowercase                                  // LowercaseLettersEnglishChecker
    case noComma                                           // CommaChecker
    case capitalWordFrequency(Int, IFEvalRelation)         // CapitalWordFrequencyChecker
    case quotation                                         // QuotationChecker

    /// Every instruction id of the reference's registry (all 25 occur in the published data).
    static let ids = [
        "keywords:existence", "keywords:frequency", "keywords:forbidden_words", "keywords:letter_frequency",
        "language:response_language", "length_constraints:number_sentences", "length_constraints:number_paragraphs",
        "length_constraints:number_words", "length_constraints:nth_paragraph_first_word",
        "detectable_content:number_placeholders", "detectable_content:postscript",
        "detectable_format:number_bullet_lists", "detectable_format:constrained_response",
        "detectable_format:number_highlighted_sections", "detectable_format:multiple_sections",
        "detectable_format:json_format", "detectable_format:title", "combination:two_responses",
        "combination:repeat_prompt", "startend:end_checker", "change_case:capital_word_frequency",
        "change_case:english_capital", "change_case:english_lowercase", "punctuation:no_comma", "startend:quotation",
    ]

    static let constrainedOptions = ["My answer is yes.", "My answer is no.", "My answer is maybe."]

    /// Builds the check from the id and its kwargs (falsy values already dropped, as the reference does).
    init(id: String, _ k: IFEvalKwargs) throws {
        switch id {
        case "language:response_language": self = .responseLanguage(try k.string("language"))
        case "length_constraints:number_sentences":
            self = .numberSentences(try k.count("num_sentences"), try k.relation("relation"))
        case "detectable_content:number_placeholders": self = .placeholders(try k.count("num_placeholders"))
        case "detectable_format:number_bullet_lists": self = .bullets(try k.count("num_bullets"))
        case "detectable_format:constrained_response": self = .constrainedResponse
        case "detectable_format:number_highlighted_sections": self = .highlights(try k.count("num_highlights"))
        case "detectable_format:multiple_sections":
            let splitter = PyStr.strip(try k.string("section_spliter"))
            self = .sections(try PyRegex("\\s?" + splitter + "\\s?\\d+\\s?"), try k.count("num_sections"))
        case "length_constraints:number_paragraphs": self = .paragraphs(try k.count("num_paragraphs"))
        case "detectable_content:postscript": self = .postscript(try IFEvalCheck.postscriptPattern(try k.string("postscript_marker")))
        case "keywords:existence":
            self = .keywords(try k.strings("keywords").map { try PyRegex($0, ignoreCase: true) })
        case "keywords:frequency":
            self = .keywordFrequency(try PyRegex(PyStr.strip(try k.string("keyword")), ignoreCase: true),
                                     try k.count("frequency"), try k.relation("relation"))
        case "length_constraints:number_words":
            self = .numberWords(try k.count("num_words"), try k.relation("relation"))
        case "detectable_format:json_format": self = .json
        case "length_constraints:nth_paragraph_first_word":
            let count = try k.count("num_paragraphs"), nth = try k.count("nth_paragraph")
            guard nth >= 1, nth <= count else {
                throw k.problem("nth_paragraph", "an integer in 1...num_paragraphs (\(count)), got \(nth)")
            }
            self = .nthParagraphFirstWord(count: count, nth: nth, word: PyStr.lower(try k.string("first_word")))
        case "keywords:forbidden_words":
            self = .forbiddenWords(try k.strings("forbidden_words").map { try PyRegex("\\b" + $0 + "\\b", ignoreCase: true) })
        case "combination:two_responses": self = .twoResponses
        case "combination:repeat_prompt": self = .repeatPrompt(try k.string("prompt_to_repeat"))
        case "startend:end_checker": self = .endPhrase(PyStr.strip(try k.string("end_phrase")))
        case "detectable_format:title": self = .title
        case "keywords:letter_frequency":
            self = .letterFrequency(IFEvalCheck.letter(k), try k.count("let_frequency"), try k.relation("let_relation"))
        case "change_case:english_capital": self = .englishCapital
        case "change_case:english_lowercase": self = .englishLowercase
        case "punctuation:no_comma": self = .noComma
        case "change_case:capital_word_frequency":
            self = .capitalWordFrequency(try k.count("capital_frequency"), try k.relation("capital_relation"))
        case "startend:quotation": self = .quotation
        default:
            throw k.unknownInstruction(id)
        }
    }

    /// The letter to count. The reference replaces a missing or non-ASCII-letter value (the data has one:
    /// `"#"`, key 1122) by `random.choice(string.ascii_letters).lower()` from Python's unseeded global
    /// generator, drawn anew for every check, so its verdict there is itself random. We draw the same
    /// way from a generator seeded by the instruction's place in the data, so reruns agree.
    static func letter(_ k: IFEvalKwargs) -> Unicode.Scalar {
        if let s = k.values["letter"] as? String {
            let scalars = Array(PyStr.strip(s).unicodeScalars)
            if scalars.count == 1, let l = PyStr.lower(String(scalars[0])).unicodeScalars.first, ("a"..."z").contains(l) {
                return l
            }
        }
        var rng = SeededRandom(seed: k.seed)
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".unicodeScalars)
        return PyStr.lower(String(letters[Int(rng.next() % UInt64(letters.count))])).unicodeScalars.first!
    }

    /// The reference special-cases its two markers; any other marker is used as a pattern.
    static func postscriptPattern(_ raw: String) throws -> PyRegex {
        let marker = PyStr.strip(raw)
        switch marker {
        case "P.P.S": return try PyRegex("\\s*p\\.\\s?p\\.\\s?s.*$", multiline: true)
        case "P.S.": return try PyRegex("\\s*p\\.\\s?s\\..*$", multiline: true)
        default: return try PyRegex("\\s*" + PyStr.lower(marker) + ".*$", multiline: true)
        }
    }

    /// `check_following(value)`.
    func follows(_ value: String) -> Bool {
        switch self {
        case .responseLanguage(let lang): return IFEvalLanguage.shared.detect(value).map { $0 == lang } ?? true
        case .numberSentences(let n, let rel): return rel.holds(IFEvalPunkt.english.sentences(value).count, n)
        case .placeholders(let n): return Patterns.placeholder.count(value) >= n
        case .bullets(let n): return Patterns.starBullet.count(value) + Patterns.dashBullet.count(value) == n
        case .constrainedResponse:
            let v = PyStr.strip(value)
            return IFEvalCheck.constrainedOptions.contains { v.range(of: $0, options: .literal) != nil }
        case .highlights(let n): return IFEvalCheck.highlightCount(value) >= n
        case .sections(let re, let n): return re.count(value) >= n
        case .paragraphs(let n): return IFEvalCheck.starParagraphs(value) == n
        case .postscript(let re): return re.search(PyStr.lower(value))
        case .keywords(let res): return res.allSatisfy { $0.search(value) }
        case .keywordFrequency(let re, let n, let rel): return rel.holds(re.count(value), n)
        case .numberWords(let n, let rel): return rel.holds(IFEvalText.countWords(value), n)
        case .json: return IFEvalJSON.isValid(IFEvalCheck.unfenced(value))
        case .nthParagraphFirstWord(let count, let nth, let word): return IFEvalCheck.nthParagraph(value, count, nth, word)
        case .forbiddenWords(let res): return !res.contains { $0.search(value) }
        case .twoResponses: return IFEvalCheck.twoResponses(value)
        case .repeatPrompt(let p): return PyStr.hasPrefix(PyStr.lower(PyStr.strip(value)), PyStr.lower(PyStr.strip(p)))
        case .endPhrase(let e):
            let v = PyStr.lower(PyStr.strip(PyStr.strip(value), chars: ["\""]))
            return PyStr.hasSuffix(v, PyStr.lower(PyStr.strip(e)))
        case .title:
            return Patterns.title.findAll(value).contains {
                !PyStr.strip(PyStr.strip(PyStr.strip($0, leading: "<"), trailing: ">")).isEmpty
            }
        case .letterFrequency(let letter, let n, let rel):
            return rel.holds(PyStr.lower(value).unicodeScalars.reduce(0) { $0 + ($1 == letter ? 1 : 0) }, n)
        case .englishCapital: return PyStr.isUpper(value) ? (IFEvalLanguage.shared.detect(value).map { $0 == "en" } ?? true) : false
        case .englishLowercase: return PyStr.isLower(value) ? (IFEvalLanguage.shared.detect(value).map { $0 == "en" } ?? true) : false
        case .noComma: return !value.unicodeScalars.contains(",")
        case .capitalWordFrequency(let n, let rel):
            return rel.holds(IFEvalWordTokenizer.wordTokenize(value).filter(PyStr.isUpper).count, n)
        case .quotation:
            let v = Array(PyStr.strip(value).unicodeScalars)
            return v.count > 1 && v.first == "\"" && v.last == "\""
        }
    }

    private enum Patterns {
        static let placeholder = PyRegex(fixed: "\\[.*?\\]")
        static let starBullet = PyRegex(fixed: "^\\s*\\*[^\\*].*$", multiline: true)
        static let dashBullet = PyRegex(fixed: "^\\s*-.*$", multiline: true)
        static let single = PyRegex(fixed: "\\*[^\\n\\*]*\\*")
        static let double = PyRegex(fixed: "\\*\\*[^\\n\\*]*\\*\\*")
        static let divider = PyRegex(fixed: "\\s?\\*\\*\\*\\s?")
        static let title = PyRegex(fixed: "<<[^\\n]+>>")
    }

    static func highlightCount(_ v: String) -> Int {
        let singles = Patterns.single.findAll(v).filter { !PyStr.strip(PyStr.strip($0, chars: ["*"])).isEmpty }
        let doubles = Patterns.double.findAll(v).filter {
            !PyStr.strip(PyStr.removeSuffix(PyStr.removePrefix($0, "**"), "**")).isEmpty
        }
        return singles.count + doubles.count
    }

    /// ParagraphChecker: pieces between `***` dividers; an empty piece inside (not at either end) fails.
    static func starParagraphs(_ v: String) -> Int {
        let pieces = Patterns.divider.split(v)
        var n = pieces.count
        for (i, p) in pieces.enumerated() where PyStr.strip(p).isEmpty {
            if i == 0 || i == pieces.count - 1 { n -= 1 } else { return -1 }
        }
        return n
    }

    /// JsonFormat strips one markdown fence, exactly in the reference's order of `removeprefix` calls.
    static func unfenced(_ v: String) -> String {
        var s = PyStr.strip(v)
        for p in ["```json", "```Json", "```JSON", "```"] { s = PyStr.removePrefix(s, p) }
        return PyStr.strip(PyStr.removeSuffix(s, "```"))
    }

    static func nthParagraph(_ v: String, _ count: Int, _ nth: Int, _ word: String) -> Bool {
        let paragraphs = PyStr.split(v, "\n\n")
        let n = paragraphs.count - paragraphs.filter { PyStr.strip($0).isEmpty }.count
        guard nth <= n else { return false }
        let paragraph = PyStr.strip(paragraphs[nth - 1])
        guard let firstToken = PyStr.splitWhitespace(paragraph).first else { return false }
        let token = PyStr.strip(PyStr.strip(PyStr.strip(firstToken), leading: "'"), leading: "\"")
        var first = ""
        for u in token.unicodeScalars {
            if ".,?!'\"".unicodeScalars.contains(u) { break }
            first += PyStr.lower(String(u))
        }
        return n == count && PyStr.same(first, word)
    }

    static func twoResponses(_ v: String) -> Bool {
        let parts = PyStr.split(v, "******")
        var valid: [String] = []
        for (i, p) in parts.enumerated() {
            if PyStr.strip(p).isEmpty {
                if i != 0 && i != parts.count - 1 { return false }
            } else {
                valid.append(p)
            }
        }
        return valid.count == 2 && !PyStr.same(PyStr.strip(valid[0]), PyStr.strip(valid[1]))
    }
}

extension PyStr {
    /// `str.lstrip(c)` for one character.
    static func strip(_ s: String, leading c: Unicode.Scalar) -> String {
        String(s.unicodeScalars.drop { $0 == c })
    }

    /// `str.rstrip(c)` for one character.
    static func strip(_ s: String, trailing c: Unicode.Scalar) -> String {
        var v = Array(s.unicodeScalars)
        while v.last == c { v.removeLast() }
        return String(String.UnicodeScalarView(v))
    }
}

/// Parsed kwargs of one instruction, with the location used in error messages.
struct IFEvalKwargs {
    let values: [String: Any]
    let location: String
    let id: String
    /// Seeds the one draw the reference makes at random (see `IFEvalCheck.letter`).
    let seed: UInt64

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    func problem(_ key: String, _ expectation: String) -> Problem {
        Problem(description: "\(location): kwargs.\(key) of \(id): expected \(expectation)")
    }

    func unknownInstruction(_ id: String) -> Problem {
        let near = IFEvalCheck.ids.min { editDistance($0, id) < editDistance($1, id) } ?? ""
        return Problem(description: "\(location): unknown instruction id \(String(reflecting: id)) (did you mean \(String(reflecting: near))?)")
    }

    func string(_ key: String) throws -> String {
        guard let s = values[key] as? String else { throw problem(key, "a non-empty string, got \(describe(key))") }
        return s
    }

    func strings(_ key: String) throws -> [String] {
        guard let a = values[key] as? [Any], let s = a as? [String] else { throw problem(key, "a list of strings, got \(describe(key))") }
        return s
    }

    /// A non-negative integer (the reference draws a random one for a missing or negative value; we refuse).
    func count(_ key: String) throws -> Int {
        guard let n = values[key] as? Int, n >= 0 else { throw problem(key, "a positive integer, got \(describe(key))") }
        return n
    }

    func relation(_ key: String) throws -> IFEvalRelation {
        guard let s = values[key] as? String, let r = IFEvalRelation(rawValue: s) else {
            throw problem(key, "\"less than\" or \"at least\", got \(describe(key))")
        }
        return r
    }

    private func describe(_ key: String) -> String {
        guard let v = values[key] else { return "nothing" }
        return String(reflecting: v)
    }

    private func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var row = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var prev = row[0]
            row[0] = i
            for j in stride(from: 1, through: b.count, by: 1) {
                let cur = row[j]
                row[j] = min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1))
                prev = cur
            }
        }
        return row[b.count]
    }
}
