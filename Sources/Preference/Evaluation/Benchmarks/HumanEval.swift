import Foundation

/// HumanEval pass@1 (Chen et al. 2021) with one greedy completion per problem, prompted as
/// open-instruct's chat format does without HumanEvalPack ("Complete the following python
/// function.", the assistant turn opened with "Here is the completed function:"). The completion is
/// cut at the Codex stop sequences, and `prompt + completion + test + check(entry_point)` runs in
/// `CodeSandbox`; it passes when the process exits 0 within the time limit.
public struct HumanEvalBenchmark: GenerativeBenchmark {
    /// `HumanEval.jsonl.gz` (`{"task_id", "prompt", "entry_point", "canonical_solution", "test"}`).
    public var file: URL
    /// Which problems.
    public var selection: BenchmarkSelection
    /// Where and how programs run.
    public var sandbox: CodeSandbox

    public var name: String { "humaneval" }

    public init(file: URL, selection: BenchmarkSelection = BenchmarkSelection(), sandbox: CodeSandbox = CodeSandbox()) {
        self.file = file
        self.selection = selection
        self.sandbox = sandbox
    }

    public struct Item: Sendable {
        public var taskID: String
        public var prompt: String
        public var entryPoint: String
        public var canonicalSolution: String
        public var test: String
    }

    public func items() throws -> [Item] {
        let records = try BenchmarkFiles.records(file, benchmark: name)
        return try selection.indices(count: records.count, label: name).map { i in
            let r = records[i]
            return Item(taskID: try BenchmarkFiles.string(r, "task_id"), prompt: try BenchmarkFiles.string(r, "prompt"),
                        entryPoint: try BenchmarkFiles.string(r, "entry_point"),
                        canonicalSolution: try BenchmarkFiles.string(r, "canonical_solution"),
                        test: try BenchmarkFiles.string(r, "test"))
        }
    }

    public func id(_ item: Item) -> String { item.taskID }

    public func prompt(_ item: Item) -> BenchmarkPrompt {
        BenchmarkPrompt("Complete the following python function.\n\n\n" + item.prompt,
                        assistantPrefix: "Here is the completed function:\n\n\n")
    }

    /// The Codex paper's stop sequences: the completion ends where the next top-level statement starts.
    static let stops = ["\nclass", "\ndef", "\n#", "\nif", "\nprint"]

    public static func truncate(_ completion: String) -> String {
        let cut = stops.compactMap { completion.range(of: $0)?.lowerBound }.min()
        return cut.map { String(completion[..<$0]) } ?? completion
    }

    /// The program human-eval runs for a completion.
    public static func program(_ item: Item, completion: String) -> String {
        item.prompt + completion + "\n" + item.test + "\n" + "check(\(item.entryPoint))\n"
    }

    public func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem] {
        try zip(items, responses).map { item, response in
            let completion = HumanEvalBenchmark.truncate(response)
            let outcome = try sandbox.run(HumanEvalBenchmark.program(item, completion: completion))
            let label: String
            switch outcome {
            case .passed: label = "passed"
            case .timedOut: label = "timed out"
            case .failed(let tail): label = "failed: " + (tail.split(separator: "\n").last.map(String.init) ?? "")
            }
            return BenchmarkItem(id: id(item), score: outcome == .passed ? 1 : 0,
                                 metrics: ["timed_out": outcome == .timedOut ? 1 : 0],
                                 response: response, extracted: label)
        }
    }

    public func summarize(_ results: [BenchmarkItem]) -> [String: Double] {
        var out = BenchmarkRunner.summary(results)
        out["pass@1"] = out["score"]
        out["pass@1_se"] = out["score_se"]
        out["sandbox_namespaces"] = sandbox.isolation == .namespaces ? 1 : 0
        return out
    }
}
