import Foundation
import Randomness

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
/// has seen the tasks' vocabulary before supervised fine-tuning. `scripts/setup.sh` installs
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

    /// Sentences (7+ words, starting with a capital) of the fortune files, in file order.
    public static func sentences(directory: String = fortuneDirectory) throws -> [String] {
        if let cached = cache.get("sentences:" + directory) { return cached }
        var out: [String] = []
        for doc in try fortunes(directory: directory) {
            var start = doc.utf8.startIndex
            for i in doc.utf8.indices {
                let b = doc.utf8[i]
                guard b == 0x2E || b == 0x21 || b == 0x3F else { continue }  // . ! ?
                let end = doc.utf8.index(after: i)
                let s = String(doc[start..<end]).trimmingCharacters(in: .whitespaces)
                start = end
                if s.first?.isUppercase == true, s.split(separator: " ").count >= 7 { out.append(s) }
            }
        }
        cache.set("sentences:" + directory, out)
        return out
    }

    /// The fortunes as single-line documents; mostly-symbol entries (ASCII art) are skipped.
    /// Read once per directory, then served from memory.
    public static func fortunes(directory: String = fortuneDirectory) throws -> [String] {
        if let cached = cache.get(directory) { return cached }
        let fm = FileManager.default
        guard let names = try? fm.contentsOfDirectory(atPath: directory),
              names.contains("fortunes") else {
            throw CorpusError("no fortune files in \(directory): install the Debian package "
                + "'fortunes-min' (scripts/setup.sh installs them)")
        }
        var docs: [String] = []
        for name in names.sorted() where !name.contains(".") {
            var isDir: ObjCBool = false
            let path = directory + "/" + name
            guard fm.fileExists(atPath: path, isDirectory: &isDir), !isDir.boolValue,
                  let data = fm.contents(atPath: path) else { continue }
            docs += entries(Array(data))
        }
        cache.set(directory, docs)
        return docs
    }

    /// Splits a fortune file's bytes at `%` lines, flattens whitespace, keeps mostly-letter entries.
    static func entries(_ bytes: [UInt8]) -> [String] {
        var docs: [String] = []
        var current: [UInt8] = [], letters = 0
        func flush() {
            while current.last == 0x20 { current.removeLast() }
            if current.count >= 20 && current.count <= 1500 && letters * 10 >= current.count * 8 {
                docs.append(String(decoding: current, as: UTF8.self))
            }
            current.removeAll(keepingCapacity: true); letters = 0
        }
        var lineStart = true
        for (i, b) in bytes.enumerated() {
            if lineStart && b == 0x25 && (i + 1 == bytes.count || bytes[i + 1] == 0x0A) { flush(); continue }
            lineStart = b == 0x0A
            if b == 0x0A || b == 0x09 || b == 0x0D || b == 0x20 {
                if !current.isEmpty && current.last != 0x20 { current.append(0x20); letters += 1 }
            } else {
                current.append(b)
                if (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A || b >= 0x80 { letters += 1 }
            }
        }
        flush()
        return docs
    }

    static let cache = FortuneCache()

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

/// A lock-guarded memo of fortune files already read, by directory.
final class FortuneCache: @unchecked Sendable {
    private let lock = NSLock()
    private var docs: [String: [String]] = [:]
    func get(_ key: String) -> [String]? { lock.lock(); defer { lock.unlock() }; return docs[key] }
    func set(_ key: String, _ value: [String]) { lock.lock(); docs[key] = value; lock.unlock() }
}
