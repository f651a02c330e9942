import Foundation
import RecipeSpec

// The benchmark evaluations (docs/benchmarks.md): one kind per benchmark, each taking a policy,
// reporting `score` with its `score_se` (plus the benchmark's own metrics) and keeping every item.
extension StageSpecs {
    /// The items file a benchmark node keeps (id, score, response, extraction, target per item).
    public static let benchmarkItemsFile = "items.jsonl"

    /// Fields every benchmark kind has.
    static func benchmarkFields(data: String, maxNewTokens: Int?) -> [FieldSchema] {
        var fields = [
            FieldSchema("policy", .stageRef(accepts: [.policy]), doc: "Policy to evaluate."),
            FieldSchema("data", .string, default: .string(data), doc: "The benchmark's data, from the working directory."),
            FieldSchema("limit", .int, optional: true, range: ValueRange(min: 1),
                        doc: "At most this many items (BBH: per task; XSTest: per label), a seeded sample; absent: all."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the `limit` sample."),
            FieldSchema("block", .int, default: .int(8), range: ValueRange(min: 1), doc: "Items per engine call and per resume flush."),
        ]
        if let maxNewTokens {
            fields.append(FieldSchema("max_new_tokens", .int, default: .int(maxNewTokens), range: ValueRange(min: 1),
                                      doc: "Longest response in tokens (the references allow 512; greedy decoding)."))
        }
        return fields
    }

    /// A benchmark kind: on the embedded engine, or with its responses (TruthfulQA: its log-likelihoods) from vLLM.
    static func benchmark(_ kind: String, _ summary: String, codeVersion: Int = 1, fields: [FieldSchema],
                          check: @escaping @Sendable (ResolvedStage) -> [StageProblem] = { _ in [] }) -> StageSpec {
        StageSpec(StageSchema(kind: kind, summary: summary, codeVersion: codeVersion, outputs: [.evaluation],
                              engines: VLLMChecks.generating, check: check, fields: fields),
                  layout: ArtifactLayout([benchmarkItemsFile]), fingerprint: benchmarkData)
    }

    public static let gsm8k = benchmark(
        "gsm8k", "GSM8K exact match, 8-shot chain of thought (open-instruct / Unpacking App. D).",
        fields: benchmarkFields(data: "../shared/data/gsm8k/test.jsonl", maxNewTokens: 256)
            + [FieldSchema("shots", .int, default: .int(8), range: ValueRange(min: 0, max: 8),
                           doc: "Chain-of-thought exemplars in the prompt (0-8).")])

    public static let ifEval = benchmark(
        "ifeval", "IFEval verifiable instructions: prompt-level strict accuracy (plus loose and instruction-level).",
        fields: benchmarkFields(data: "../shared/data/ifeval/input_data.jsonl", maxNewTokens: 512))

    public static let bbh = benchmark(
        "bbh", "BIG-Bench Hard exact match, 3-shot chain of thought, mean over tasks.",
        fields: benchmarkFields(data: "../shared/data/bbh", maxNewTokens: 256)
            + [FieldSchema("tasks", .list(.string), optional: true, doc: "Tasks to run (file names in bbh/); absent: all 27.")])

    public static let truthfulQA = benchmark(
        "truthfulqa", "TruthfulQA MC1 / MC2 by log-likelihood of the choices.",
        fields: benchmarkFields(data: "../shared/data/truthfulqa/data/mc_task.json.gz", maxNewTokens: nil))

    public static let xsTest = benchmark(
        "xstest", "XSTest refusal / compliance rates on safe and unsafe prompts (string match).",
        fields: benchmarkFields(data: "../shared/data/xstest/xstest_prompts.csv", maxNewTokens: 128))

    public static let humanEval = benchmark(
        "humaneval", "HumanEval pass@1 (greedy), each program run in a sandbox.",
        codeVersion: 3,  // 2: evalplus's instruct prompt and code extraction (1 cut chat answers at their first `def`); 3: a cut-off last statement is dropped
        fields: benchmarkFields(data: "../shared/data/humaneval/HumanEval.jsonl.gz", maxNewTokens: 256)
            + [FieldSchema("time_limit", .double, default: .double(10), range: ValueRange(min: 0, minExclusive: true),
                           doc: "Seconds each program may run.")])

    public static let alpacaEval = benchmark(
        "alpaca_eval", "AlpacaEval-style win rate against text_davinci_003, judged by a reward model or a command.",
        fields: benchmarkFields(data: "../shared/data/alpaca-eval-gpt4/alpaca-7b.json.gz", maxNewTokens: 256) + [
            FieldSchema("reward_model", .stageRef(accepts: [.rewardModel]), optional: true,
                        doc: "Judge: the higher reward wins (set this or judge_command)."),
            FieldSchema("judge_command", .list(.string), optional: true,
                        doc: "Judge: a program and its arguments speaking the JSON-lines protocol of docs/benchmarks.md."),
            FieldSchema("judge_time_limit", .double, default: .double(600), range: ValueRange(min: 0, minExclusive: true),
                        doc: "Seconds one judge call may take."),
        ],
        check: { stage in
            (stage.config["reward_model"] != nil) == (stage.config["judge_command"] != nil)
                ? [StageProblem(key: "reward_model", "set exactly one judge: 'reward_model' or 'judge_command'")] : []
        })

    public static let benchmarkKinds = [gsm8k, ifEval, bbh, truthfulQA, xsTest, humanEval, alpacaEval]

    /// A benchmark's `data`: the file, or every file under the folder (sorted), by content.
    static let benchmarkData: @Sendable (ResolvedStage) throws -> String = { stage in
        let url = URL(fileURLWithPath: stage.config["data"]?.string ?? "")
        var files = [url]
        if (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true,
           let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) {
            files = walker.compactMap { $0 as? URL }
                .filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
                .sorted { $0.path < $1.path }
        }
        return Fingerprints.fileFingerprint(files, root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
    }
}
