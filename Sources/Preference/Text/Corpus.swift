import Foundation
import Tensor

/// The pretraining corpus could not be read.
public struct CorpusError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Pretraining and SFT text for a tiny from-scratch policy.
///
/// Sources: the fortune cookies of Debian's `fortunes-min` (and `fortunes`, when installed) under
/// /usr/share/games/fortunes — short, fluent English — mixed with text from the tasks' own
/// generators (instructions with plain answers, and math chains of thought) so that the policy
/// has seen the tasks' vocabulary before supervised fine-tuning. `scripts/setup-data.sh` installs
/// the packages.
public enum Corpus {
    /// Where Debian installs the fortune files.
    public static let fortuneDirectory = "/usr/share/games/fortunes"

    /// Shuffled documents totalling at most `maxBytes` UTF-8 bytes: about 60% fortunes,
    /// 25% instruction + answer documents and 15% math chains, drawn from `seed`.
    public static func pretrainingText(maxBytes: Int, seed: UInt64) throws -> [String] {
        var rng = SeededRandom(seed: seed).derived("corpus")
        let fortunes = try self.fortunes().shuffled(using: &rng)
        var docs = take(fortunes, bytes: maxBytes * 6 / 10)
        let answers = WordCollectorTask().demonstrations(count: max(1, maxBytes / 4 / 150), seed: seed)
        docs += take(answers.map { $0.prompt.lastUserText + "\n" + $0.response }, bytes: maxBytes / 4)
        let math = MathExpressionsTask(slipRate: 0).demonstrations(count: max(1, maxBytes / 7 / 60), seed: seed)
        let used = docs.reduce(0) { $0 + $1.utf8.count }
        docs += take(math.map { $0.prompt.lastUserText + " " + $0.response }, bytes: maxBytes - used)
        return docs.shuffled(using: &rng)
    }

    /// Sentences (7+ words, no line breaks) of the fortune files, in file order.
    public static func sentences(directory: String = fortuneDirectory) throws -> [String] {
        var out: [String] = []
        for doc in try fortunes(directory: directory) {
            var current = ""
            for ch in doc {
                current.append(ch)
                if ".!?".contains(ch) {
                    let s = current.trimmingCharacters(in: .whitespaces)
                    if s.split(separator: " ").count >= 7, s.first?.isUppercase == true { out.append(s) }
                    current = ""
                }
            }
        }
        return out
    }

    /// The fortunes as single-line documents; mostly-symbol entries (ASCII art) are skipped.
    public static func fortunes(directory: String = fortuneDirectory) throws -> [String] {
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory),
              names.contains("fortunes") else {
            throw CorpusError("no fortune files in \(directory): install the Debian package "
                + "'fortunes-min' (scripts/setup-data.sh does: apt-get install -y fortunes-min fortunes)")
        }
        var docs: [String] = []
        for name in names.sorted() where !name.contains(".") {
            var isDir: ObjCBool = false
            let path = directory + "/" + name
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let data = fm.contents(atPath: path) else { continue }
            let text = String(decoding: data, as: UTF8.self)
            for entry in text.components(separatedBy: "\n%\n") {
                let flat = entry.split(whereSeparator: { $0.isWhitespace }).joined(separator: " ")
                let letters = flat.filter { $0.isLetter || $0 == " " }.count
                if flat.count >= 20 && flat.count <= 1500 && Double(letters) >= 0.8 * Double(flat.count) {
                    docs.append(flat)
                }
            }
        }
        return docs
    }

    /// The leading documents of `docs` whose total size stays within `bytes`.
    static func take(_ docs: [String], bytes: Int) -> [String] {
        var out: [String] = [], total = 0
        for d in docs {
            let n = d.utf8.count + 1
            if total + n > bytes { break }
            out.append(d); total += n
        }
        return out
    }
}
