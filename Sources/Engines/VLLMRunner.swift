import Foundation
import Pipeline
import RecipeSpec
import StageSpecs

/// One generation request as vLLM's offline `LLM.generate` takes it: PrefLab's own prompt ids (fitted to the
/// window as PrefLab's sampler fits them) and the node's sampling settings.
public struct VLLMRequest: Codable, Sendable, Equatable {
    public var promptTokenIds: [Int]
    public var maxTokens: Int
    public var temperature: Double
    public var topP: Double
    /// Each request its own seed (the node's seed + its index): vLLM draws from other streams than PrefLab's
    /// sampler, so the settings are the same and the samples are not.
    public var seed: UInt64
    /// The end-of-turn token, where PrefLab's sampler stops too.
    public var stopTokenIds: [Int]
    /// With it, a scoring request: vLLM returns the summed log-probability of the prompt's last `scoreTokens` ids
    /// (from its `prompt_logprobs`), and what it generates is not read. Absent (and left out of the file): a sample.
    public var scoreTokens: Int?

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
}

/// What vLLM generated for one request (`completions.jsonl`, in request order).
public struct VLLMCompletion: Codable, Sendable, Equatable {
    public var tokenIds: [Int]
    /// `stop` (the stop token was produced) or `length` (cut at max_tokens).
    public var finishReason: String
    /// A scoring request's summed log-probability of its scored ids (`VLLMRequest.scoreTokens`).
    public var promptLogprob: Double?

    public init(tokenIds: [Int], finishReason: String, promptLogprob: Double? = nil) {
        self.tokenIds = tokenIds
        self.finishReason = finishReason
        self.promptLogprob = promptLogprob
    }
}

/// One vLLM launch: its requests, named for the files that keep them and their completions in the node's resume
/// folder (`<name>.requests.jsonl`, `<name>.completions.jsonl`), so an interrupted node relaunches only what had
/// not come back.
public struct GenerationBatch: Sendable, Equatable {
    public var name: String
    public var requests: [VLLMRequest]

    public init(name: String, requests: [VLLMRequest]) {
        self.name = name
        self.requests = requests
    }
}

/// PrefLab's side of a generation node (supplied by the embedded side, so this target links no compute code).
public protocol GenerationInputs: Sendable {
    /// Runs the node as the embedded runner does, except that every sample comes from `generate` (one vLLM launch
    /// per batch, completions in request order); writes the node's artifacts and returns its summary.
    func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion]) throws -> [String: Double]
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

    /// The job file the script reads.
    struct Job: Codable, Equatable {
        var model: String
        var requests: String
        var output: String
        var dtype: String
        var tensorParallelSize: Int

        enum CodingKeys: String, CodingKey { case model, requests, output, dtype, tensorParallelSize = "tensor_parallel_size" }
    }

    public func run(_ context: NodeContext) throws {
        try GPUPlacement.requireLocalGPU(engine: "vLLM", site: site, stage: context.stage, machineHasGPU: GPUPlacement.machineHasGPU())
        let dir = context.resumeDirectory
        let launch = try self.launch(hash: context.hash, stage: context.stage, inputs: context.inputs, resumeDirectory: dir)
        let job = try prepare(context, in: dir)
        let summary = try inputs.run(context) { batch in
            try self.generate(batch, job: job, launch: launch, context: context)
        }
        context.reporter.summary(summary)
        try EngineProvenance(engine: Self.engine, version: VLLMChecks.version, command: launch.command, site: site, resumedFrom: nil)
            .write(to: context.outputDirectory)
    }

    /// One launch: the batch's requests and its job file (the one the launch command names), then vLLM; a batch
    /// whose completions an earlier attempt left is read back without relaunching.
    func generate(_ batch: GenerationBatch, job: Job, launch: EngineLaunch, context: NodeContext) throws -> [VLLMCompletion] {
        let dir = context.resumeDirectory
        var job = job
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

    /// Writes the model and the script once; a rerun finds them. Each batch adds its requests and job file.
    func prepare(_ context: NodeContext, in dir: URL) throws -> Job {
        let fm = FileManager.default, done = dir.appendingPathComponent("prepared")
        guard let dtype = VLLMChecks.dtype(context.stage) else { throw EngineError(context.stage, key: "engine_args", "unknown precision") }
        let job = Job(model: dir.appendingPathComponent("policy").path, requests: "", output: "", dtype: dtype,
                      tensorParallelSize: try GPUPlacement.siteGPUs(engine: "vLLM", site: site, stage: context.stage))
        if fm.fileExists(atPath: done.path) { return job }
        try? fm.removeItem(atPath: job.model)
        try models.exportModel(context, input: "policy", into: URL(fileURLWithPath: job.model))
        try EngineFiles.script(Self.script).write(to: dir.appendingPathComponent(Self.script), options: .atomic)
        try Data().write(to: done)
        return job
    }
}
