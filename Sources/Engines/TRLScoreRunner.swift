import Foundation
import Pipeline
import RecipeSpec
import StageSpecs

/// What the scoring runner needs from PrefLab's own code (supplied by the embedded side, like `EngineInputs`, so this
/// target links no compute code): the items the judge scores and the accuracy PrefLab computes from the scores.
public protocol AccuracyInputs: Sendable {
    /// The node's items: its held-out pairs' responses (every chosen one, then every rejected one), or, for the
    /// on-policy accuracy, its held-out prompts with the sampling settings. As text (`text`: a judge PrefLab does not
    /// read, tokenised by the model's own tokenizer) or as PrefLab's ids.
    func accuracyItems(_ context: NodeContext, text: Bool) throws -> AccuracyItems
    /// The node's summary from the engine's lines (one per scored response, in item order), by PrefLab's own
    /// evaluation code (`Evaluation.pairAccuracy`, `accuracyOnPolicy`, `implicitRewards`).
    func accuracySummary(_ context: NodeContext, items: AccuracyItems, lines: [ScoreLine]) throws -> [String: Double]
}

/// What an `rm_accuracy` node has scored.
public struct AccuracyItems: Sendable {
    public var items: [ScoreItem]
    /// On-policy accuracy: each item is a prompt the policy answers `samples` times; nil for pairs' responses.
    public var sampling: ScoreJob.Sampling?

    public init(items: [ScoreItem], sampling: ScoreJob.Sampling? = nil) {
        self.items = items
        self.sampling = sampling
    }

    /// The lines the engine writes: one per response.
    public var responses: Int { items.count * (sampling?.samples ?? 1) }
}

/// One item of the scoring job (trl_score.py): a prompt as messages (text) or PrefLab's ids, and the response to
/// score, none when the policy samples it.
public struct ScoreItem: Codable, Sendable, Equatable {
    public var messages: [[String: String]]?
    public var response: String?
    public var promptIds: [Int]?
    public var responseIds: [Int]?

    public init(messages: [[String: String]]? = nil, response: String? = nil, promptIds: [Int]? = nil, responseIds: [Int]? = nil) {
        (self.messages, self.response, self.promptIds, self.responseIds) = (messages, response, promptIds, responseIds)
    }
}

/// One line of the job's output: the reward model's score, or the DPO model's and reference's summed log-probs; for
/// a sampled response its ids (and, in text mode, its decoded text).
public struct ScoreLine: Decodable, Sendable, Equatable {
    public var score: Double?
    public var logp: Double?
    public var refLogp: Double?
    public var responseIds: [Int]?
    public var text: String?

    public init(score: Double? = nil, logp: Double? = nil, refLogp: Double? = nil, responseIds: [Int]? = nil, text: String? = nil) {
        (self.score, self.logp, self.refLogp, self.responseIds, self.text) = (score, logp, refLogp, responseIds, text)
    }
}

extension ScoreLine {
    /// The lines of the job's output file.
    static func read(_ text: String) throws -> [ScoreLine] {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try text.split(separator: "\n").map { try decoder.decode(ScoreLine.self, from: Data($0.utf8)) }
    }
}

/// trl_score.py's job file.
public struct ScoreJob: Codable, Sendable, Equatable {
    /// Writes `items` to the job's items file and the job into `dir` (`score-job.json`, the file the launch names).
    func write(items: [ScoreItem], in dir: URL) throws {
        try EngineFiles.writeLines(items, to: URL(fileURLWithPath: self.items))
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys]
        try (encoder.encode(self) + Data("\n".utf8)).write(to: dir.appendingPathComponent(TRLScoreRunner.jobFile), options: .atomic)
    }

    /// `reward` (the reward model's head) or `implicit` (DPO model and reference log-probs).
    public var judge: String
    /// `model` (text, the model's own tokenizer) or `ids` (given in the model's vocabulary: PrefLab's for its own
    /// models, a text-mode sample's own).
    public var tokenization: String
    public var model: String
    public var reference: String?
    public var policy: String?
    public var items: String
    public var output: String
    public var dtype: String
    public var maxLength: Int
    public var sampling: Sampling?

    /// The on-policy accuracy's sampling, as PrefLab's `accuracyOnPolicy` draws: two samples per prompt.
    public struct Sampling: Codable, Sendable, Equatable {
        public var samples: Int
        public var temperature: Double
        public var topP: Double
        public var maxNewTokens: Int
        public var seed: UInt64
        /// PrefLab's end of turn, the stop of its own ids (nil in text mode: the model's EOS).
        public var eosTokenId: Int?

        public init(samples: Int, temperature: Double, topP: Double, maxNewTokens: Int, seed: UInt64, eosTokenId: Int?) {
            (self.samples, self.temperature, self.topP, self.maxNewTokens, self.seed, self.eosTokenId) =
                (samples, temperature, topP, maxNewTokens, seed, eosTokenId)
        }
    }
}

/// Runs `rm_accuracy` on TRL's stack (`python trl_score.py score-job.json`): the judge's folders — a model PrefLab
/// does not read as it is, one PrefLab reads exported as a Hugging Face folder — score the node's items with
/// transformers, and PrefLab computes the accuracy from the scores. The scores are kept beside the node
/// (`scores.jsonl`), so an accuracy can be traced to them.
public struct TRLScoreRunner: PlannedLaunch {
    public let inputs: any AccuracyInputs
    public let models: any RolloutInputs
    public let site: SiteConfig

    public init(inputs: any AccuracyInputs, models: any RolloutInputs, site: SiteConfig = SiteConfig()) {
        self.inputs = inputs
        self.models = models
        self.site = site
    }

    static let script = "trl_score.py"
    static let scripts = [script, "trl_text.py"]
    static let jobFile = "score-job.json"
    /// The model inputs the job loads, each as a folder.
    static let modelFields = ["reward_model", "dpo_model", "reference", "policy"]

    public func run(_ context: NodeContext) throws {
        let start = Date()
        let dir = context.resumeDirectory
        let launch = try self.launch(hash: context.hash, stage: context.stage, inputs: context.inputs, resumeDirectory: dir)
        let (job, items) = try prepare(context, in: dir)
        if !FileManager.default.fileExists(atPath: job.output) {
            try Launcher.run(launch.command, directory: dir, environment: launch.environment,
                             metrics: dir.appendingPathComponent("engine-metrics.jsonl"),
                             pidFile: dir.appendingPathComponent("engine.pid"), reporter: context.reporter)
        }
        let text = try String(contentsOfFile: job.output, encoding: .utf8)
        let lines = try ScoreLine.read(text)
        guard lines.count == items.responses else {
            throw EngineError(context.stage, "trl_score.py wrote \(lines.count) scores for \(items.responses) responses in \(job.output)")
        }
        var summary = try inputs.accuracySummary(context, items: items, lines: lines)
        try Data(text.utf8).write(to: context.outputDirectory.appendingPathComponent("scores.jsonl"), options: .atomic)
        summary["seconds"] = Date().timeIntervalSince(start)
        context.reporter.summary(summary)
        try EngineProvenance(engine: TRLRunner.engine, version: TRLMapping.version, command: launch.command, site: site,
                             resumedFrom: nil).write(to: context.outputDirectory)
    }

    public func launch(hash: String, stage: ResolvedStage, inputs: [String: URL], resumeDirectory dir: URL) throws -> EngineLaunch {
        if let first = TRLMapping.refusals(stage).first { throw first }
        return EngineLaunch(directory: dir.path, environment: TRLRunner.environment(dir),
                            command: Launcher.command(site: site, python: site.python(for: "trl"), script: dir.appendingPathComponent(Self.script).path,
                                                      job: dir.appendingPathComponent(Self.jobFile).path, processes: 1,
                                                      gpus: site.gpus(for: stage.kind), workDirectory: dir.path))
    }

    /// The job, its items and the scripts; the models PrefLab reads are exported once (a rerun finds them).
    func prepare(_ context: NodeContext, in dir: URL) throws -> (ScoreJob, AccuracyItems) {
        let fm = FileManager.default
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        let text = try Self.textMode(context)
        let exported = dir.appendingPathComponent("exported")
        var folders: [String: String] = [:]
        for field in Self.modelFields {
            guard let input = context.inputs[field] else { continue }
            let folder = text ? input : dir.appendingPathComponent(field)
            if !text, !fm.fileExists(atPath: exported.path) {
                try? fm.removeItem(at: folder)
                try models.exportModel(context, input: field, into: folder)
            }
            folders[field] = folder.path
        }
        if !text { try Data().write(to: exported) }
        let items = try inputs.accuracyItems(context, text: text)
        let implicit = folders["reward_model"] == nil
        guard let model = folders["reward_model"] ?? folders["dpo_model"], !implicit || folders["reference"] != nil else {
            throw EngineError(context.stage, "set either 'reward_model', or 'dpo_model' and 'reference'")
        }
        if items.sampling != nil, folders["policy"] == nil { throw EngineError(context.stage, key: "policy", "the on-policy accuracy needs 'policy'") }
        let job = ScoreJob(judge: implicit ? "implicit" : "reward", tokenization: text ? "model" : "ids", model: model,
                           reference: implicit ? folders["reference"] : nil, policy: folders["policy"],
                           items: dir.appendingPathComponent("items.jsonl").path, output: dir.appendingPathComponent("scores.jsonl").path,
                           dtype: try TRLRunner.precision(context.stage, site: site),
                           maxLength: try EngineModels.contextLength(URL(fileURLWithPath: model)), sampling: items.sampling)
        try job.write(items: items.items, in: dir)
        for script in Self.scripts {
            try EngineFiles.script(script).write(to: dir.appendingPathComponent(script), options: .atomic)
        }
        return (job, items)
    }

    /// Whether the node's models are ones PrefLab does not read (handed over as their folders, text tokenised by the
    /// model's own tokenizer); every model input must agree, one tokenizer serving them all.
    static func textMode(_ context: NodeContext) throws -> Bool {
        let markers = try modelFields.compactMap { field in try context.inputs[field].map { (field, try EngineModel.read($0)) } }
        guard let first = markers.first else { throw EngineError(context.stage, "no judge connected: set 'reward_model', or 'dpo_model' and 'reference'") }
        if let other = markers.first(where: { ($0.1 == nil) != (first.1 == nil) }) {
            let (own, foreign) = first.1 == nil ? (first.0, other.0) : (other.0, first.0)
            throw EngineError(context.stage, key: own, "`\(own)` is a model PrefLab reads (its own tokenizer) and `\(foreign)` a model it does not; the scoring job tokenises each item once, for every model of the node")
        }
        return first.1 != nil
    }
}
