/// Splits English text into tokens the way spaCy's English tokenizer mostly does.
///
/// Whitespace separates chunks; leading `"'([{` and trailing `.,;:!?"')]}` peel off as their
/// own tokens (an abbreviation-like trailing period stays when the chunk has another period);
/// a trailing `...` splits off; "cannot" is can + not; the clitics `n't 's 're 've 'll 'd 'm` split off the end; `-` and
/// `/` between two letters or two digits split ("30-60" → 30, -, 60).
public enum POSTokenizer {
    /// The tokens of `text`.
    public static func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        for chunk in text.split(whereSeparator: { $0.isWhitespace }) {
            out += splitChunk(Array(chunk))
        }
        return out
    }

    static let leading: Set<Character> = ["\"", "'", "(", "[", "{", "`", "“", "‘", "*", "<", "_"]
    static let trailing: Set<Character> = [".", ",", ";", ":", "!", "?", "\"", "'", ")", "]", "}",
                                           "”", "’", "*", ">", "…", "`"]
    static let clitics = ["n't", "'s", "'re", "'ve", "'ll", "'d", "'m", "’s", "n’t"]

    static func splitChunk(_ c: [Character]) -> [String] {
        var chars = c[...]
        var front: [String] = [], back: [String] = []
        while let f = chars.first, leading.contains(f), chars.count > 1 {
            front.append(String(f)); chars = chars.dropFirst()
        }
        while chars.count > 1 {
            if chars.count > 3 && chars.suffix(3).elementsEqual("...") {  // "explore..." → explore, ...
                back.insert("...", at: 0); chars = chars.dropLast(3); continue
            }
            guard let l = chars.last, trailing.contains(l) else { break }
            if l == ".", chars.dropLast().contains("."), chars.first?.isLetter == true { break }
            back.insert(String(l), at: 0); chars = chars.dropLast()
        }
        var core = String(chars)
        let lower = core.lowercased()
        if lower == "cannot" { return front + [String(core.prefix(3)), String(core.suffix(3))] + back }
        for clitic in clitics where lower.hasSuffix(clitic) && lower.count > clitic.count {
            back.insert(String(core.suffix(clitic.count)), at: 0)
            core = String(core.dropLast(clitic.count))
            break
        }
        return front + splitInfixes(core) + back
    }

    /// Splits `-` and `/` that stand between two letters: "user-friendly" → user, -, friendly.
    static func splitInfixes(_ word: String) -> [String] {
        let chars = Array(word)
        var out: [String] = [], current = ""
        for (i, ch) in chars.enumerated() {
            let between = i > 0 && i + 1 < chars.count
                && (chars[i - 1].isLetter && chars[i + 1].isLetter || chars[i - 1].isNumber && chars[i + 1].isNumber)
            if (ch == "-" || ch == "/") && between {
                out.append(current); out.append(String(ch)); current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
