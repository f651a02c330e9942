import RecipeSpec

// Each property's doc is its `fields` entry: the one declaration the schema, validation, `preflab stages`
// and the trainer share.

/// PPO settings; defaults are Unpacking Table 9 unless noted, variations are Table 10's.
public struct PPOParameters: ParameterSet, Equatable {
    /// Where the value model starts (Table 10 "Init value from reward").
    public enum ValueInit: String, Sendable, CaseIterable, ParameterChoice {
        /// From the reward model, head included (the paper's choice, after InstructGPT).
        case rewardModel = "reward_model"
        /// From the SFT policy's body with a fresh scalar head (Quark).
        case sft
    }

    /// Adaptive KL controller (Ziegler et al. 2019; Table 10, off by default).
    public struct AdaptiveKL: ParameterSet, Equatable {
        public var target: Double = 6
        public var horizon: Double = 10_000

        public static let fields: [ParameterField<Self>] = [
            .init("target", \.target, range: .positive, doc: "Target KL per rollout (sum over its tokens)."),
            .init("horizon", \.horizon, range: .positive, doc: "Horizon in rollouts: how fast β moves toward the target."),
        ]

        public init() {}

        public init(target: Double = 6, horizon: Double = 10_000) {
            self.target = target
            self.horizon = horizon
        }
    }

    public var promptBatch: Int = 64
    public var rolloutsPerPrompt: Int = 1
    public var miniBatch: Int = 64
    public var gradientAccumulation: Int = 1
    public var epochs: Int = 1
    public var innerEpochs: Int = 1
    public var maxPromptTokens: Int = 1024
    public var maxNewTokens: Int = 1024
    public var temperature: Double = 0.7
    public var topP: Double = 1.0
    public var beta: Double = 0.05
    public var gamma: Double = 1.0
    public var lambda: Double = 0.95
    public var clip: Double = 0.2
    public var valueCoefficient: Double = 0.1
    public var learningRate: Double = 1e-6
    public var warmupFraction: Double = 0.1
    public var maxGradNorm: Double = 1.0
    public var eosPenalty: Double? = -10
    public var rewardNormalization: Bool = false
    public var rewardWhitening: Bool = false
    public var adaptiveKL: AdaptiveKL? = nil
    public var clampKL: Bool = false
    public var valueInit: ValueInit = .rewardModel
    public var microBatch: Int = 8
    public var seed: UInt64 = 0

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("prompt_batch", \.promptBatch, range: .atLeastOne, doc: "B: prompt batch size for rollout (Table 9: 64)."),
        .init("rollouts_per_prompt", \.rolloutsPerPrompt, range: .atLeastOne, doc: "r: rollouts per prompt (Table 9: 1; Table 11 uses up to 4)."),
        .init("mini_batch", \.miniBatch, range: .atLeastOne, doc: "b: minibatch size for forward-backward passes (Table 9: 64)."),
        .init("gradient_accumulation", \.gradientAccumulation, range: .atLeastOne, doc: "g: gradient accumulation, in minibatches (Table 9: 1)."),
        .init("epochs", \.epochs, range: .atLeastOne, doc: "E: epochs over the prompts (Table 9: 1)."),
        .init("inner_epochs", \.innerEpochs, range: .atLeastOne, doc: "e: inner epochs on each batch of rollouts (Table 9: 1)."),
        .init("max_prompt_tokens", \.maxPromptTokens, range: .atLeastOne, doc: "L_p: longest prompt in tokens, cut on the left (Table 9: 1024)."),
        .init("max_new_tokens", \.maxNewTokens, range: .atLeastOne, doc: "L_c: longest continuation in tokens (Table 9: 1024)."),
        .init("temperature", \.temperature, range: .positive, doc: "τ: rollout sampling temperature (Table 9: 0.7)."),
        .init("top_p", \.topP, range: .unitPositive, doc: "Nucleus mass for rollouts (1 = plain sampling, as the paper)."),
        .init("beta", \.beta, range: .nonNegative, doc: "β: KL penalty coefficient (Table 9: 0.05; 0.0325 for 70B reward models)."),
        .init("gamma", \.gamma, range: .unit, doc: "γ: discount (Table 9: 1.0)."),
        .init("lambda", \.lambda, range: .unit, doc: "λ: GAE parameter (Table 9: 0.95)."),
        .init("clip", \.clip, range: .positive, doc: "ε: clip range of policy and value losses (Table 9: 0.2)."),
        .init("value_coefficient", \.valueCoefficient, range: .nonNegative, doc: "α: value-loss coefficient (Table 9: 0.1)."),
        .init("learning_rate", \.learningRate, range: .positive, doc: "η: peak learning rate of policy and value model (Table 9: 1e-6)."),
        .init("warmup_fraction", \.warmupFraction, range: .unit, doc: "Linear warmup over this fraction of optimiser steps, constant after (Table 9: 10%)."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Max global gradient norm, per model (Table 9: 1.0)."),
        .init("eos_penalty", \.eosPenalty, doc: "EOS trick: reward of a completion that hits L_c without EOS (App. F.2: −10); nil disables."),
        .init("reward_normalization", \.rewardNormalization, doc: "Table 10 \"Reward normalization\": scale RM scores by the mean/std of the first iteration's (off)."),
        .init("reward_whitening", \.rewardWhitening, doc: "Table 10 \"Reward whitening\": whiten token rewards per minibatch, mean kept (off)."),
        .init("adaptive_kl", \.adaptiveKL, doc: "Table 10 \"Adaptive KL controller\" (off: fixed β)."),
        .init("clamp_kl", \.clampKL, doc: "Table 10 \"KL clamping\": penalise max(0, log π − log π_ref) per token (AlpacaFarm; off)."),
        .init("value_init", \.valueInit, doc: "Table 10 \"Init value from reward\" (on)."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Rows per forward/backward pass inside a minibatch (memory only)."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of prompt order, rollouts and minibatch order."),
    ]
}

/// OPO settings; defaults from D2PO §4.2 and App. A.3.
public struct OPOParameters: ParameterSet, Equatable {
    public var loss: DPOLossOptions = DPOLossOptions(beta: 0.05)
    public var learningRate: Double = 5e-5
    public var promptsPerStep: Int = 8
    public var epochs: Int = 1
    public var updateEpochs: Int? = nil
    public var replayLast: Int = 0
    public var goldBudget: Int? = nil
    public var maxNewTokens: Int = 64
    public var temperature: Double = 1.0
    public var topP: Double = 1.0
    public var warmupFraction: Double = 0
    public var maxGradNorm: Double = 1.0
    public var microBatch: Int = 8
    public var seed: UInt64 = 0

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("loss", \.loss, doc: "DPO loss on the online pairs; β = 0.05 (the KL coefficient λ of D2PO §4.2)."),
        .init("learning_rate", \.learningRate, range: .positive, doc: "Policy learning rate: 5e-5 (App. A.3)."),
        .init("prompts_per_step", \.promptsPerStep, range: .atLeastOne, doc: "Prompts (hence pairs) per step: 8 (the \"batch of 8\" of App. A.3)."),
        .init("epochs", \.epochs, range: .atLeastOne, doc: "Passes over the prompt set (steps = epochs × prompts / promptsPerStep, fewer if the gold budget ends first)."),
        .init("update_epochs", \.updateEpochs, range: .atLeastOne, doc: "DPO epochs on each batch: nil means 1 with a static RM and 4 with gold labels (App. A.3, Table 4)."),
        .init("replay_last", \.replayLast, range: .nonNegative, doc: "Experience replay: also train on the last O gold preferences each step (Table 4 \"XPR\"; 0 = off)."),
        .init("gold_budget", \.goldBudget, range: .atLeastOne, doc: "Gold preference budget for `gold` labelling: never exceeded; training stops when spent (nil: unlimited)."),
        .init("max_new_tokens", \.maxNewTokens, range: .atLeastOne, doc: "Longest sampled response in tokens (the D2PO tasks ask for ~50-token outputs)."),
        .init("temperature", \.temperature, range: .positive, doc: "Sampling temperature for the pairs (TRL's default of 1)."),
        .init("top_p", \.topP, range: .unitPositive, doc: "Nucleus mass for sampling."),
        .init("warmup_fraction", \.warmupFraction, range: .unit, doc: "Linear warmup fraction (constant after); D2PO sets none."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Global gradient-norm clip; 0 disables."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Pairs per forward/backward pass (memory only)."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of prompt order and sampling."),
    ]
}

/// D2PO settings; defaults from D2PO §4.2 and App. A.3 (Word Collector values for N/T_P, P/T_P, P).
public struct D2POParameters: ParameterSet, Equatable {
    /// How gold pairs are chosen from the candidates (L11).
    public enum Selection: String, Sendable, CaseIterable, ParameterChoice {
        /// Smallest |R(x, y1) − R(x, y2)| first (confidence sampling, the paper's default).
        case confidence
        /// Uniformly at random (better on Contrastive Distillation, §3).
        case random
    }

    public var loss: DPOLossOptions = DPOLossOptions(beta: 0.05)
    public var learningRate: Double = 5e-5
    public var discriminatorLearningRate: Double = 1e-4
    public var discriminatorBeta: Double = 0.05
    public var promptsPerStep: Int = 8
    public var rolloutsPerGoldRound: Int = 32
    public var goldPerRound: Int = 2
    public var goldBudget: Int = 4000
    public var steps: Int? = nil
    public var selection: Selection = .confidence
    public var goldUpdateEpochs: Int = 1
    public var maxNewTokens: Int = 64
    public var temperature: Double = 1.0
    public var topP: Double = 1.0
    public var maxGradNorm: Double = 1.0
    public var microBatch: Int = 8
    public var seed: UInt64 = 0

    public init() {}

    public static let fields: [ParameterField<Self>] = [
        .init("loss", \.loss, doc: "Policy DPO loss; β = 0.05 (the KL coefficient λ of §4.2)."),
        .init("learning_rate", \.learningRate, range: .positive, doc: "Policy learning rate: 5e-5 (App. A.3)."),
        .init("discriminator_learning_rate", \.discriminatorLearningRate, range: .positive, doc: "Discriminator learning rate (reward model or DPO discriminator): 1e-4 (App. A.3)."),
        .init("discriminator_beta", \.discriminatorBeta, range: .positive, doc: "β_d of a DPO discriminator's loss and implicit reward (same λ = 0.05)."),
        .init("prompts_per_step", \.promptsPerStep, range: .atLeastOne, doc: "Prompts (hence rollout pairs) per step: 8 (the \"batch of 8\" of App. A.3)."),
        .init("rollouts_per_gold_round", \.rolloutsPerGoldRound, range: .atLeastOne, doc: "N/T_P: rollout pairs between gold rounds (Word Collector 32; Nouns 64; CDist and Math 160)."),
        .init("gold_per_round", \.goldPerRound, range: .atLeastOne, doc: "P/T_P: gold labels per round (Word Collector 2; Nouns 4; CDist 5; Math 10)."),
        .init("gold_budget", \.goldBudget, range: .atLeastOne, doc: "P: total gold budget, never exceeded (Word Collector 4000; Nouns 1000; CDist and Math 2000)."),
        .init("steps", \.steps, range: .atLeastOne, doc: "Steps to run; nil runs until the gold budget is spent."),
        .init("selection", \.selection, doc: "Gold-pair selection (L11)."),
        .init("gold_update_epochs", \.goldUpdateEpochs, range: .atLeastOne, doc: "Passes over each round's gold labels for L14 and L15."),
        .init("max_new_tokens", \.maxNewTokens, range: .atLeastOne, doc: "Longest sampled response in tokens (the D2PO tasks ask for ~50-token outputs)."),
        .init("temperature", \.temperature, range: .positive, doc: "Sampling temperature (TRL's default of 1)."),
        .init("top_p", \.topP, range: .unitPositive, doc: "Nucleus mass for sampling."),
        .init("max_grad_norm", \.maxGradNorm, range: .nonNegative, doc: "Global gradient-norm clip per model; 0 disables."),
        .init("micro_batch", \.microBatch, range: .atLeastOne, doc: "Pairs per forward/backward pass (memory only)."),
        .init("seed", \.seed, range: .nonNegative, doc: "Seed of prompt order, sampling and random selection."),
    ]
}
