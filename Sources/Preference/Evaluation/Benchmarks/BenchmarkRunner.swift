import Foundation
import Randomness

/// What the benchmarks need from a model: greedy responses, and log-likelihoods of continuations.
/// `PolicyBenchmarkModel` is the embedded engine's; tests give scripted ones.
public protocol BenchmarkModel {
    /// One response per prompt.
    func generate(_ prompts: [BenchmarkPrompt]) throws -> [String]
    /// log p(continuation | prompt), summed over the continuation's tokens, one per item.
    func logLikelihoods(_ items: [(prompt: BenchmarkPrompt, continuation: String)]) throws -> [Double]
}

/// A policy as a benchmark model: the chat template renders the prompt, the assistant prefix follows
/// it, and decoding is greedy (temperature 0), as in the references' evaluation.
public final class PolicyBenchmarkModel: BenchmarkModel {
    public let policy: Policy
    /// Longest response in tokens (the references allow 512; the CPU budget usually wants less).
    public var maxNewTokens: Int
    /// Sampling temperature; 0 is greedy.
    public var temperature: Double
    /// Seed for temperature > 0.
    public var seed: UInt64
    /// Prompts that did not fit the window beside `maxNewTokens` and lost their beginning.
    public private(set) var promptsCut = 0

    public init(policy: Policy, maxNewTokens: Int, temperature: Double = 0, seed: UInt64 = 0) {
        self.policy = policy
        self.maxNewTokens = maxNewTokens
        self.temperature = temperature
        self.seed = seed
    }

    /// The ids a prompt is fed as: the chat template's rendering, then the assistant prefix.
    public func tokens(_ p: BenchmarkPrompt) -> [Int32] {
        policy.codec.promptTokens(p.prompt) + (p.assistantPrefix.isEmpty ? [] : policy.codec.encode(p.assistantPrefix))
    }

    /// How many prompts of one `generate` call lose their beginning to fit the window beside the response budget.
    public func cutCount(_ ids: [[Int32]]) -> Int {
        let budget = policy.responseBudget(longestPrompt: ids.map(\.count).max() ?? 0, maxNewTokens: maxNewTokens)
        return ids.filter { $0.count > policy.model.config.maxSeqLen - budget }.count
    }

    public func generate(_ prompts: [BenchmarkPrompt]) throws -> [String] {
        let ids = prompts.map(tokens)
        promptsCut += cutCount(ids)
        // A fresh stream per call keyed by the first prompt, so a resumed run draws as an uninterrupted one.
        var rng = SeededRandom(seed: seed).derived("benchmark/" + (prompts.first?.prompt.lastUserText ?? ""))
        return try policy.sample(ids, maxNewTokens: maxNewTokens, temperature: Float(temperature),
                             topP: 1, rng: &rng).map(\.text)
    }

    public func logLikelihoods(_ items: [(prompt: BenchmarkPrompt, continuation: String)]) throws -> [Double] {
        try policy.sequenceLogProbs(items.map { SequencePair(prompt: tokens($0.prompt), response: policy.codec.encode($0.continuation)) })
    }
}

/// Responses generated (or log-likelihoods computed) elsewhere, by vLLM, for a benchmark's prompts, handed out in
/// evaluation order, so that the benchmark scores them exactly as it scores the policy's own (run it without a
/// ledger: a ledger would skip items and shift the order).
public final class ReplayedBenchmarkModel: BenchmarkModel {
    private var responses: ArraySlice<String>
    private var likelihoods: ArraySlice<Double>

    public init(responses: [String] = [], logLikelihoods: [Double] = []) {
        self.responses = responses[...]
        self.likelihoods = logLikelihoods[...]
    }

    public func generate(_ prompts: [BenchmarkPrompt]) throws -> [String] {
        try Self.take(prompts.count, from: &responses, what: "responses")
    }

    public func logLikelihoods(_ items: [(prompt: BenchmarkPrompt, continuation: String)]) throws -> [Double] {
        try Self.take(items.count, from: &likelihoods, what: "log-likelihoods")
    }

    private static func take<T>(_ n: Int, from values: inout ArraySlice<T>, what: String) throws -> [T] {
        guard values.count >= n else { throw BenchmarkError("\(n) \(what) asked of the \(values.count) computed ones left") }
        defer { values = values.dropFirst(n) }
        return Array(values.prefix(n))
    }
}

/// A benchmark whose items are answered by generation and scored from the response.
public protocol GenerativeBenchmark {
    associatedtype Item
    /// Name used in messages and ledger labels.
    var name: String { get }
    /// The selected items, in evaluation order.
    func items() throws -> [Item]
    func id(_ item: Item) -> String
    func prompt(_ item: Item) -> BenchmarkPrompt
    /// Scores a block of items from their responses (a block so that a judge can batch).
    func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem]
    /// Summary metrics over all scored items.
    func summarize(_ results: [BenchmarkItem]) -> [String: Double]
}

/// Drives an evaluation: skips what the ledger holds, generates and scores the rest in blocks, and
/// appends each scored item to the ledger before starting the next block.
public enum BenchmarkRunner {
    public static func run<B: GenerativeBenchmark>(_ benchmark: B, model: any BenchmarkModel, ledger: BenchmarkLedger?,
                                                   block: Int = 8, progress: ((Int, Int) -> Void)? = nil) throws -> [BenchmarkItem] {
        try resumable(try benchmark.items(), id: benchmark.id, name: benchmark.name, ledger: ledger, block: block,
                      progress: progress) { chunk in
            let responses = try model.generate(chunk.map(benchmark.prompt))
            guard responses.count == chunk.count else {
                throw BenchmarkError("\(benchmark.name): the model returned \(responses.count) responses for \(chunk.count) prompts")
            }
            return try benchmark.score(chunk, responses: responses)
        }
    }

    /// The resume loop every benchmark shares: items the ledger holds are taken from it, the rest are
    /// scored `block` at a time and each result is appended (and fsync'd) as soon as its block is done.
    public static func resumable<Item>(_ all: [Item], id: (Item) -> String, name: String, ledger: BenchmarkLedger?,
                                       block: Int, progress: ((Int, Int) -> Void)? = nil,
                                       score: ([Item]) throws -> [BenchmarkItem]) throws -> [BenchmarkItem] {
        guard !all.isEmpty else { throw BenchmarkError("\(name): no items selected") }
        let pending = all.filter { ledger?.contains(id($0)) != true }
        var fresh: [String: BenchmarkItem] = [:]
        for lo in stride(from: 0, to: pending.count, by: max(1, block)) {
            let chunk = Array(pending[lo..<min(pending.count, lo + max(1, block))])
            for item in try score(chunk) {
                try ledger?.append(item)
                fresh[item.id] = item
            }
            progress?(all.count - pending.count + lo + chunk.count, all.count)
        }
        let done = Dictionary((ledger?.items ?? []).map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        return try all.map { item in
            guard let r = fresh[id(item)] ?? done[id(item)] else { throw BenchmarkError("\(name): item \(id(item)) was not scored") }
            return r
        }
    }

    /// Mean ± SE of the main score overall (`score`) and per group (`<group>_score`), plus the mean of
    /// every per-item metric (`<metric>` with its `_se`).
    public static func summary(_ results: [BenchmarkItem], groups: Bool = false) -> [String: Double] {
        var out = MeanWithError(results.map(\.score)).metrics("score")
        for key in Set(results.flatMap { $0.metrics.keys }) {
            out.merge(MeanWithError(results.compactMap { $0.metrics[key] }).metrics(key)) { a, _ in a }
        }
        if groups {
            for (g, rs) in Dictionary(grouping: results, by: { $0.group ?? "" }) {
                out.merge(MeanWithError(rs.map(\.score)).metrics(g + "_score")) { a, _ in a }
            }
        }
        return out
    }
}
