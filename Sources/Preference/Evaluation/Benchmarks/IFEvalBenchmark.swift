import Foundation

/// IFEval as a generative benchmark (the `ifeval` stage): each prompt answered greedily, checked by
/// `IFEval.score` (Google's verifiable instructions, strict and loose). `score` is the prompt-level
/// strict accuracy (the number the Unpacking paper reports); the other three accuracies come with it.
public struct IFEvalBenchmark: GenerativeBenchmark {
    /// `input_data.jsonl` (key, prompt, instruction_id_list, kwargs).
    public var file: URL
    public var selection: BenchmarkSelection

    public var name: String { "ifeval" }

    public init(file: URL, selection: BenchmarkSelection = BenchmarkSelection()) {
        self.file = file
        self.selection = selection
    }

    public func items() throws -> [IFEvalItem] {
        let all = try IFEval.load(file)
        return try selection.indices(count: all.count, label: name).map { all[$0] }
    }

    public func id(_ item: IFEvalItem) -> String { "ifeval/\(item.key)" }

    public func prompt(_ item: IFEvalItem) -> BenchmarkPrompt { BenchmarkPrompt(item.prompt) }

    public func score(_ items: [IFEvalItem], responses: [String]) throws -> [BenchmarkItem] {
        zip(items, responses).map { item, response in
            let r = IFEval.score(item, response)
            let metrics: [String: Double] = [
                "prompt_loose": r.promptLoose ? 1 : 0,
                "instructions": Double(r.strict.count),
                "instructions_strict": Double(r.strict.filter { $0 }.count),
                "instructions_loose": Double(r.loose.filter { $0 }.count),
            ]
            return BenchmarkItem(id: id(item), group: nil, score: r.promptStrict ? 1 : 0, metrics: metrics, response: response,
                                 extracted: nil, target: item.instructionIds.joined(separator: ","))
        }
    }

    /// `score` (prompt-level strict) and `prompt_loose` with standard errors; instruction-level strict
    /// and loose accuracy over all instructions of the evaluated prompts.
    public func summarize(_ results: [BenchmarkItem]) -> [String: Double] {
        var out = MeanWithError(results.map(\.score)).metrics("score")
        out.merge(MeanWithError(results.map { $0.metrics["prompt_loose"] ?? 0 }).metrics("prompt_loose")) { a, _ in a }
        let total = results.reduce(0) { $0 + ($1.metrics["instructions"] ?? 0) }
        if total > 0 {
            out["instruction_strict"] = results.reduce(0) { $0 + ($1.metrics["instructions_strict"] ?? 0) } / total
            out["instruction_loose"] = results.reduce(0) { $0 + ($1.metrics["instructions_loose"] ?? 0) } / total
        }
        return out
    }
}
