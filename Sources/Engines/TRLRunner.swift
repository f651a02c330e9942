import Foundation
import Pipeline
import RecipeSpec
import StageSpecs

/// Runs `sft`, `reward_model`, `dpo`, `opo` and `d2po` nodes on TRL: exports the inputs (HF folder, rows, PrefLab's data order)
/// and a job file into the node's resume folder, launches the bridge script there, forwards its step metrics,
/// and imports the finished model. An interrupted node resumes from the engine's newest checkpoint.
public struct TRLRunner: StageRunner {
    public let inputs: any EngineInputs
    public let site: SiteConfig

    public init(inputs: any EngineInputs, site: SiteConfig = SiteConfig()) {
        self.inputs = inputs
        self.site = site
    }

    /// The engine's name in recipes and node hashes.
    public static let engine = "trl"
    static let script = "trl_train.py"
    /// Every script the job runs (the online loops and the rows for a model's own tokenizer are imported by trl_train.py).
    static let scripts = [script, "trl_online.py", "trl_d2po.py", "trl_text.py"]

    public func run(_ context: NodeContext) throws {
        let start = Date()
        let dir = context.resumeDirectory
        let job = try prepare(context, in: dir)
        try Self.forgetUnsavedSteps(metrics: URL(fileURLWithPath: job.paths.metrics), checkpoints: URL(fileURLWithPath: job.paths.checkpoints),
                               lineEnds: job.online?.lineEnds)
        let command = Launcher.command(site: site, python: site.python(for: "trl"), script: dir.appendingPathComponent(Self.script).path,
                                       job: dir.appendingPathComponent("job.json").path,
                                       processes: job.batch.processes, gpus: site.gpus(for: context.stage.kind),
                                       workDirectory: dir.path)
        try Launcher.run(command, directory: dir, environment: Self.environment(dir), metrics: URL(fileURLWithPath: job.paths.metrics),
                         pidFile: dir.appendingPathComponent("engine.pid"), reporter: context.reporter)
        let output = URL(fileURLWithPath: job.paths.output)
        let engineSummary = try JSONDecoder().decode(EngineSummary.self,
                                                     from: Data(contentsOf: output.appendingPathComponent("engine-summary.json")))
        var summary = engineSummary.values
        if let start = try EngineModels.start(context, engine: Self.engine) {
            // The engine's folder is the node: PrefLab does not read this architecture, so nothing is re-measured here.
            try EngineModels.keep(output, as: start.model, into: context.outputDirectory)
            summary["held_out_accuracy"] = engineSummary.values["heldout_accuracy"]
        } else {
            summary.merge(try inputs.importModel(from: output, context: context)) { _, preflab in preflab }
        }
        summary["steps"] = Double(engineSummary.steps)
        summary["text_token_mismatches"] = Double(engineSummary.textTokenMismatches)
        summary["seconds"] = Date().timeIntervalSince(start)
        context.reporter.summary(summary)
        try EngineProvenance(engine: Self.engine, version: TRLMapping.version, command: command, site: site,
                             resumedFrom: engineSummary.resumedFrom).write(to: context.outputDirectory)
    }

    /// Writes the job's files once; a rerun of an interrupted node finds them (and the engine's checkpoints) again.
    func prepare(_ context: NodeContext, in dir: URL) throws -> TRLJob {
        let fm = FileManager.default
        let jobFile = dir.appendingPathComponent("job.json"), done = dir.appendingPathComponent("prepared")
        try fm.createDirectory(at: dir, withIntermediateDirectories: true)
        if fm.fileExists(atPath: done.path) {
            let decoder = JSONDecoder()
            decoder.keyDecodingStrategy = .convertFromSnakeCase
            return try decoder.decode(TRLJob.self, from: Data(contentsOf: jobFile))
        }
        let stage = context.stage
        let start = try EngineModels.start(context, engine: Self.engine)
        // A model PrefLab does not read starts from its own folder; PrefLab's writes the start model it would train.
        let model = start?.folder ?? dir.appendingPathComponent("model")
        if start == nil {
            try? fm.removeItem(at: model)
            try inputs.initialModel(context, into: model)
        }
        let rows = try inputs.rows(context)
        let train = dir.appendingPathComponent("train.jsonl"), eval = dir.appendingPathComponent("eval.jsonl")
        try EngineFiles.writeLines(rows.train, to: train)
        if !rows.heldOut.isEmpty { try EngineFiles.writeLines(rows.heldOut, to: eval) }
        let precision = try Self.precision(stage, site: site)
        let maxLength = try EngineModels.contextLength(model)
        let seed = UInt64(try StageValues(stage).int("seed"))
        let paths = TRLJob.Paths(
            model: model.path, reference: context.inputs["reference"].map { start == nil ? dir.appendingPathComponent("reference").path : $0.path },
            train: train.path, eval: rows.heldOut.isEmpty ? nil : eval.path, order: dir.appendingPathComponent("order.json").path,
            checkpoints: dir.appendingPathComponent("checkpoints").path, metrics: dir.appendingPathComponent("engine-metrics.jsonl").path,
            output: dir.appendingPathComponent("output").path, rewardModel: stage.kind == "opo" ? context.inputs["reward_model"]?.path : nil)
        var job = try TRLMapping.job(stage, node: context.hash, rows: rows.train.count, processes: site.processes(for: stage.kind),
                                     precision: precision, maxLength: maxLength, checkpointEvery: 1, paths: paths)
        job.checkpointEvery = min(50, max(1, job.schedule.totalSteps / 4))
        if start != nil {
            try Self.modelTokenizes(&job, stage)
        } else {
            // The model's own tokenizer checks its rows in the script (trl_text.py); PrefLab's ids are checked here.
            try Self.checkWindow(rows.train + rows.heldOut, maxLength: maxLength, newTokens: job.online?.maxNewTokens, stage: stage)
        }
        if start == nil, let reference = context.inputs["reference"] {
            try inputs.initialModel(NodeContext(hash: context.hash, stage: stage, inputs: ["policy": reference],
                                                outputDirectory: context.outputDirectory, resumeDirectory: dir,
                                                reporter: context.reporter),
                                    into: URL(fileURLWithPath: paths.reference!))
        }
        if job.lora != nil {
            job.paths.adapter = dir.appendingPathComponent("adapter").path
            try inputs.initialAdapter(context, into: URL(fileURLWithPath: job.paths.adapter!))
        }
        if job.d2po != nil {
            try Self.prepareD2PO(&job, context, model: model, prompts: rows.train.count, seed: seed, inputs: inputs)
        }
        if let online = job.online {
            if online.probeEvery != nil {
                // The embedded probes' static RM: opo's (OPOTrainer.record), d2po's (accuracyProbe(defaultStaticRM:)).
                job.paths.probeRewardModel = (context.inputs["probe_reward_model"] ?? context.inputs["reward_model"])?.path
            }
            if online.labeler == "gold" || online.probeEvery != nil {
                job.online?.annotator = try Self.annotator(stage, seed: seed)
                job.scorers = try Self.scorers(context)
            }
            let order = job.d2po == nil ? Self.onlineOrder(online, prompts: rows.train.count, seed: seed, inputs: inputs)
                : Self.cyclicOrder(online, prompts: rows.train.count, seed: seed, inputs: inputs)
            try EngineFiles.write(order, to: URL(fileURLWithPath: paths.order))
        } else {
            let orders = (0..<job.batch.epochs).map { inputs.epochOrder(count: rows.train.count, epoch: $0, seed: seed) }
            try EngineFiles.write(orders, to: URL(fileURLWithPath: paths.order))
        }
        for script in Self.scripts {
            try EngineFiles.script(script).write(to: dir.appendingPathComponent(script), options: .atomic)
        }
        try job.encoded().write(to: jobFile, options: .atomic)
        try Data().write(to: done)
        return job
    }

    /// The job of a node whose model PrefLab does not read: TRL tokenises with the model's own tokenizer, and a
    /// reward model's new head is drawn by transformers from `head_seed`. LoRA is refused: its initial adapters are
    /// PrefLab's own draw on the models it reads.
    static func modelTokenizes(_ job: inout TRLJob, _ stage: ResolvedStage) throws {
        if job.lora != nil {
            throw EngineError(stage, key: "lora", "PrefLab draws the initial LoRA adapters on the models it reads; this node's model is one it does not read (its own tokenizer and architecture) — not delegated with `lora`; train all weights")
        }
        job.tokenization = "model"
        if stage.kind == "reward_model", stage.config["init"] != nil {
            job.headSeed = UInt64(try StageValues(stage).int("head_seed"))
        }
    }

    /// The prompts of each generation step as PrefLab's OPOTrainer takes them: `promptsPerStep` at a time from the
    /// epoch's permutation, the last gold step only what is left of the budget.
    static func onlineOrder(_ online: TRLJob.Online, prompts: Int, seed: UInt64, inputs: any EngineInputs) -> [[Int]] {
        (0..<online.steps).map { step in
            let order = inputs.epochOrder(count: prompts, epoch: step / online.stepsPerEpoch, seed: seed)
            let lo = (step % online.stepsPerEpoch) * online.promptsPerStep
            let count = min(online.promptsPerStep, (online.goldBudget ?? Int.max) - step * online.promptsPerStep)
            return Array(order[lo..<(lo + count)])
        }
    }

    /// D2POTrainer's prompts of each step: `promptsPerStep` at a time in epoch order, running on into the next epoch's
    /// permutation within a step (its `cyclicBatch`).
    static func cyclicOrder(_ online: TRLJob.Online, prompts: Int, seed: UInt64, inputs: any EngineInputs) -> [[Int]] {
        var orders: [Int: [Int]] = [:]
        return (0..<online.steps).map { step in
            (step * online.promptsPerStep..<(step + 1) * online.promptsPerStep).map { i in
                if orders[i / prompts] == nil {
                    orders = [i / prompts: inputs.epochOrder(count: prompts, epoch: i / prompts, seed: seed)]
                }
                return orders[i / prompts]![i % prompts]
            }
        }
    }

    /// D2PO's discriminator folders and, for random selection, PrefLab's permutation of each gold round's candidates.
    static func prepareD2PO(_ job: inout TRLJob, _ context: NodeContext, model: URL, prompts: Int, seed: UInt64,
                            inputs: any EngineInputs) throws {
        guard var d2po = job.d2po, let online = job.online else { return }
        if let field = ["reward_model": "reward_model", "dpo": "dpo_model"][d2po.discriminator] {
            guard let folder = context.inputs[field] else {
                throw EngineError(context.stage, key: field, "discriminator \(d2po.discriminator) needs '\(field)'")
            }
            job.paths.discriminator = folder.path
        }
        if d2po.discriminator == "dpo" { job.paths.discriminatorReference = context.inputs["dpo_reference"]?.path ?? model.path }
        if d2po.selection == "random" {
            for step in TRLMapping.goldRoundSteps(job) {
                d2po.selectionOrders[String(step)] = inputs.d2poSelectionOrder(count: d2po.stepsPerRound * online.promptsPerStep,
                                                                               step: step, seed: seed)
            }
        }
        job.d2po = d2po
    }

    /// Contrastive Distillation's scorers, which the bridge scores from their folders: models PrefLab does not read only
    /// (PrefLab's own score in its own tokenizer and template, on engine: embedded). Nil for the other tasks.
    static func scorers(_ context: NodeContext) throws -> TRLJob.Scorers? {
        guard context.stage.config["task"]?.string == "contrastive_distillation" else { return nil }
        var folders: [URL] = []
        for field in ["scorer_large", "scorer_small"] {
            guard let folder = context.inputs[field], try EngineModel.read(folder) != nil else {
                throw EngineError(context.stage, key: field, "the TRL bridge scores Contrastive Distillation from the folders of scorers PrefLab does not read; `\(field)` is missing or a model PrefLab reads — use engine: embedded")
            }
            folders.append(folder)
        }
        return TRLJob.Scorers(large: folders[0].path, small: folders[1].path, largeWindow: try EngineModels.contextLength(folders[0]),
                              smallWindow: try EngineModels.contextLength(folders[1]))
    }

    /// `preflab annotate` for the stage's task, seeded as the embedded OPOTrainer seeds its GoldAnnotator; with
    /// `probe_every`, it serves PrefLab's accuracy probe of the bridge's judges too (alone for a static-RM opo).
    static func annotator(_ stage: ResolvedStage, seed: UInt64) throws -> [String] {
        let task = try StageValues(stage).string("task")
        let probe = stage.config["probe_every"]?.int.map { ["--probe-every", String($0)] } ?? []
        return [try preflabExecutable(), "annotate", "--task", task, "--seed", String(seed)] + probe
    }

    /// The `preflab` binary that serves the gold annotator: `PREFLAB_EXECUTABLE`, this process when it is preflab,
    /// else a `preflab` beside this process's executable (a test bundle in the build folder).
    static func preflabExecutable() throws -> String {
        let fm = FileManager.default
        var candidates: [String] = []
        if let set = ProcessInfo.processInfo.environment["PREFLAB_EXECUTABLE"] { candidates.append(set) }
        if let me = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            if me.lastPathComponent == "preflab" { candidates.append(me.path) }
            candidates.append(me.deletingLastPathComponent().appendingPathComponent("preflab").path)
        }
        guard let found = candidates.first(where: { fm.isExecutableFile(atPath: $0) }) else {
            throw EngineLaunchError("the gold annotator needs the preflab binary (`preflab annotate`); none found at \(candidates.joined(separator: ", ")) — set PREFLAB_EXECUTABLE")
        }
        return found
    }

    /// The precision the node's hash was made for (`engine_args.precision`, float32 by default), as torch names it;
    /// a site that trains in another one is refused, not obeyed.
    public static func precision(_ stage: ResolvedStage, site: SiteConfig) throws -> String {
        let written = stage.config["engine_args"]?["precision"]?.string ?? stage.engineArgs?["precision"]?.string ?? "float32"
        guard let hashed = TRLChecks.precisions[written] else { throw EngineError(stage, key: "engine_args", "unknown precision '\(written)'") }
        if let local = site.precision["trl"], TRLChecks.precisions[local] != hashed {
            throw EngineError(stage, "the site file trains trl in \(local), but this node's hash was made for \(hashed); set engine_args.precision in the recipe")
        }
        return hashed
    }

    /// Pairs longer than the model's window: PrefLab cuts each sequence's response on the right and its prompt on
    /// the left, TRL's DPO and reward trainers share one prompt per pair and cut the end or drop the row; refused.
    /// (SFT rows go to TRL already fitted, as PrefLab trains them.)
    static func checkWindow(_ rows: [EngineRow], maxLength: Int, newTokens: Int?, stage: ResolvedStage) throws {
        if let newTokens, let longest = rows.compactMap(\.promptIdsPreflab?.count).max(), longest + newTokens > maxLength {
            throw EngineError(stage, key: "max_new_tokens", "a prompt of \(longest) tokens plus \(newTokens) sampled ones exceeds the model's window of \(maxLength); PrefLab and HF generate stop differently there — not delegated; lower max_new_tokens or use engine: embedded")
        }
        for (i, row) in rows.enumerated() {
            let longest = (row.promptIdsPreflab?.count ?? 0) + max(row.chosenIdsPreflab?.count ?? 0, row.rejectedIdsPreflab?.count ?? 0)
            if row.completion == nil, row.chosen != nil, longest > maxLength {
                throw EngineError(stage, "pair \(i + 1) has \(longest) tokens, more than the model's window of \(maxLength): PrefLab cuts each response on the right and its prompt on the left, TRL cuts the pair's end or drops it — not delegated; use a model with a longer window (max_seq_len) or engine: embedded")
            }
        }
    }

    /// Drops metric lines of steps after the newest complete checkpoint: the resumed job reports them again.
    /// An online job's line s ends at optimiser step `lineEnds[s - 1]`.
    static func forgetUnsavedSteps(metrics: URL, checkpoints: URL, lineEnds: [Int]?) throws {
        guard let text = try? String(contentsOf: metrics, encoding: .utf8) else { return }
        let saved = Self.lastCompleteCheckpoint(in: checkpoints) ?? 0
        let kept = text.split(separator: "\n").filter { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = object["step"] as? Int else { return false }
            return step >= 1 && (lineEnds.map { step <= $0.count ? $0[step - 1] : Int.max } ?? step) <= saved
        }
        try (kept.map { $0 + "\n" }.joined()).write(to: metrics, atomically: true, encoding: .utf8)
    }

    /// The step of the newest `checkpoint-N` whose `trainer_state.json` (HF writes it last) parses — the rule of
    /// trl_train.py's `last_complete_checkpoint`, which picks the checkpoint the job resumes from. Existence is not
    /// enough: a kill while HF writes that file leaves it present and cut short, and the job resumes from the one before.
    static func lastCompleteCheckpoint(in checkpoints: URL) -> Int? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpoints.path)) ?? []
        return names.compactMap { name -> Int? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)),
                  let data = try? Data(contentsOf: checkpoints.appendingPathComponent(name).appendingPathComponent("trainer_state.json")),
                  (try? JSONSerialization.jsonObject(with: data)) != nil else { return nil }
            return step
        }.max()
    }

    /// The job's environment: offline hub, unbuffered output, caches inside the resume folder.
    static func environment(_ dir: URL) -> [String: String] { Launcher.offlineEnvironment(dir) }
}

/// `engine-summary.json`, written by the bridge script next to the model it saved.
struct EngineSummary: Decodable {
    var values: [String: Double]
    var steps: Int
    var resumedFrom: String?
    /// Rows whose standard-format text re-tokenises differently from PrefLab's ids (trained on the ids).
    var textTokenMismatches: Int

    enum CodingKeys: String, CodingKey {
        case values, steps, resumedFrom = "resumed_from", textTokenMismatches = "text_token_mismatches"
    }
}

/// Where and how a delegated node was computed: not hashed, kept beside the node (`engine.json`).
struct EngineProvenance: Encodable {
    var engine: String
    var version: String
    var command: [String]
    var site: SiteConfig
    var resumedFrom: String?

    func write(to dir: URL) throws {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(self) + Data("\n".utf8)).write(to: dir.appendingPathComponent("engine.json"), options: .atomic)
    }
}
