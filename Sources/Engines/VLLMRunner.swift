import Foundation
import Pipeline
import RecipeSpec
import StageSpecs

/// One generation request as vLLM's offline `LLM.generate` takes it: PrefLab's own prompt ids (fitted to the
/// window as PrefLab's sampler fits them), or, for a model PrefLab does not read, the prompt's messages (text mode:
/// vllm_generate.py formats, tokenises and fits them with the model's own tokenizer); and the node's sampling settings.
public struct VLLMRequest: Codable, Sendable, Equatable {
    public var promptTokenIds: [Int]?
    /// Text mode: the prompt's turns (`role`, `content`), as TRL's rows carry them.
    public var messages: [[String: String]]?
    /// The response budget; in text mode the node's `max_new_tokens`, which the script fits beside the batch's
    /// longest prompt as PrefLab would.
    public var maxTokens: Int
    public var temperature: Double
    public var topP: Double
    /// Each request its own seed (the node's seed + its index): vLLM draws from other streams than PrefLab's
    /// sampler, so the settings are the same and the samples are not.
    public var seed: UInt64
    /// The end-of-turn token, where PrefLab's sampler stops too (empty in text mode: the model's own EOS).
    public var stopTokenIds: [Int]
    /// With it, a scoring request: vLLM returns the summed log-probability of the prompt's last `scoreTokens` ids
    /// (from its `prompt_logprobs`), and what it generates is not read. Absent (and left out of the file): a sample.
    public var scoreTokens: Int?
    /// Text mode, with `messages`: a scoring request for this response (Contrastive Distillation's rule in the model's
    /// own tokenizer, trl_text.py's `response_logprob_ids`): vLLM returns its mean log-likelihood; nothing is sampled.
    public var response: String?

    public init(promptTokenIds: [Int], maxTokens: Int, temperature: Double, topP: Double, seed: UInt64, stopTokenIds: [Int],
                scoreTokens: Int? = nil) {
        self.promptTokenIds = promptTokenIds
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stopTokenIds = stopTokenIds
        self.scoreTokens = scoreTokens
    }

    /// A text-mode scoring request: `response` after `messages`, greedy and one token long (what is generated is not read).
    public init(messages: [[String: String]], response: String) {
        self.messages = messages
        self.response = response
        self.maxTokens = 1
        self.temperature = 0
        self.topP = 1
        self.seed = 0
        self.stopTokenIds = []
    }

    /// A text-mode sample of `messages`.
    public init(messages: [[String: String]], maxTokens: Int, temperature: Double, topP: Double, seed: UInt64) {
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.seed = seed
        self.stopTokenIds = []
    }
}

/// What vLLM generated for one request (`completions.jsonl`, in request order).
public struct VLLMCompletion: Codable, Sendable, Equatable {
    public var tokenIds: [Int]
    /// `stop` (the stop token was produced) or `length` (cut at max_tokens).
    public var finishReason: String
    /// A scoring request's summed log-probability of its scored ids (`VLLMRequest.scoreTokens`).
    public var promptLogprob: Double?
    /// Text mode: the response decoded by the model's tokenizer (EOS dropped), and the prompt's ids as fitted.
    public var text: String?
    public var promptTokenIds: [Int]?
    /// A text scoring request's mean log-likelihood of its response (`VLLMRequest.response`).
    public var meanLogprob: Double?

    public init(tokenIds: [Int], finishReason: String, promptLogprob: Double? = nil, text: String? = nil, promptTokenIds: [Int]? = nil,
                meanLogprob: Double? = nil) {
        self.tokenIds = tokenIds
        self.finishReason = finishReason
        self.promptLogprob = promptLogprob
        self.text = text
        self.promptTokenIds = promptTokenIds
        self.meanLogprob = meanLogprob
    }
}

/// One vLLM launch: its requests, named for the files that keep them and their completions in the node's resume
/// folder (`<name>.requests.jsonl`, `<name>.completions.jsonl`), so an interrupted node relaunches only what had
/// not come back.
public struct GenerationBatch: Sendable, Equatable {
    public var name: String
    public var requests: [VLLMRequest]
    /// The input whose model serves it: `policy`, or in text mode `reference` (scoring the policy's samples in its
    /// folder, which the policy's tokenizer shares) or Contrastive Distillation's `scorer_large` / `scorer_small`
    /// (scoring the samples' text in their own tokenizer).
    public var model: String

    public init(name: String, requests: [VLLMRequest], model: String = "policy") {
        self.name = name
        self.requests = requests
        self.model = model
    }
}

/// PrefLab's side of a generation node (supplied by the embedded side, so this target links no compute code).
public protocol GenerationInputs: Sendable {
    /// Runs the node as the embedded runner does, except that every sample comes from `generate` (one vLLM launch
    /// per batch, completions in request order); writes the node's artifacts and returns its summary.
    func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion]) throws -> [String: Double]
    /// As `run(_:generate:)`; `score` gives a reward model PrefLab does not read (`reward_model`'s folder) the
    /// scores of (prompt, response) ids in its own vocabulary (best_of_n in text mode).
    func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion],
             score: @escaping ([ScoreItem]) throws -> [Double]) throws -> [String: Double]
}

extension GenerationInputs {
    /// The kinds that score nothing ignore `score`.
    public func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion],
                    score: @escaping ([ScoreItem]) throws -> [Double]) throws -> [String: Double] {
        try run(context, generate: generate)
    }
}

/// Runs the generation of stages that only sample (`gold_reward`, `best_of_n`, `category_scores`, `task_preferences`,
/// the generative benchmarks) in vLLM (`python vllm_generate.py job.json` on the site's GPUs): the policy exported as
/// an HF folder once, each batch's requests written into the node's resume folder; PrefLab labels and scores what
/// comes back. vLLM needs CUDA: without a GPU the node fails with the reason before anything is written.
public struct VLLMRunner: PlannedLaunch {
    public let inputs: any GenerationInputs
    public let models: any RolloutInputs
    public let site: SiteConfig

    public init(inputs: any GenerationInputs, models: any RolloutInputs, site: SiteConfig = SiteConfig()) {
        self.inputs = inputs
        self.models = models
        self.site = site
    }

    static let engine = "vllm"
    static let script = "vllm_generate.py"
    static let scripts = [script, "trl_text.py", TRLScoreRunner.script]

    /// The job file the script reads.
    struct Job: Codable, Equatable {
        var model: String
        var requests: String
        var output: String
        var dtype: String
        var tensorParallelSize: Int
        /// Text mode (a model PrefLab does not read): its window, from its config.json, that the prompts are fitted to.
        var maxModelLen: Int?

        enum CodingKeys: String, CodingKey {
            case model, requests, output, dtype, tensorParallelSize = "tensor_parallel_size", maxModelLen = "max_model_len"
        }
    }

    public func run(_ context: NodeContext) throws {
        try GPUPlacement.requireLocalGPU(engine: "vLLM", site: site, stage: context.stage, machineHasGPU: GPUPlacement.machineHasGPU())
        let dir = context.resumeDirectory
        let launch = try self.launch(hash: context.hash, stage: context.stage, inputs: context.inputs, resumeDirectory: dir)
        let job = try prepare(context, in: dir)
        let summary = try inputs.run(context, generate: { batch in
            try self.generate(batch, job: job, launch: launch, context: context)
        }, score: { items in try self.rewardScores(items, job: job, context: context) })
        context.reporter.summary(summary)
        try EngineProvenance(engine: Self.engine, version: VLLMChecks.version, command: launch.command, site: site, resumedFrom: nil)
            .write(to: context.outputDirectory)
    }

    /// One launch: the batch's requests and its job file (the one the launch command names), then vLLM; a batch
    /// whose completions an earlier attempt left is read back without relaunching.
    func generate(_ batch: GenerationBatch, job: Job, launch: EngineLaunch, context: NodeContext) throws -> [VLLMCompletion] {
        let dir = context.resumeDirectory
        var job = job
        if batch.model != "policy" {
            // Only a model PrefLab does not read is handed over as its folder; PrefLab's own are exported as the policy.
            // The reference scores the policy's own ids, so the policy must be one too; a scorer reads text.
            guard let folder = context.inputs[batch.model], try EngineModel.read(folder) != nil,
                  job.maxModelLen != nil || batch.model != "reference" else {
                throw EngineError(context.stage, key: batch.model, "vLLM's text mode scores with `\(batch.model)` only when it is a model PrefLab does not read" + (batch.model == "reference" ? ", as the policy is" : ""))
            }
            job.model = folder.path
            job.maxModelLen = try EngineModels.contextLength(folder)
        }
        job.requests = dir.appendingPathComponent(batch.name + ".requests.jsonl").path
        job.output = dir.appendingPathComponent(batch.name + ".completions.jsonl").path
        if !FileManager.default.fileExists(atPath: job.output) {
            try EngineFiles.writeLines(batch.requests, to: URL(fileURLWithPath: job.requests))
            try EngineFiles.write(job, to: dir.appendingPathComponent("job.json"))
            try Launcher.run(launch.command, directory: dir, environment: launch.environment,
                             metrics: dir.appendingPathComponent("engine-metrics.jsonl"), pidFile: dir.appendingPathComponent("engine.pid"),
                             reporter: context.reporter)
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let completions = try String(contentsOfFile: job.output, encoding: .utf8).split(separator: "\n")
            .map { try decoder.decode(VLLMCompletion.self, from: Data($0.utf8)) }
        guard completions.count == batch.requests.count else {
            throw EngineError(context.stage,
                              "vLLM returned \(completions.count) completions for \(batch.requests.count) requests in \(job.output)")
        }
        return completions
    }

    public func launch(hash: String, stage: ResolvedStage, inputs: [String: URL], resumeDirectory dir: URL) throws -> EngineLaunch {
        let gpus = try GPUPlacement.siteGPUs(engine: "vLLM", site: site, stage: stage)
        let program = site.program(engine: Self.engine, entry: .script(dir.appendingPathComponent(Self.script).path),
                                   arguments: [dir.appendingPathComponent("job.json").path])
        let environment = Launcher.offlineEnvironment(dir)
        return EngineLaunch(directory: dir.path, environment: environment,
                            command: Launcher.command(site: site, program: program, processes: 1, gpus: gpus,
                                                      workDirectory: dir.path, environment: environment))
    }

    /// Writes the model and the scripts once; a rerun finds them. Each batch adds its requests and job file. A
    /// policy PrefLab does not read (`EngineModel`) is not exported: vLLM loads its folder as it is, in text mode.
    func prepare(_ context: NodeContext, in dir: URL) throws -> Job {
        let fm = FileManager.default, done = dir.appendingPathComponent("prepared")
        guard let dtype = VLLMChecks.dtype(context.stage) else { throw EngineError(context.stage, key: "engine_args", "unknown precision") }
        let gpus = try GPUPlacement.siteGPUs(engine: "vLLM", site: site, stage: context.stage)
        guard let policy = context.inputs["policy"] else { throw EngineError(context.stage, key: "policy", "no policy connected") }
        if try EngineModel.read(policy) != nil {
            let job = Job(model: policy.path, requests: "", output: "", dtype: dtype, tensorParallelSize: gpus,
                          maxModelLen: try EngineModels.contextLength(policy))
            if !fm.fileExists(atPath: done.path) { try writeScripts(dir, done: done) }
            return job
        }
        let job = Job(model: dir.appendingPathComponent("policy").path, requests: "", output: "", dtype: dtype, tensorParallelSize: gpus)
        if fm.fileExists(atPath: done.path) { return job }
        try? fm.removeItem(atPath: job.model)
        try models.exportModel(context, input: "policy", into: URL(fileURLWithPath: job.model))
        try writeScripts(dir, done: done)
        return job
    }

    /// The script and the text rules it shares with TRL's bridge (trl_text.py), then the `prepared` mark.
    private func writeScripts(_ dir: URL, done: URL) throws {
        for name in Self.scripts { try EngineFiles.script(name).write(to: dir.appendingPathComponent(name), options: .atomic) }
        try Data().write(to: done)
    }
}

extension VLLMRunner {
    /// best_of_n in text mode: the reward model's folder (a model PrefLab does not read, as the policy) scores the
    /// samples' ids, which are in its own vocabulary, through trl_score.py in vLLM's environment on the node's GPUs
    /// (one more launch; a rerun finds its scores).
    func rewardScores(_ items: [ScoreItem], job: Job, context: NodeContext) throws -> [Double] {
        let dir = context.resumeDirectory
        guard let folder = context.inputs["reward_model"], job.maxModelLen != nil, try EngineModel.read(folder) != nil else {
            throw EngineError(context.stage, key: "reward_model", "vLLM's text mode scores with `reward_model` only when it is a model PrefLab does not read, as the policy is")
        }
        let output = dir.appendingPathComponent("reward.scores.jsonl")
        if !FileManager.default.fileExists(atPath: output.path) {
            let score = ScoreJob(judge: "reward", tokenization: "ids", model: folder.path, reference: nil, policy: nil,
                                 items: dir.appendingPathComponent("reward.items.jsonl").path, output: output.path, dtype: job.dtype,
                                 maxLength: try EngineModels.contextLength(folder), sampling: nil)
            try score.write(items: items, in: dir)
            let program = site.program(engine: Self.engine, entry: .script(dir.appendingPathComponent(TRLScoreRunner.script).path),
                                       arguments: [dir.appendingPathComponent(TRLScoreRunner.jobFile).path])
            let environment = Launcher.offlineEnvironment(dir)
            let command = Launcher.command(site: site, program: program, processes: 1, gpus: job.tensorParallelSize,
                                           workDirectory: dir.path, environment: environment)
            try Launcher.run(command, directory: dir, environment: environment, metrics: dir.appendingPathComponent("engine-metrics.jsonl"),
                             pidFile: dir.appendingPathComponent("engine.pid"), reporter: context.reporter)
        }
        let lines = try ScoreLine.read(try String(contentsOf: output, encoding: .utf8))
        guard lines.count == items.count else {
            throw EngineError(context.stage, "trl_score.py wrote \(lines.count) scores for \(items.count) samples in \(output.path)")
        }
        return try lines.enumerated().map { i, line in
            guard let score = line.score else { throw EngineError(context.stage, "score line \(i + 1) of \(output.path) has no score") }
            return score
        }
    }
}
