import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// The benchmark runners (kinds in `StageSpecs/BenchmarkKinds.swift`, science in
/// `Preference/Evaluation/Benchmarks/`): each builds its benchmark from the config, generates with the
/// policy (greedy) or has vLLM generate (`engine: vllm`), scores, and writes every item and the summary. On the
/// embedded engine per-item results go to the node's resume folder as they are scored, so an interrupted evaluation
/// resumes where it stopped.
enum BenchmarkStages {
    /// The benchmarks answered by generation, as their configs build them.
    static let generative: [String: @Sendable (NodeContext, BenchmarkSelection) throws -> any GenerativeBenchmark] = [
        StageSpecs.gsm8k.kind: { c, s in GSM8KBenchmark(file: try c.dataURL(), selection: s, shots: try c.int("shots")) },
        StageSpecs.ifEval.kind: { c, s in IFEvalBenchmark(file: try c.dataURL(), selection: s) },
        StageSpecs.bbh.kind: { c, s in
            BBHBenchmark(folder: try c.dataURL(), tasks: c.stage.config["tasks"]?.list?.compactMap(\.string), selection: s)
        },
        StageSpecs.xsTest.kind: { c, s in XSTestBenchmark(file: try c.dataURL(), selection: s) },
        StageSpecs.humanEval.kind: { c, s in
            HumanEvalBenchmark(file: try c.dataURL(), selection: s, sandbox: CodeSandbox(timeLimit: try c.double("time_limit")))
        },
        StageSpecs.alpacaEval.kind: { c, s in AlpacaEvalBenchmark(file: try c.dataURL(), selection: s, judge: try c.judge()) },
    ]

    /// Every benchmark's runner: the generative ones, and TruthfulQA by log-likelihood.
    static let all: [String: Runner] = generative.mapValues { make in
        Runner { c, s, source in try c.generate(try make(c, s), source: source) }
    }.merging([StageSpecs.truthfulQA.kind: Runner { c, s, source in
        let b = TruthfulQABenchmark(file: try c.dataURL(), selection: s)
        let model = PolicyBenchmarkModel(policy: try c.policy(), maxNewTokens: 1)
        let results: [BenchmarkItem]
        switch source {
        case .embedded:
            results = try b.run(model: model, ledger: try c.ledger(), block: try c.int("block")) { c.progress($0, $1) }
        case .vllm(let generate):
            let lls = try NodeContext.vllmLogLikelihoods(try b.items().flatMap(b.continuations), model: model, generate: generate)
            // No ledger: the replayed log-likelihoods follow evaluation order, which skipping ledger items would shift.
            results = try b.run(model: ReplayedBenchmarkModel(logLikelihoods: lls), ledger: nil, block: try c.int("block")) {
                c.progress($0, $1)
            }
        }
        return (results, b.summarize(results))
    }]) { a, _ in a }

    /// The embedded runners.
    static let runners: [String: any StageRunner] = all.mapValues { $0 as any StageRunner }

    /// The vLLM bridge's side of each benchmark (`engine: vllm`).
    static let vllm: [String: any GenerationInputs] = all.mapValues { $0 as any GenerationInputs }

    /// Where a benchmark's responses come from.
    enum ResponseSource {
        /// The policy, in PrefLab, block by block (resumable item by item through the ledger).
        case embedded
        /// vLLM, every prompt (or scored continuation) in one batch (resumable as a whole: the batch's completions are kept).
        case vllm((GenerationBatch) throws -> [VLLMCompletion])
    }

    /// A benchmark runner: the selection from the config, then the benchmark's body; writes items and summary.
    struct Runner: StageRunner, GenerationInputs {
        let body: @Sendable (NodeContext, BenchmarkSelection, ResponseSource) throws -> ([BenchmarkItem], [String: Double])

        init(_ body: @escaping @Sendable (NodeContext, BenchmarkSelection, ResponseSource) throws -> ([BenchmarkItem], [String: Double])) {
            self.body = body
        }

        func run(_ context: NodeContext) throws {
            context.reporter.summary(try evaluate(context, source: .embedded))
        }

        func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion]) throws -> [String: Double] {
            try evaluate(context, source: .vllm(generate))
        }

        func evaluate(_ context: NodeContext, source: ResponseSource) throws -> [String: Double] {
            let selection = BenchmarkSelection(limit: context.stage.config["limit"]?.int, seed: UInt64(try context.int("seed")))
            let (items, summary) = try body(context, selection, source)
            try JSONLines.write(items, to: context.outputDirectory.appendingPathComponent(StageSpecs.benchmarkItemsFile))
            return summary
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

    /// Generates (with the policy, or in vLLM), scores, and adds the generator's own counts to the summary.
    func generate<B: GenerativeBenchmark>(_ benchmark: B, source: BenchmarkStages.ResponseSource) throws -> ([BenchmarkItem], [String: Double]) {
        let model = PolicyBenchmarkModel(policy: try policy(), maxNewTokens: try int("max_new_tokens"))
        let block = try int("block")
        let results: [BenchmarkItem], cut: Int
        switch source {
        case .embedded:
            results = try BenchmarkRunner.run(benchmark, model: model, ledger: try ledger(), block: block) { self.progress($0, $1) }
            cut = model.promptsCut
        case .vllm(let generate):
            let prompts = try benchmark.items().map(benchmark.prompt)
            let (responses, vllmCut) = try Self.vllmResponses(prompts, model: model, block: block, generate: generate)
            // No ledger: the replayed responses follow evaluation order, which skipping ledger items would shift.
            results = try BenchmarkRunner.run(benchmark, model: ReplayedBenchmarkModel(responses: responses), ledger: nil, block: block) {
                self.progress($0, $1)
            }
            cut = vllmCut
        }
        var summary = benchmark.summarize(results)
        summary["empty_responses"] = Double(results.filter { $0.response.isEmpty }.count)
        summary["prompts_cut"] = Double(cut)
        return (results, summary)
    }

    /// Every prompt's greedy response from vLLM in one batch, each `block` of prompts fitted to the window as the
    /// embedded model fits the block it is given (temperature 0, top-p 1, the end-of-turn stop; the seed is unused).
    static func vllmResponses(_ prompts: [BenchmarkPrompt], model: PolicyBenchmarkModel, block: Int,
                              generate: (GenerationBatch) throws -> [VLLMCompletion]) throws -> (responses: [String], cut: Int) {
        var ids: [[Int32]] = [], requests: [VLLMRequest] = [], cut = 0
        let greedy = SamplingOptions(maxNewTokens: model.maxNewTokens, temperature: 0, topP: 1, seed: 0)
        for lo in stride(from: 0, to: prompts.count, by: max(1, block)) {
            let chunk = prompts[lo..<min(prompts.count, lo + max(1, block))].map(model.tokens)
            cut += model.cutCount(chunk)
            let (fitted, newTokens) = model.policy.fitted(chunk, maxNewTokens: model.maxNewTokens)
            var options = greedy
            options.seed = UInt64(requests.count)
            requests += VLLMBatches.requests(policy: model.policy, prompts: fitted, maxTokens: newTokens, options: options)
            ids += fitted
        }
        let completions = try generate(GenerationBatch(name: "batch-0", requests: requests))
        return (VLLMBatches.samples(policy: model.policy, prompts: ids, completions: completions).map(\.text), cut)
    }

    /// log p(continuation | prompt) of every item from vLLM in one batch: each pair fitted to the window as the policy
    /// fits it (`SequencePair.fitted`: continuation cut on the right, prompt on the left), scored over the continuation.
    static func vllmLogLikelihoods(_ items: [(prompt: BenchmarkPrompt, continuation: String)], model: PolicyBenchmarkModel,
                                   generate: (GenerationBatch) throws -> [VLLMCompletion]) throws -> [Double] {
        let policy = model.policy
        let requests = items.enumerated().map { i, item in
            let fit = SequencePair(prompt: model.tokens(item.prompt), response: policy.codec.encode(item.continuation))
                .fitted(maxSeqLen: policy.model.config.maxSeqLen)
            return VLLMRequest(promptTokenIds: (fit.prompt + fit.response).map(Int.init), maxTokens: 1, temperature: 0, topP: 1,
                               seed: UInt64(i), stopTokenIds: [Int(policy.codec.eos)], scoreTokens: fit.response.count)
        }
        return try generate(GenerationBatch(name: "batch-0", requests: requests)).enumerated().map { i, c in
            guard let logprob = c.promptLogprob else { throw BenchmarkError("vLLM returned no prompt_logprob for scoring request \(i + 1)") }
            return logprob
        }
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
