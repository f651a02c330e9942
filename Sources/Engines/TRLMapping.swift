import Foundation
import RecipeSpec

/// How a PrefLab training stage maps onto TRL 1.16: the refusals `validate` reports, and the job file.
public enum TRLMapping {
    /// The TRL version the generated scripts were checked against.
    public static let version = "1.16.0"
    /// Stage kinds the TRL runner trains.
    public static let kinds: Set<String> = ["sft", "reward_model", "dpo"]

    /// Why this stage cannot run on TRL exactly as PrefLab defines it (empty: it can).
    public static func refusals(_ stage: ResolvedStage) -> [EngineError] {
        let v = StageValues(stage)
        switch stage.kind {
        case "sft", "reward_model":
            return []
        case "dpo":
            var out: [EngineError] = []
            switch v.node("loss.kind")?.string ?? "sigmoid" {
            case "sigmoid": break
            case "ipo":
                out.append(EngineError(stage, key: "loss.kind", "TRL's `ipo` averages the log-ratio per token; PrefLab's IPO sums it over the sequence (Azar et al.); not delegated — use engine: embedded"))
            case "conservative":
                out.append(EngineError(stage, key: "loss.kind", "TRL has no conservative DPO (its `robust` loss is a different, unbiased formula); not delegated — use engine: embedded"))
            case let other:
                out.append(EngineError(stage, key: "loss.kind", "`\(other)` runs through TRL's CPOTrainer, which this bridge does not drive; use engine: embedded"))
            }
            return out
        case "opo":
            return [EngineError(stage, "opo on TRL needs OnlineDPOTrainer with PrefLab's update epochs, replay and gold annotator; this bridge does not drive it yet — use engine: embedded")]
        case "d2po":
            return [EngineError(stage, "d2po (discriminator rounds, confidence selection, gold budget) has no TRL trainer and is not bridged; use engine: embedded")]
        case "ppo":
            return [EngineError(stage, "TRL 1.16 has no PPO (removed in TRL #7020); use engine: openrlhf")]
        default:
            return [EngineError(stage, "kind \(stage.kind) has no TRL equivalent; it runs on engine: embedded only")]
        }
    }

    /// The job for `stage` over `rows` training rows on `processes` ranks; throws the refusals, and when the
    /// batch geometry cannot be reproduced exactly (TRL averages micro-batch means, PrefLab weights by size).
    public static func job(_ stage: ResolvedStage, node: String, rows: Int, processes: Int, precision: String,
                           maxLength: Int, checkpointEvery: Int, paths: TRLJob.Paths) throws -> TRLJob {
        if let first = refusals(stage).first { throw first }
        let v = StageValues(stage)
        guard rows > 0 else { throw EngineError(stage, "the training set is empty") }
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
            loss: stage.kind == "dpo" ? .init(type: "sigmoid", beta: try v.double("loss.beta")) : nil,
            lora: try lora(v), checkpointEvery: checkpointEvery, maxLength: maxLength, precision: precision)
    }

    /// peft's `LoraConfig` from `lora: { rank, alpha, targets }` (alpha defaults to rank, targets to q/v).
    static func lora(_ v: StageValues) throws -> TRLJob.LoRA? {
        guard v.has("lora") else { return nil }
        let rank = try v.int("lora.rank")
        let targets = v.node("lora.targets")?.list?.compactMap(\.string) ?? ["q_proj", "v_proj"]
        return TRLJob.LoRA(rank: rank, alpha: try v.optionalDouble("lora.alpha") ?? Double(rank), targets: targets)
    }
}
