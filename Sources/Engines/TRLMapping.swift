import Foundation
import Hyperparameters
import RecipeSpec
import StageSpecs

/// How a PrefLab training stage maps onto TRL 1.16: the refusals `validate` reports, and the job file.
public enum TRLMapping {
    /// The TRL version the generated scripts were checked against.
    public static let version = "1.16.0"
    /// Stage kinds the TRL runner trains.
    public static let kinds: Set<String> = ["sft", "reward_model", "dpo", "opo", "d2po"]

    /// Why this stage cannot run on TRL exactly as PrefLab defines it (empty: it can): the catalogue's own TRL check
    /// (`TRLChecks`, which `validate` reports), so that run time refuses exactly what validate does.
    public static func refusals(_ stage: ResolvedStage) -> [EngineError] {
        guard let check = TRLChecks.check(kind: stage.kind) else {
            return [EngineError(stage, "kind \(stage.kind) has no TRL runner; it runs on engine: embedded"
                                + (stage.kind == "ppo" ? " (TRL 1.16 has no PPO, removed in TRL #7020; or engine: openrlhf)" : ""))]
        }
        return check(stage).map { EngineError(stage, key: $0.key == "engine" ? nil : $0.key, $0.message) }
    }

    /// The job for `stage` over `rows` training rows on `processes` ranks; throws the refusals, and when the
    /// batch geometry cannot be reproduced exactly (TRL averages micro-batch means, PrefLab weights by size).
    public static func job(_ stage: ResolvedStage, node: String, rows: Int, processes: Int, precision: String,
                           maxLength: Int, checkpointEvery: Int, paths: TRLJob.Paths) throws -> TRLJob {
        if let first = refusals(stage).first { throw first }
        let v = StageValues(stage)
        guard rows > 0 else { throw EngineError(stage, "the training set is empty") }
        if stage.kind == "opo" || stage.kind == "d2po" {
            guard processes == 1 else {
                throw EngineError(stage, "\(stage.kind) on TRL runs in one process (its sampling and labelling are per step, not sharded); set the site file's processes for \(stage.kind) to 1")
            }
            let online = stage.kind == "opo" ? onlineJob : d2poJob
            return try online(stage, node, rows, precision, maxLength, checkpointEvery, paths)
        }
        let epochs = try v.int("epochs")
        // The reward-model trainer caps its batch at the data size; the others keep a short single step.
        let batch = stage.kind == "reward_model" ? min(try v.int("batch_size"), rows) : try v.int("batch_size")
        let micro = min(try v.int("micro_batch"), batch)
        let perStep = micro * processes
        let last = rows % batch
        guard batch >= 1, micro >= 1, epochs >= 1, processes >= 1 else {
            throw EngineError(stage, "batch_size, micro_batch, epochs and processes must be >= 1")
        }
        // TRL averages micro-batch means; PrefLab weights them by size: every micro-batch of a step must be equal
        // (a short last batch is fine as one micro-batch on one process).
        let evenLast = last == 0 || last % perStep == 0 || (processes == 1 && last <= micro)
        guard batch % perStep == 0, evenLast else {
            throw EngineError(stage, key: "micro_batch", "TRL averages equal micro-batches; batch_size \(batch) and the last batch of each epoch (\(last == 0 ? batch : last) of \(rows) rows) must split into micro-batches of \(micro) × \(processes) process(es) exactly; change micro_batch, batch_size or the process count")
        }
        let stepsPerEpoch = (rows + batch - 1) / batch
        let total = stepsPerEpoch * epochs
        let warmupFraction = try v.double("warmup_fraction")
        return TRLJob(
            method: stage.kind, trlVersion: version, node: node, paths: paths,
            optimizer: .init(learningRate: try v.double("learning_rate"), beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0),
            schedule: .init(totalSteps: total, warmupSteps: Int((warmupFraction * Double(total)).rounded(.up)),
                            floorFraction: stage.kind == "reward_model" ? try v.double("floor_fraction") : 0),
            batch: .init(batchSize: batch, microBatch: micro, processes: processes, gradientAccumulation: batch / perStep,
                         epochs: epochs, stepsPerEpoch: stepsPerEpoch),
            maxGradNorm: try v.double("max_grad_norm"), seed: UInt64(try v.int("seed")),
            loss: stage.kind == "dpo" ? loss(try parameters(DPOParameters.self, stage).loss) : nil,
            lora: try lora(v), checkpointEvery: checkpointEvery, maxLength: maxLength, precision: precision)
    }

    /// peft's `LoraConfig` from `lora: { rank, alpha, targets }` (alpha defaults to rank, targets to q/v).
    static func lora(_ v: StageValues) throws -> TRLJob.LoRA? {
        guard v.has("lora") else { return nil }
        let rank = try v.int("lora.rank")
        let targets = v.node("lora.targets")?.list?.compactMap(\.string) ?? ["q_proj", "v_proj"]
        return TRLJob.LoRA(rank: rank, alpha: try v.optionalDouble("lora.alpha") ?? Double(rank), targets: targets)
    }

    /// The DPO-family loss as the bridge computes it (`TRLChecks` has already refused the kinds it cannot).
    static func loss(_ o: DPOLossOptions) -> TRLJob.Loss {
        TRLJob.Loss(type: o.kind.rawValue, beta: o.beta, labelSmoothing: o.kind == .conservative ? o.labelSmoothing : nil)
    }

    /// The trainer's settings read as the embedded trainer reads them (nested maps keep their own defaults).
    static func parameters<P: ParameterSet>(_ type: P.Type, _ stage: ResolvedStage) throws -> P {
        do { return try P(config: stage.config) } catch { throw EngineError(stage, "\(error)") }
    }

    /// `opo`: PrefLab's online loop (OPOTrainer) over TRL's online DPO trainer. One HF optimiser step per update
    /// epoch; generation step g samples, labels and trains `update_epochs` times on its pairs (plus the replayed ones).
    static func onlineJob(_ stage: ResolvedStage, _ node: String, _ prompts: Int, _ precision: String,
                          _ maxLength: Int, _ checkpointEvery: Int, _ paths: TRLJob.Paths) throws -> TRLJob {
        let p = try parameters(OPOParameters.self, stage)
        let gold = stage.config["labeler"]?.string == "gold"
        guard prompts >= p.promptsPerStep else {
            throw EngineError(stage, key: "prompts_per_step", "\(prompts) prompts are fewer than one step's \(p.promptsPerStep)")
        }
        let budget = gold ? p.goldBudget : nil
        let stepsPerEpoch = prompts / p.promptsPerStep
        let steps = min(stepsPerEpoch * p.epochs, budget.map { ($0 + p.promptsPerStep - 1) / p.promptsPerStep } ?? Int.max)
        let updateEpochs = p.updateEpochs ?? (gold ? 4 : 1)
        let total = steps * updateEpochs
        return TRLJob(
            method: "opo", trlVersion: version, node: node, paths: paths,
            optimizer: .init(learningRate: p.learningRate, beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0),
            schedule: .init(totalSteps: total, warmupSteps: Int((p.warmupFraction * Double(total)).rounded(.up)), floorFraction: 1),
            batch: .init(batchSize: p.promptsPerStep, microBatch: p.microBatch, processes: 1, gradientAccumulation: 1,
                         epochs: 1, stepsPerEpoch: total),
            maxGradNorm: p.maxGradNorm, seed: p.seed, loss: loss(p.loss), lora: nil,
            checkpointEvery: checkpointEvery, maxLength: maxLength, precision: precision,
            online: .init(steps: steps, stepsPerEpoch: stepsPerEpoch, promptsPerStep: p.promptsPerStep, updateEpochs: updateEpochs,
                          replayLast: gold ? p.replayLast : 0, goldBudget: budget, maxNewTokens: p.maxNewTokens,
                          temperature: p.temperature, topP: p.topP, labeler: gold ? "gold" : "reward_model", annotator: nil,
                          lineEnds: (0..<steps).map { ($0 + 1) * updateEpochs }, probeEvery: stage.config["probe_every"]?.int))
    }

    /// `d2po`: PrefLab's D2POTrainer (Algorithm 1) over TRL's online DPO trainer (trl_d2po.py). One HF optimiser
    /// step per policy update: each generation step's silver update, then `gold_update_epochs` more in a gold round.
    /// The policy's and the discriminator's rates are constant, as PrefLab's.
    static func d2poJob(_ stage: ResolvedStage, _ node: String, _ prompts: Int, _ precision: String,
                        _ maxLength: Int, _ checkpointEvery: Int, _ paths: TRLJob.Paths) throws -> TRLJob {
        let p = try parameters(D2POParameters.self, stage)
        let stepsPerRound = (p.rolloutsPerGoldRound + p.promptsPerStep - 1) / p.promptsPerStep
        let rounds = (p.goldBudget + p.goldPerRound - 1) / p.goldPerRound
        let (planned, overflow) = rounds.multipliedReportingOverflow(by: stepsPerRound)
        let steps = p.steps ?? planned
        guard p.steps != nil || !overflow, steps <= 10_000_000 else {
            throw EngineError(stage, key: "gold_budget", "\(rounds) gold rounds of \(stepsPerRound) steps is more than the bridge plans (10,000,000 steps)")
        }
        let lineEnds = d2poLineEnds(p, steps: steps, stepsPerRound: stepsPerRound)
        let discriminator = stage.config["discriminator"]?.string ?? "reward_model"
        return TRLJob(
            method: "d2po", trlVersion: version, node: node, paths: paths,
            optimizer: .init(learningRate: p.learningRate, beta1: 0.9, beta2: 0.95, eps: 1e-5, weightDecay: 0),
            schedule: .init(totalSteps: lineEnds.last ?? 0, warmupSteps: 0, floorFraction: 1),
            batch: .init(batchSize: p.promptsPerStep, microBatch: p.microBatch, processes: 1, gradientAccumulation: 1,
                         epochs: 1, stepsPerEpoch: lineEnds.last ?? 0),
            maxGradNorm: p.maxGradNorm, seed: p.seed, loss: loss(p.loss), lora: nil,
            checkpointEvery: checkpointEvery, maxLength: maxLength, precision: precision,
            online: .init(steps: steps, stepsPerEpoch: prompts / p.promptsPerStep, promptsPerStep: p.promptsPerStep,
                          updateEpochs: 1, replayLast: 0, goldBudget: p.goldBudget, maxNewTokens: p.maxNewTokens,
                          temperature: p.temperature, topP: p.topP, labeler: "gold", annotator: nil, lineEnds: lineEnds,
                          probeEvery: stage.config["probe_every"]?.int),
            d2po: .init(discriminator: discriminator, discriminatorLearningRate: p.discriminatorLearningRate,
                        discriminatorBeta: p.discriminatorBeta, stepsPerRound: stepsPerRound, goldPerRound: p.goldPerRound,
                        goldUpdateEpochs: p.goldUpdateEpochs, selection: p.selection.rawValue, selectionOrders: [:]))
    }

    /// D2POTrainer's optimiser steps through each generation step: one silver update, plus `goldUpdateEpochs` when the
    /// step ends a round (`stepsPerRound`) while budget remains; each round labels min(gold_per_round, what is left,
    /// the round's candidates) pairs.
    static func d2poLineEnds(_ p: D2POParameters, steps: Int, stepsPerRound: Int) -> [Int] {
        var used = 0, optimiserSteps = 0, ends: [Int] = []
        for step in 0..<steps {
            optimiserSteps += 1
            if (step + 1) % stepsPerRound == 0 && used < p.goldBudget {
                used += min(p.goldPerRound, p.goldBudget - used, stepsPerRound * p.promptsPerStep)
                optimiserSteps += p.goldUpdateEpochs
            }
            ends.append(optimiserSteps)
        }
        return ends
    }

    /// The generation steps (0-based) that end in a gold round.
    static func goldRoundSteps(_ job: TRLJob) -> [Int] {
        guard let ends = job.online?.lineEnds else { return [] }
        return ends.indices.filter { ends[$0] - ($0 == 0 ? 0 : ends[$0 - 1]) > 1 }
    }
}
