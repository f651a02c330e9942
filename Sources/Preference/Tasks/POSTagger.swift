import Foundation

/// A trigram hidden-Markov part-of-speech tagger (Viterbi), for the Unique Nouns reward.
///
/// Emissions log P(word | tag) come from Festival's WSJ lexicon (Debian `festlex-poslex`,
/// the resource `POSData/lexicon.tsv`); tag trigram counts come from spaCy-tagged AlpacaEval and
/// HH-RLHF text (see scripts/build_pos_model.py), smoothed by TnT's deleted interpolation.
/// Unknown words get P(tag | suffix) learnt from the lexicon's rarer words (suffixes of 1–4
/// letters), with capitalisation (mid-sentence capital → proper noun) and digit rules.
/// The tagset is Penn Treebank's, folded as Festival does (`.` for all punctuation, PRP$→PRP).
public final class POSTagger: Sendable {
    /// The tagger built from the model in the `POSData` resource folder (read and parsed once, on
    /// first use). A resource file, not Swift source: as a 44k-line string literal it was 69 % of the
    /// package's source lines and slowed every build of this module.
    public static let shared: POSTagger = {
        let folder = Bundle.module.resourceURL!.appendingPathComponent("POSData")
        func text(_ name: String) -> String {
            let url = folder.appendingPathComponent(name)
            // A missing resource is a broken installation, not a user error: nothing can tag without it.
            guard let text = try? String(contentsOf: url, encoding: .utf8) else {
                fatalError("POSTagger: cannot read \(url.path); reinstall PrefLab (the Preference resource bundle is incomplete)")
            }
            return text
        }
        return POSTagger(lexiconText: text("lexicon.tsv"), trigramText: text("trigram_counts.txt"))
    }()

    let tags: [String]                         // index 0 is the sentence boundary
    let lexicon: [String: [(tag: Int, logp: Double)]]
    let logTransition: [Double]                // (S, S, S): log P(c | a, b)
    let logPrior: [Double]                     // (S): log P(t)
    let suffixModel: [String: [Double]]        // suffix -> P(t | suffix) over S
    let unknownPrior: [Double]                 // P(t) over rare words
    let index: [String: Int]

    init(lexiconText: String, trigramText: String) {
        var names = ["<b>"], index = ["<b>": 0]
        func id(_ tag: String) -> Int {
            let t = (tag == "<s>" || tag == "</s>") ? "<b>" : tag
            if let i = index[t] { return i }
            names.append(t); index[t] = names.count - 1
            return names.count - 1
        }
        var lexicon: [String: [(tag: Int, logp: Double)]] = [:]
        for line in lexiconText.split(separator: "\n") {
            let parts = line.split(separator: "\t")
            guard parts.count == 2 else { continue }
            lexicon[String(parts[0])] = parts[1].split(separator: " ").compactMap { entry in
                let kv = entry.split(separator: ":")
                guard kv.count == 2, let p = Double(kv[1]) else { return nil }
                return (id(String(kv[0])), p)
            }
        }
        var trigrams: [(Int, Int, Int, Double)] = []
        for line in trigramText.split(separator: "\n") {
            let f = line.split(separator: " ")
            guard f.count == 4, let n = Double(f[3]) else { continue }
            trigrams.append((id(String(f[0])), id(String(f[1])), id(String(f[2])), n))
        }
        for t in ["nn", "nns", "nnp", "nnps", "jj", "cd", "punc", "sym", "vb", "vbg", "vbd", "rb"] { _ = id(t) }
        let s = names.count
        let (trans, prior) = Self.interpolate(trigrams, states: s)
        self.tags = names
        self.index = index
        self.lexicon = lexicon
        self.logTransition = trans
        self.logPrior = prior
        (self.suffixModel, self.unknownPrior) = Self.suffixes(lexicon: lexicon, logPrior: prior, states: s)
    }

    /// Penn Treebank tags for `tokens` (one sequence; sentence splitting is the caller's).
    public func tag(_ tokens: [String]) -> [String] {
        var out: [String] = []
        var start = 0
        for i in tokens.indices where [".", "!", "?"].contains(tokens[i]) || i == tokens.count - 1 {
            out += viterbi(Array(tokens[start...i]))
            start = i + 1
        }
        return out
    }

    /// Tokenises `text` with `POSTokenizer` and tags it.
    public func tag(text: String) -> [(token: String, tag: String)] {
        let tokens = POSTokenizer.tokenize(text)
        return Array(zip(tokens, tag(tokens))).map { ($0.0, $0.1) }
    }

    /// PTB spelling of an internal tag.
    func ptb(_ i: Int) -> String {
        switch tags[i] {
        case "punc": return "."
        case "of": return "IN"
        default: return tags[i].uppercased()
        }
    }
}
