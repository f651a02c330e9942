import Foundation
import Pipeline
import Preference
import RecipeSpec

/// The benchmark evaluations (docs/benchmarks.md): one kind per benchmark, each taking a policy node,
/// generating with the embedded engine (greedy), scoring with `Preference`'s benchmark code and
/// reporting the mean and its standard error. Per-item results go to the node's resume folder as they
/// are scored, so an interrupted evaluation resumes where it stopped; `items.jsonl` in the node keeps them.
enum BenchmarkStages {
    static let kinds: [StageKind] = [gsm8k, bbh, truthfulQA, xsTest, humanEval, alpacaEval]

    /// Fields every benchmark kind has.
    static func common(data: String, maxNewTokens: Int?) -> [FieldSchema] {
        var fields = [
            FieldSchema("policy", .stageRef(kinds: policyKinds), doc: "Policy to evaluate."),
            FieldSchema("data", .string, default: .string(data), doc: "The benchmark's data, from the working directory."),
            FieldSchema("limit", .int, optional: true,
                        doc: "At most this many items (BBH: per task; XSTest: per label), a seeded sample; absent: all."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of the `limit` sample."),
            FieldSchema("block", .int, default: .int(8), doc: "Items per engine call and per resume flush."),
        ]
        if let maxNewTokens {
            fields.append(FieldSchema("max_new_tokens", .int, default: .int(maxNewTokens),
                                      doc: "Longest response in tokens (the references allow 512; greedy decoding)."))
        }
        return fields
    }

    static let gsm8k = StageKind(schema: StageSchema(
        kind: "gsm8k", summary: "GSM8K exact match, 8-shot chain of thought (open-instruct / Unpacking App. D).", codeVersion: 1,
        fields: common(data: "../shared/data/gsm8k/test.jsonl", maxNewTokens: 256)
            + [FieldSchema("shots", .int, default: .int(8), doc: "Chain-of-thought exemplars in the prompt (0-8).")]),
        runner: Runner { c, s in
            let b = GSM8KBenchmark(file: try c.dataURL(), selection: s, shots: try c.int("shots"))
            return try c.generate(b)
        })

    static let bbh = StageKind(schema: StageSchema(
        kind: "bbh", summary: "BIG-Bench Hard exact match, 3-shot chain of thought, mean over tasks.", codeVersion: 1,
        fields: common(data: "../shared/data/bbh", maxNewTokens: 256)
            + [FieldSchema("tasks", .list(.string), optional: true, doc: "Tasks to run (file names in bbh/); absent: all 27.")]),
        runner: Runner { c, s in
            let tasks = c.stage.config["tasks"]?.list?.compactMap(\.value.string)
            return try c.generate(BBHBenchmark(folder: try c.dataURL(), tasks: tasks, selection: s))
        })

    static let truthfulQA = StageKind(schema: StageSchema(
        kind: "truthfulqa", summary: "TruthfulQA MC1 / MC2 by log-likelihood of the choices.", codeVersion: 1,
        fields: common(data: "../shared/data/truthfulqa/data/mc_task.json.gz", maxNewTokens: nil)),
        runner: Runner { c, s in
            let b = TruthfulQABenchmark(file: try c.dataURL(), selection: s)
            let model = PolicyBenchmarkModel(policy: try c.policy(), maxNewTokens: 1)
            let results = try b.run(model: model, ledger: try c.ledger(), block: try c.int("block")) { c.progress($0, $1) }
            return (results, b.summarize(results))
        })

    static let xsTest = StageKind(schema: StageSchema(
        kind: "xstest", summary: "XSTest refusal / compliance rates on safe and unsafe prompts (string match).", codeVersion: 1,
        fields: common(data: "../shared/data/xstest/xstest_prompts.csv", maxNewTokens: 128)),
        runner: Runner { c, s in try c.generate(XSTestBenchmark(file: try c.dataURL(), selection: s)) })

    static let humanEval = StageKind(schema: StageSchema(
        kind: "humaneval", summary: "HumanEval pass@1 (greedy), each program run in a sandbox.", codeVersion: 1,
        fields: common(data: "../shared/data/humaneval/HumanEval.jsonl.gz", maxNewTokens: 256)
            + [FieldSchema("time_limit", .double, default: .double(10), doc: "Seconds each program may run.")]),
        runner: Runner { c, s in
            let sandbox = CodeSandbox(timeLimit: try c.double("time_limit"))
            return try c.generate(HumanEvalBenchmark(file: try c.dataURL(), selection: s, sandbox: sandbox))
        })

    static let alpacaEval = StageKind(schema: StageSchema(
        kind: "alpaca_eval", summary: "AlpacaEval-style win rate against text_davinci_003, judged by a reward model or a command.",
        codeVersion: 1,
        fields: common(data: "../shared/data/alpaca-eval-gpt4/alpaca-7b.json.gz", maxNewTokens: 256) + [
            FieldSchema("reward_model", .stageRef(kinds: ["reward_model"]), optional: true,
                        doc: "Judge: the higher reward wins (set this or judge_command)."),
            FieldSchema("judge_command", .list(.string), optional: true,
                        doc: "Judge: a program and its arguments speaking the JSON-lines protocol of docs/benchmarks.md."),
            FieldSchema("judge_time_limit", .double, default: .double(600), doc: "Seconds one judge call may take."),
        ]),
        runner: Runner { c, s in
            try c.generate(AlpacaEvalBenchmark(file: try c.dataURL(), selection: s, judge: try c.judge()))
        },
        check: { stage in
            let rm = stage.config["reward_model"] != nil, cmd = stage.config["judge_command"] != nil
            if rm == cmd { throw StageError(stage.name, "set exactly one judge: 'reward_model' or 'judge_command'") }
        })

    /// The files a benchmark stage reads (its `data` file, or every file under its `data` folder, sorted),
    /// fingerprinted into its node hash; nil for other kinds.
    static func inputFiles(_ stage: ResolvedStage) -> [URL]? {
        guard kinds.contains(where: { $0.schema.kind == stage.kind }), let data = stage.config["data"]?.value.string else { return nil }
        let url = URL(fileURLWithPath: data)
        guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]),
              (try? url.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true else { return [url] }
        let files = walker.compactMap { $0 as? URL }.filter { (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true }
        return files.sorted { $0.path < $1.path }
    }

    /// A benchmark runner: builds the benchmark from the config, scores it, writes items and summary.
    struct Runner: StageRunner {
        let body: @Sendable (NodeContext, BenchmarkSelection) throws -> ([BenchmarkItem], [String: Double])

        init(_ body: @escaping @Sendable (NodeContext, BenchmarkSelection) throws -> ([BenchmarkItem], [String: Double])) {
            self.body = body
        }

        func run(_ context: NodeContext) throws {
            let selection = BenchmarkSelection(limit: context.stage.config["limit"]?.int, seed: UInt64(try context.int("seed")))
            let (items, summary) = try body(context, selection)
            try JSONLines.write(items, to: context.outputDirectory.appendingPathComponent("items.jsonl"))
            context.reporter.summary(summary)
        }
    }
}

extension NodeContext {
    /// The `data` path (relative to the working directory).
    func dataURL() throws -> URL { URL(fileURLWithPath: try string("data")) }

    func policy() throws -> Policy { try ModelArtifact.loadPolicy(from: try requiredInput("policy")) }

    /// The per-item results of this node so far (kept across interruptions).
    func ledger() throws -> BenchmarkLedger {
        try BenchmarkLedger(url: resumeDirectory.appendingPathComponent("items.jsonl"))
    }

    func progress(_ done: Int, _ total: Int) { reporter.log("\(done)/\(total) items") }

    /// Generates with the policy, scores, and adds the engine's own counts to the summary.
    func generate<B: GenerativeBenchmark>(_ benchmark: B) throws -> ([BenchmarkItem], [String: Double]) {
        let model = PolicyBenchmarkModel(policy: try policy(), maxNewTokens: try int("max_new_tokens"))
        let results = try BenchmarkRunner.run(benchmark, model: model, ledger: try ledger(), block: try int("block")) {
            self.progress($0, $1)
        }
        var summary = benchmark.summarize(results)
        summary["empty_responses"] = Double(results.filter { $0.response.isEmpty }.count)
        summary["prompts_cut"] = Double(model.promptsCut)
        return (results, summary)
    }

    /// The AlpacaEval judge the config names.
    func judge() throws -> any PairwiseJudge {
        if let dir = inputs["reward_model"] { return RewardModelJudge(rewardModel: try ModelArtifact.loadRewardModel(from: dir)) }
        guard let argv = stage.config["judge_command"]?.list?.compactMap(\.value.string), !argv.isEmpty else {
            throw StageError(stage.name, "set 'reward_model' or a non-empty 'judge_command'")
        }
        return JudgeCommand(command: argv, timeLimit: try double("judge_time_limit"))
    }
}
