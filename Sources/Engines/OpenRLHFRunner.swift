import Foundation
import Pipeline
import RecipeSpec
import StageSpecs

/// What the OpenRLHF runner needs from PrefLab's own code (supplied by the embedded side, like `EngineInputs`, so
/// this target links no compute code).
public protocol RolloutInputs: Sendable {
    /// Writes the model of input `field` (`policy` or `reward_model`) as a Hugging Face folder into `dir`.
    func exportModel(_ context: NodeContext, input field: String, into dir: URL) throws
    /// The node's policy-training prompts as PrefLab's rollouts render them (chat template, generation prompt),
    /// each with its length in PrefLab's tokens.
    func renderedPrompts(_ context: NodeContext) throws -> [(text: String, tokens: Int)]
    /// The node's policy-training prompts as their turns (`{role, content}`), for a model's own tokenizer.
    func promptMessages(_ context: NodeContext) throws -> [[[String: String]]]
}

/// Runs `ppo` nodes on OpenRLHF (`python openrlhf_ppo.py ARGS`, which runs `openrlhf.cli.train_ppo_ray` with them):
/// exports the policy and the reward model as HF folders and the prompts as JSON lines into the node's resume folder,
/// launches the job there and imports the trained actor. Models PrefLab does not read (`EngineModel`: an OPT the site
/// names, and what TRL trained from it) are handed over as their folders (linked where the exports would be, so the
/// argument vector is the same) and their prompts rendered by the model's own tokenizer in the job (openrlhf_ppo.py);
/// the trained actor is kept as OpenRLHF saved it. OpenRLHF needs CUDA: without a GPU the node fails with the reason
/// before anything is written, and its dependents are skipped.
public struct OpenRLHFRunner: PlannedLaunch {
    public let inputs: any RolloutInputs
    public let importer: any EngineInputs
    public let site: SiteConfig

    public init(inputs: any RolloutInputs, importer: any EngineInputs, site: SiteConfig = SiteConfig()) {
        self.inputs = inputs
        self.importer = importer
        self.site = site
    }

    static let engine = "openrlhf"
    /// The launch script (it runs `openrlhf.cli.train_ppo_ray` in its own process) and the text rules it imports.
    static let script = "openrlhf_ppo.py"
    static let scripts = [script, "trl_text.py"]

    public func run(_ context: NodeContext) throws {
        let start = Date()
        try GPUPlacement.requireLocalGPU(engine: "OpenRLHF", site: site, stage: context.stage, machineHasGPU: GPUPlacement.machineHasGPU())
        let dir = context.resumeDirectory
        let model = try prepare(context, in: dir)
        let launch = try self.launch(hash: context.hash, stage: context.stage, inputs: context.inputs, resumeDirectory: dir)
        try Launcher.run(launch.command, directory: dir, environment: launch.environment,
                         metrics: dir.appendingPathComponent("engine-metrics.jsonl"),
                         pidFile: dir.appendingPathComponent("engine.pid"), reporter: context.reporter)
        var summary: [String: Double] = [:]
        if let model {
            // PrefLab does not read this architecture: OpenRLHF's saved folder is the node.
            try EngineModels.keep(Self.paths(dir).outputURL, as: model, into: context.outputDirectory)
        } else {
            summary = try importer.importModel(from: Self.paths(dir).outputURL, context: context)
        }
        summary["seconds"] = Date().timeIntervalSince(start)
        context.reporter.summary(summary)
        try EngineProvenance(engine: Self.engine, version: OpenRLHFMapping.version, command: launch.command, site: site,
                             resumedFrom: nil).write(to: context.outputDirectory)
    }

    public func launch(hash: String, stage: ResolvedStage, inputs: [String: URL], resumeDirectory dir: URL) throws -> EngineLaunch {
        let gpus = try GPUPlacement.siteGPUs(engine: "OpenRLHF", site: site, stage: stage)
        let arguments = try OpenRLHFMapping.arguments(stage, paths: Self.paths(dir).mapping, gpus: gpus,
                                                      precision: try Self.precision(stage, site: site))
        let program = site.program(engine: Self.engine, entry: .script(dir.appendingPathComponent(Self.script).path), arguments: arguments,
                                   placesOwnWorkers: true)
        let environment = Launcher.offlineEnvironment(dir)
        return EngineLaunch(directory: dir.path, environment: environment,
                            command: Launcher.command(site: site, program: program, processes: 1, gpus: gpus,
                                                      workDirectory: dir.path, environment: environment))
    }

    /// The job's files, under the resume folder.
    struct Paths {
        var mapping: OpenRLHFMapping.Paths
        var outputURL: URL { URL(fileURLWithPath: mapping.output) }
    }

    static func paths(_ dir: URL) -> Paths {
        func at(_ name: String) -> String { dir.appendingPathComponent(name).path }
        return Paths(mapping: .init(policy: at("policy"), rewardModel: at("reward_model"), prompts: at("prompts.jsonl"),
                                    checkpoints: at("checkpoints"), output: at("output")))
    }

    /// Writes the models, prompts and scripts once; a rerun of an interrupted node finds them (and OpenRLHF's
    /// checkpoints, `--ckpt.load_enable`) again. Returns the marker of a policy PrefLab does not read (nil: its own).
    func prepare(_ context: NodeContext, in dir: URL) throws -> EngineModel? {
        let fm = FileManager.default, done = dir.appendingPathComponent("prepared")
        let start = try EngineModels.start(context, engine: Self.engine)
        if fm.fileExists(atPath: done.path) { return start?.model }
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let paths = Self.paths(dir).mapping
        let limit = try StageValues(context.stage).int("max_prompt_tokens")
        if start != nil {
            func folder(_ field: String) throws -> URL {
                guard let url = context.inputs[field] else { throw EngineError(context.stage, key: field, "no \(field) connected") }
                return url
            }
            try OpenRLHFFolders.checkRewardModel(try folder("reward_model"), stage: context.stage)
            for (field, path) in [("policy", paths.policy), ("reward_model", paths.rewardModel)] {
                try? fm.removeItem(atPath: path)
                try fm.createSymbolicLink(atPath: path, withDestinationPath: try folder(field).path)
            }
            try OpenRLHFFolders.writeRender(messages: try inputs.promptMessages(context), model: paths.policy, prompts: paths.prompts,
                                            maxPromptTokens: limit, in: dir)
        } else {
            let prompts = try inputs.renderedPrompts(context)
            if let (i, long) = prompts.enumerated().first(where: { $0.element.tokens > limit }) {
                throw EngineError(context.stage, key: "max_prompt_tokens", "prompt \(i + 1) has \(long.tokens) tokens, more than max_prompt_tokens \(limit): PrefLab cuts it on the left, OpenRLHF cuts prompt and response to --data.max_len its own way — not delegated; raise max_prompt_tokens or use engine: embedded")
            }
            for (field, path) in [("policy", paths.policy), ("reward_model", paths.rewardModel)] {
                try? fm.removeItem(atPath: path)
                try inputs.exportModel(context, input: field, into: URL(fileURLWithPath: path))
            }
            try EngineFiles.writeLines(prompts.map { ["prompt": $0.text] }, to: URL(fileURLWithPath: paths.prompts))
        }
        for script in Self.scripts {
            try EngineFiles.script(script).write(to: dir.appendingPathComponent(script), options: .atomic)
        }
        try Data().write(to: done)
        return start?.model
    }

    /// The precision the node's hash was made for (`engine_args.precision`, else OpenRLHF's bf16); OpenRLHF trains
    /// in bf16 or fp16 only, and a site that names another precision is refused, never obeyed.
    static func precision(_ stage: ResolvedStage, site: SiteConfig) throws -> String {
        let hashed = OpenRLHFChecks.precision(stage) ?? OpenRLHFChecks.defaultPrecision
        if let local = site.precision[engine], OpenRLHFChecks.canonicalPrecision(local) != OpenRLHFChecks.canonicalPrecision(hashed) {
            throw EngineError(stage, "the site file trains openrlhf in \(local), but this node's hash was made for \(hashed); set engine_args.precision in the recipe")
        }
        return hashed
    }
}
