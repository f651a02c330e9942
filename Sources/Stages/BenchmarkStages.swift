import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// The benchmark runners (kinds in `StageSpecs/BenchmarkKinds.swift`, science in
/// `Preference/Evaluation/Benchmarks/`): each builds its benchmark from the config, generates with the
/// policy (greedy), scores, and writes every item and the summary. Per-item results go to the node's
/// resume folder as they are scored, so an interrupted evaluation resumes where it stopped.
enum BenchmarkStages {
    static let runners: [String: any StageRunner] = [
        StageSpecs.gsm8k.kind: Runner { c, s in
            try c.generate(GSM8KBenchmark(file: try c.dataURL(), selection: s, shots: try c.int("shots")))
        },
        StageSpecs.ifEval.kind: Runner { c, s in try c.generate(IFEvalBenchmark(file: try c.dataURL(), selection: s)) },
        StageSpecs.bbh.kind: Runner { c, s in
            let tasks = c.stage.config["tasks"]?.list?.compactMap(\.string)
            return try c.generate(BBHBenchmark(folder: try c.dataURL(), tasks: tasks, selection: s))
        },
        StageSpecs.truthfulQA.kind: Runner { c, s in
            let b = TruthfulQABenchmark(file: try c.dataURL(), selection: s)
            let model = PolicyBenchmarkModel(policy: try c.policy(), maxNewTokens: 1)
            let results = try b.run(model: model, ledger: try c.ledger(), block: try c.int("block")) { c.progress($0, $1) }
            return (results, b.summarize(results))
        },
        StageSpecs.xsTest.kind: Runner { c, s in try c.generate(XSTestBenchmark(file: try c.dataURL(), selection: s)) },
        StageSpecs.humanEval.kind: Runner { c, s in
            let sandbox = CodeSandbox(timeLimit: try c.double("time_limit"))
            return try c.generate(HumanEvalBenchmark(file: try c.dataURL(), selection: s, sandbox: sandbox))
        },
        StageSpecs.alpacaEval.kind: Runner { c, s in
            try c.generate(AlpacaEvalBenchmark(file: try c.dataURL(), selection: s, judge: try c.judge()))
        },
    ]

    /// A benchmark runner: the selection from the config, then the benchmark's body; writes items and summary.
    struct Runner: StageRunner {
        let body: @Sendable (NodeContext, BenchmarkSelection) throws -> ([BenchmarkItem], [String: Double])

        init(_ body: @escaping @Sendable (NodeContext, BenchmarkSelection) throws -> ([BenchmarkItem], [String: Double])) {
            self.body = body
        }

        func run(_ context: NodeContext) throws {
            let selection = BenchmarkSelection(limit: context.stage.config["limit"]?.int, seed: UInt64(try context.int("seed")))
            let (items, summary) = try body(context, selection)
            try JSONLines.write(items, to: context.outputDirectory.appendingPathComponent(StageSpecs.benchmarkItemsFile))
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
        guard let argv = stage.config["judge_command"]?.list?.compactMap(\.string), !argv.isEmpty else {
            throw StageError(stage.name, "set 'reward_model' or a non-empty 'judge_command'")
        }
        return JudgeCommand(command: argv, timeLimit: try double("judge_time_limit"))
    }
}
