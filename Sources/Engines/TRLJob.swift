import Foundation

/// Everything the generated TRL script reads (`job.json` in the node's resume folder): one field per
/// mapped parameter, so the file alone says how a delegated node was trained.
public struct TRLJob: Codable, Equatable, Sendable {
    /// PrefLab stage kind, which picks the TRL trainer: `sft` → SFTTrainer, `reward_model` → RewardTrainer,
    /// `dpo` → DPOTrainer, `opo` → the bridge's subclass of OnlineDPOTrainer (trl_online.py), `d2po` → its subclass
    /// in trl_d2po.py.
    public var method: String
    /// The TRL version the bridge was written and checked against (scripts/setup-engines.sh pins it).
    public var trlVersion: String
    /// The node being made (hash), for the engine's logs.
    public var node: String
    /// Files and folders the script reads and writes.
    public var paths: Paths
    /// AdamW as PrefLab's trainers use it (β₂ = 0.95, ε = 1e-5, no weight decay; HF's defaults differ).
    public var optimizer: Optimizer
    /// The learning rate per optimiser step, PrefLab's `LRSchedule` (applied through a LambdaLR).
    public var schedule: Schedule
    /// Batch geometry: PrefLab's batch = per-process micro-batch × accumulation × processes.
    public var batch: Batch
    /// Global gradient-norm clip (PrefLab `max_grad_norm`; 0 disables, as in HF).
    public var maxGradNorm: Double
    /// PrefLab's `seed`: HF `seed` (dropout-free models: it only seeds torch); the data order is PrefLab's own,
    /// written to `paths.order`.
    public var seed: UInt64
    /// The DPO loss (dpo only).
    public var loss: Loss?
    /// LoRA adapters through peft, starting from PrefLab's own initial adapters (`paths.adapter`) and merged into the
    /// weights at the end, as the embedded trainer stores its policy (dpo only).
    public var lora: LoRA?
    /// Engine checkpoint every this many optimiser steps (and at the end): what a killed run resumes from.
    public var checkpointEvery: Int
    /// Longest prompt + response in tokens: the model's context (PrefLab truncates there too).
    public var maxLength: Int
    /// Numeric precision of the weights during training (`float32` on CPU, the site file may say `bfloat16`).
    public var precision: String
    /// The online loop (opo, d2po).
    public var online: Online? = nil
    /// D2PO's discriminator and gold rounds (d2po only).
    public var d2po: D2PO? = nil
    /// `model` when the node's model is one PrefLab does not read (`EngineModel`): the rows are text and TRL
    /// tokenises them with the model's own tokenizer (trl_text.py). Absent: PrefLab's token ids.
    public var tokenization: String? = nil
    /// The seed of a new scalar head that transformers draws (`reward_model` from a causal LM PrefLab does not read,
    /// the stage's `head_seed`); absent where PrefLab draws the head itself.
    public var headSeed: UInt64? = nil
    /// Contrastive Distillation's scoring models for the gold labeller (opo, d2po with that task): folders of models
    /// PrefLab does not read, scored by the bridge (trl_online.py's `ContrastiveScorers`); absent for other tasks.
    public var scorers: Scorers? = nil

    /// The two scorers' folders and windows (their config.json's, as vLLM's text scoring fits to).
    public struct Scorers: Codable, Equatable, Sendable {
        public var large: String
        public var small: String
        public var largeWindow: Int
        public var smallWindow: Int
    }

    public struct Paths: Codable, Equatable, Sendable {
        /// HF folder of the model training starts from.
        public var model: String
        /// HF folder of the DPO reference when it is not the starting model.
        public var reference: String?
        /// Training rows (JSON lines, TRL's standard prompt/chosen/rejected or prompt/completion format plus
        /// PrefLab's own token ids for the token-stream check).
        public var train: String
        /// Held-out pairs evaluated after the last step (reward_model), if any.
        public var eval: String?
        /// PrefLab's data order: one permutation of the training rows per epoch.
        public var order: String
        /// Engine checkpoints (`checkpoint-N`), kept in the resume folder.
        public var checkpoints: String
        /// Step metrics as JSON lines `{step,total,values}`, read by the runner while the job runs.
        public var metrics: String
        /// Where the finished model is saved (an HF folder).
        public var output: String
        /// The static reward model labelling online pairs (opo with `labeler: reward_model`): its node's HF folder.
        public var rewardModel: String?
        /// D2PO's initial discriminator (its `reward_model` or `dpo_model` node's HF folder; none for `self`).
        public var discriminator: String? = nil
        /// π_ref of a DPO discriminator (its `dpo_reference`, else the starting policy).
        public var discriminatorReference: String? = nil
        /// PrefLab's initial LoRA adapters as a peft adapter folder (stages with `lora`).
        public var adapter: String? = nil
        /// The probe's static RM (with `probe_every`): `probe_reward_model`'s folder, else `reward_model`'s (opo's
        /// static labeller, d2po's initial discriminator), as the embedded trainers pick it.
        public var probeRewardModel: String? = nil

        public init(model: String, reference: String?, train: String, eval: String?, order: String, checkpoints: String,
                    metrics: String, output: String, rewardModel: String? = nil) {
            (self.model, self.reference, self.train, self.eval) = (model, reference, train, eval)
            (self.order, self.checkpoints, self.metrics, self.output) = (order, checkpoints, metrics, output)
            self.rewardModel = rewardModel
        }
    }

    public struct Optimizer: Codable, Equatable, Sendable {
        /// Peak learning rate.
        public var learningRate: Double
        /// AdamW β₁.
        public var beta1: Double
        /// AdamW β₂.
        public var beta2: Double
        /// AdamW ε.
        public var eps: Double
        /// Decoupled weight decay.
        public var weightDecay: Double
    }

    public struct Schedule: Codable, Equatable, Sendable {
        /// Optimiser steps of the whole run.
        public var totalSteps: Int
        /// Steps of linear warmup: lr × (step + 1) / warmup_steps for step < warmup_steps.
        public var warmupSteps: Int
        /// After warmup, linear decay to floor_fraction × lr at the last step (0 for SFT/DPO, 0.1 for RMs).
        public var floorFraction: Double

        public init(totalSteps: Int, warmupSteps: Int, floorFraction: Double) {
            (self.totalSteps, self.warmupSteps, self.floorFraction) = (totalSteps, warmupSteps, floorFraction)
        }
    }

    public struct Batch: Codable, Equatable, Sendable {
        /// Examples per optimiser step (PrefLab `batch_size`).
        public var batchSize: Int
        /// Examples per forward/backward pass per process (PrefLab `micro_batch`).
        public var microBatch: Int
        /// Processes (torchrun ranks) sharing each batch.
        public var processes: Int
        /// Micro-batches each process accumulates per step: batch / (micro × processes).
        public var gradientAccumulation: Int
        /// Passes over the training rows.
        public var epochs: Int
        /// Optimiser steps per pass (the last batch of a pass may be smaller, as in PrefLab).
        public var stepsPerEpoch: Int
    }

    public struct Loss: Codable, Equatable, Sendable {
        /// PrefLab's `loss.kind`: `sigmoid` (TRL's DPOTrainer `loss_type`), or for opo, where the bridge computes the
        /// loss itself, also `conservative` and `ipo` (summed over the sequence, as PrefLab's).
        public var type: String
        /// β.
        public var beta: Double
        /// ε of `conservative`.
        public var labelSmoothing: Double? = nil
    }

    /// PrefLab's online loop (OPOTrainer): each generation step samples two responses per prompt, labels the pairs,
    /// then takes `updateEpochs` optimiser steps on them (plus the replayed gold pairs).
    public struct Online: Codable, Equatable, Sendable {
        /// Generation steps (fewer than epochs × prompts / promptsPerStep when the gold budget ends first).
        public var steps: Int
        /// Generation steps per pass over the prompts (PrefLab reshuffles the prompts every pass).
        public var stepsPerEpoch: Int
        /// Prompts (hence pairs) per generation step.
        public var promptsPerStep: Int
        /// Optimiser steps on each step's pairs.
        public var updateEpochs: Int
        /// Gold pairs of earlier steps trained on again (experience replay; 0: none).
        public var replayLast: Int
        /// Gold labels at most (gold labelling; nil: unlimited); the last step labels what is left.
        public var goldBudget: Int?
        /// Longest sampled response in tokens.
        public var maxNewTokens: Int
        /// Sampling temperature.
        public var temperature: Double
        /// Nucleus mass (top-k off).
        public var topP: Double
        /// `reward_model` (the static RM at `paths.reward_model`) or `gold` (`annotator`).
        public var labeler: String
        /// The command serving PrefLab's gold annotator as JSON lines (`preflab annotate --task T --seed S`): the gold
        /// labels, and the accuracy probe's R* when `probeEvery` is set (then for a static-RM labeller too).
        public var annotator: [String]?
        /// The optimiser step count at the end of each generation step (its metrics line): opo `(g + 1) ×
        /// updateEpochs`; d2po one silver update per step plus `goldUpdateEpochs` in each gold round.
        public var lineEnds: [Int] = []
        /// PrefLab's accuracy probe window in steps (`probe_every`; D2PO Figs. 5–6): the bridge scores each step's
        /// candidates by the judges before its update, `preflab annotate --probe-every` applies R* and the rule.
        public var probeEvery: Int? = nil
    }

    /// PrefLab's D2POTrainer (Algorithm 1): the discriminator and its gold rounds.
    public struct D2PO: Codable, Equatable, Sendable {
        /// `reward_model` (Bradley–Terry), `dpo` (a separate DPO model) or `self` (the policy's implicit reward).
        public var discriminator: String
        /// The discriminator's constant learning rate.
        public var discriminatorLearningRate: Double
        /// β_d of a DPO discriminator's loss and implicit reward.
        public var discriminatorBeta: Double
        /// Generation steps per gold round (N/T_P rollouts, rounded up to whole steps).
        public var stepsPerRound: Int
        /// Gold labels per round (P/T_P), never past the budget.
        public var goldPerRound: Int
        /// Discriminator-then-policy updates on each round's gold pairs.
        public var goldUpdateEpochs: Int
        /// `confidence` (smallest score gap first) or `random`.
        public var selection: String
        /// `random` selection: PrefLab's permutation of each round's candidates, keyed by the round's generation step
        /// (0-based), so that the engine picks the same candidate positions.
        public var selectionOrders: [String: [Int]]
    }

    public struct LoRA: Codable, Equatable, Sendable {
        /// peft `r`.
        public var rank: Int
        /// peft `lora_alpha`.
        public var alpha: Double
        /// peft `target_modules` (HF Llama names).
        public var targets: [String]

        public init(rank: Int, alpha: Double, targets: [String]) {
            (self.rank, self.alpha, self.targets) = (rank, alpha, targets)
        }
    }

    /// `job.json` bytes: snake_case keys, sorted, so the file is stable for golden tests.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return try encoder.encode(self) + Data("\n".utf8)
    }
}
