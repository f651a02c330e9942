import Foundation

/// HumanEval pass@1 (Chen et al. 2021) with one greedy completion per problem, prompted as evalplus
/// prompts instruction-tuned models (`codegen.py`): the problem in a fenced block, the assistant turn
/// opened with evalplus's response prefix and an open ```` ```python ```` fence, so a chat model
/// writes the whole function. The code is read back as evalplus's `sanitize` does (`HumanEvalCode`):
/// the fenced block that defines the entry point, its top-level definitions and imports only. The
/// program `prompt imports + code + test + check(entry_point)` runs in `CodeSandbox`; it passes when
/// the process exits 0 within the time limit.
///
/// (Before code version 2 the prompt was open-instruct's "Here is the completed function:" and the
/// Codex stops were applied to the raw answer: a chat model restating the function was cut at its first
/// `\ndef`, so SmolLM2-135M-Instruct scored 0/30 on programs that had no body.)
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

    /// evalplus's `instruction_prefix` and `response_prefix` (codegen.py), with the problem stripped as there.
    public func prompt(_ item: Item) -> BenchmarkPrompt {
        BenchmarkPrompt("Please provide a self-contained Python script that solves the following problem in a markdown code block:\n```\n"
                        + PythonText.strip(item.prompt) + "\n```\n",
                        assistantPrefix: "Below is a Python script with a self-contained function that solves the problem and passes corresponding tests:\n```python\n")
    }

    /// The program run for a response: the sanitized code after the prompt's imports (the problem's
    /// `from typing import List` belongs to the task, so an answer that uses `List` without importing it
    /// is not failed for that), then the tests. A response that defines no entry point runs as the
    /// imports alone and fails at `check`, as evalplus scores it.
    public static func program(_ item: Item, response: String) -> String {
        let code = HumanEvalCode.sanitized(response, entryPoint: item.entryPoint) ?? ""
        let imports = HumanEvalCode.topLevelImports(item.prompt)
        return (imports.isEmpty ? "" : imports + "\n") + code + "\n" + item.test + "\n" + "check(\(item.entryPoint))\n"
    }

    public func score(_ items: [Item], responses: [String]) throws -> [BenchmarkItem] {
        try zip(items, responses).map { item, response in
            let outcome = try sandbox.run(HumanEvalBenchmark.program(item, response: response))
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
