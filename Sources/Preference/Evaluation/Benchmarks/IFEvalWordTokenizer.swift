import Foundation

/// `nltk.word_tokenize(text)` (NLTK 3.9.1): Punkt sentences, then `NLTKWordTokenizer` on each: an ordered
/// list of regular-expression substitutions, then a whitespace split. The reference counts the tokens
/// that are `str.isupper()` for `change_case:capital_word_frequency`, so "DON'T" is two ("DO", "N'T").
enum IFEvalWordTokenizer {
    private typealias Rule = (PyRegex, String)

    private static func rule(_ pattern: String, _ template: String) -> Rule { (PyRegex(fixed: pattern), template) }

    private static let startingQuotes: [Rule] = [
        rule("([«“‘„]|[`]+)", " $1 "),
        rule("^\\\"", "``"),
        rule("(``)", " $1 "),
        rule("([ \\(\\[{<])(\\\"|\\'{2})", "$1 `` "),
        rule("(?i)(\\')(?!re|ve|ll|m|t|s|d|n)(\\w)\\b", "$1 $2"),
    ]

    private static let punctuation: [Rule] = [
        rule("([^\\.])(\\.)([\\]\\)}>\"\\'»”’ ]*)\\s*$", "$1 $2 $3 "),
        rule("([:,])([^\\d])", " $1 $2"),
        rule("([:,])$", " $1 "),
        rule("\\.{2,}", " $0 "),
        rule("[;@#$%&]", " $0 "),
        rule("([^\\.])(\\.)([\\]\\)}>\"\\']*)\\s*$", "$1 $2$3 "),
        rule("[?!]", " $0 "),
        rule("([^'])' ", "$1 ' "),
        rule("[*]", " $0 "),
        rule("[\\]\\[\\(\\)\\{\\}\\<\\>]", " $0 "),
        rule("--", " -- "),
    ]

    private static let endingQuotes: [Rule] = [
        rule("([»”’])", " $1 "),
        rule("''", " '' "),
        rule("\"", " '' "),
        rule("\\s+", " "),
        rule("([^' ])('[sS]|'[mM]|'[dD]|') ", "$1 $2 "),
        rule("([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", "$1 $2 "),
    ]

    private static let contractions: [Rule] = [
        "(?i)\\b(can)(?#X)(not)\\b", "(?i)\\b(d)(?#X)('ye)\\b", "(?i)\\b(gim)(?#X)(me)\\b",
        "(?i)\\b(gon)(?#X)(na)\\b", "(?i)\\b(got)(?#X)(ta)\\b", "(?i)\\b(lem)(?#X)(me)\\b",
        "(?i)\\b(more)(?#X)('n)\\b", "(?i)\\b(wan)(?#X)(na)(?=\\s)",
        "(?i) ('t)(?#X)(is)\\b", "(?i) ('t)(?#X)(was)\\b",
    ].map { rule($0, " $1 $2 ") }

    /// `NLTKWordTokenizer().tokenize(sentence)`.
    static func tokenize(_ sentence: String) -> [String] {
        var text = sentence
        for (re, t) in startingQuotes + punctuation { text = re.sub(t, text) }
        text = " " + text + " "
        for (re, t) in endingQuotes + contractions { text = re.sub(t, text) }
        return PyStr.splitWhitespace(text)
    }

    /// `nltk.word_tokenize(text)`.
    static func wordTokenize(_ text: String) -> [String] {
        IFEvalPunkt.english.sentences(text).flatMap(tokenize)
    }
}
