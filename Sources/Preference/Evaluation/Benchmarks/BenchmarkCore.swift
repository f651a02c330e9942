import Foundation
import Randomness

/// A benchmark failure said plainly: which file, item or judge, and what was expected.
public struct BenchmarkError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Mean of per-item scores and its standard error.
///
/// SE = s / √n with s the sample standard deviation (divisor n − 1), the usual error of a mean over
/// independently drawn items; 0 when n < 2. For 0/1 scores this is √(p(1−p)/(n−1)).
public struct MeanWithError: Codable, Sendable, Equatable {
    /// Mean over items.
    public var mean: Double
    /// Standard error of the mean.
    public var standardError: Double
    /// Items counted.
    public var count: Int

    public init(_ xs: [Double]) {
        count = xs.count
        mean = xs.isEmpty ? 0 : xs.reduce(0, +) / Double(xs.count)
        let m = mean
        let ss = xs.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        standardError = xs.count < 2 ? 0 : (ss / Double(xs.count - 1)).squareRoot() / Double(xs.count).squareRoot()
    }

    /// `name`, `name_se`, `name_count` for a summary.
    public func metrics(_ name: String) -> [String: Double] {
        [name: mean, name + "_se": standardError, name + "_count": Double(count)]
    }
}

/// One evaluated item: what the model said, what was read from it and its score. This is the line
/// the resume ledger keeps, so a number in a summary can always be traced back to text.
public struct BenchmarkItem: Codable, Sendable, Equatable {
    /// Stable id within the benchmark (task and index, question index, task_id).
    public var id: String
    /// Sub-group the summaries split by (BBH task, XSTest label), if any.
    public var group: String?
    /// The item's main score (1/0 for exact match and pass@1, a probability mass for MC2).
    public var score: Double
    /// Other per-item numbers (e.g. `mc2`, `refused`, `strict_match`).
    public var metrics: [String: Double]
    /// The model's response (empty for log-likelihood benchmarks).
    public var response: String
    /// What the scorer read from the response (the extracted answer, the classifier label).
    public var extracted: String?
    /// The reference answer.
    public var target: String?

    public init(id: String, group: String? = nil, score: Double, metrics: [String: Double] = [:],
                response: String = "", extracted: String? = nil, target: String? = nil) {
        self.id = id
        self.group = group
        self.score = score
        self.metrics = metrics
        self.response = response
        self.extracted = extracted
        self.target = target
    }
}

/// What a benchmark asks the model: a chat prompt, plus text the assistant turn starts with
/// (open-instruct's "Answer:" / "A:" after the chat template).
public struct BenchmarkPrompt: Sendable, Equatable {
    public var prompt: Prompt
    /// Appended to the rendered prompt, inside the assistant turn.
    public var assistantPrefix: String

    public init(_ user: String, assistantPrefix: String = "") {
        prompt = Prompt(user)
        self.assistantPrefix = assistantPrefix
    }
}

/// Which items of a benchmark to evaluate: the CPU budget.
public struct BenchmarkSelection: Sendable, Equatable {
    /// At most this many items (per group where the benchmark has groups); nil takes all.
    public var limit: Int?
    /// Seed of the subsample drawn when `limit` is below the item count.
    public var seed: UInt64

    public init(limit: Int? = nil, seed: UInt64 = 0) {
        self.limit = limit
        self.seed = seed
    }

    /// Indices of `count` items to keep, in their original order: a seeded uniform subsample of
    /// `limit`, so that a small limit still spreads over the whole file (XSTest is sorted by type).
    public func indices(count: Int, label: String) throws -> [Int] {
        if let limit, limit < 1 { throw BenchmarkError("limit must be at least 1, got \(limit)") }
        guard let limit, limit < count else { return Array(0..<count) }
        var rng = SeededRandom(seed: seed).derived("benchmark-selection/" + label)
        var all = Array(0..<count)
        for i in 0..<limit { all.swapAt(i, i + rng.nextInt(count - i)) }
        return all[0..<limit].sorted()
    }
}

/// Reading benchmark data files: a missing file or a broken record is an error naming file and line,
/// never a silently shorter benchmark.
enum BenchmarkFiles {
    static func records(_ url: URL, benchmark: String) throws -> [DataRecord] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw BenchmarkError("\(benchmark): data file \(url.path) does not exist (see ../shared/data/README.md)")
        }
        let (records, problems) = try DataRecordReader.read(url: url, display: url.path, format: nil, maxRecordBytes: 1 << 24)
        if let p = problems.first {
            throw BenchmarkError("\(benchmark): \(url.path):\(p.line): \(p.message)")
        }
        guard !records.isEmpty else { throw BenchmarkError("\(benchmark): \(url.path) holds no records") }
        return records
    }

    /// A string field of a record, or an error naming file, line and key.
    static func string(_ r: DataRecord, _ key: String) throws -> String {
        guard let s = r.fields[key] as? String else {
            throw BenchmarkError("\(r.origin): expected a string at '\(key)', found \(r.fields[key].map { "\(type(of: $0))" } ?? "nothing")")
        }
        return s
    }

    /// The whole text of a (maybe gzip'd) file.
    static func text(_ url: URL, benchmark: String) throws -> String {
        guard let raw = FileManager.default.contents(atPath: url.path) else {
            throw BenchmarkError("\(benchmark): data file \(url.path) does not exist (see ../shared/data/README.md)")
        }
        var data = raw
        if DataGzip.isGzip(raw) {
            let (out, problem) = DataGzip.inflate(raw)
            if let problem { throw BenchmarkError("\(benchmark): \(url.path): \(problem)") }
            data = out
        }
        guard let s = String(data: data, encoding: .utf8) else { throw BenchmarkError("\(benchmark): \(url.path) is not UTF-8") }
        return s
    }
}

/// Hugging Face `evaluate`'s `exact_match` with `ignore_case` and `ignore_punctuation` (the metric
/// open-instruct's GSM8K and BBH scripts call): lower-case both, delete ASCII punctuation, compare.
/// Nothing else is normalised — no trimming — so "-5" matches "5" and "3.5" matches "35", as there.
public enum ExactMatch {
    static let punctuation = Set("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars)

    public static func normalised(_ s: String) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: s.lowercased().unicodeScalars.filter { !punctuation.contains($0) })
        return String(out)
    }

    public static func matches(_ prediction: String, _ reference: String) -> Bool {
        PythonText.equal(normalised(prediction), normalised(reference))
    }
}

/// Regular-expression helpers with Python `re` semantics where the references use them.
enum Regex {
    static func compile(_ pattern: String, _ options: NSRegularExpression.Options = []) -> NSRegularExpression {
        // The patterns are literals in this module; a bad one is a programming error caught by the tests.
        try! NSRegularExpression(pattern: pattern, options: options)
    }

    /// Python's `re.findall`: whole matches when the pattern has no group, the one group's text when it
    /// has one, and a tuple (here an array, "" for a group that did not take part) when it has several.
    static func findAll(_ re: NSRegularExpression, _ s: String) -> [[String]] {
        let ns = s as NSString
        return re.matches(in: s, range: NSRange(location: 0, length: ns.length)).map { m in
            let groups = m.numberOfRanges == 1 ? [0] : Array(1..<m.numberOfRanges)
            return groups.map { g in
                let r = m.range(at: g)
                return r.location == NSNotFound ? "" : ns.substring(with: r)
            }
        }
    }

    /// `re.sub(pattern, replacement, s)` for a literal replacement.
    static func replace(_ re: NSRegularExpression, in s: String, with template: String) -> String {
        re.stringByReplacingMatches(in: s, range: NSRange(location: 0, length: (s as NSString).length), withTemplate: template)
    }
}

/// Python `str` operations the references use, by code point, so that agreement does not hinge on
/// Swift's grapheme-based comparison or its smaller whitespace set.
enum PythonText {
    /// `str.isspace` code points: Unicode white space plus the separators U+001C–U+001F.
    static func isSpace(_ u: Unicode.Scalar) -> Bool {
        u.properties.isWhitespace || (0x1C...0x1F).contains(u.value)
    }

    /// `s.strip()`.
    static func strip(_ s: String) -> String {
        let u = s.unicodeScalars
        guard let first = u.firstIndex(where: { !isSpace($0) }), let last = u.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(u[first...last])
    }

    /// `a == b` (Swift's `==` treats canonically equivalent strings as equal; Python does not).
    static func equal(_ a: String, _ b: String) -> Bool {
        a.unicodeScalars.elementsEqual(b.unicodeScalars)
    }

    /// `s.startswith(prefix)`.
    static func startsWith(_ s: String, _ prefix: String) -> Bool {
        s.unicodeScalars.starts(with: prefix.unicodeScalars)
    }
}
