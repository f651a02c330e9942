import Foundation
import RecipeSpec

/// PrefLab `ppo` as OpenRLHF 0.11.2's `train_ppo_ray` argument vector (names checked against its argparse),
/// with the Unpacking Table 10 variants OpenRLHF has mapped and the rest refused.
public enum OpenRLHFMapping {
    /// The OpenRLHF version whose CLI the vector was checked against.
    public static let version = "0.11.2"
    /// The major.minor version delegated nodes' hashes carry.
    public static var majorMinor: String { version.split(separator: ".").prefix(2).joined(separator: ".") }

    /// Where the launched job reads and writes (HF folders and a prompt file prepared by the runner).
    public struct Paths: Sendable, Equatable {
        public var policy: String
        public var rewardModel: String
        /// JSON lines `{"prompt": ...}`: prompts rendered with the chat template, cut to max_prompt_tokens on the left.
        public var prompts: String
        public var checkpoints: String
        public var output: String

        public init(policy: String, rewardModel: String, prompts: String, checkpoints: String, output: String) {
            self.policy = policy
            self.rewardModel = rewardModel
            self.prompts = prompts
            self.checkpoints = checkpoints
            self.output = output
        }
    }

    /// The precision a delegated node trains in when `engine_args.precision` does not say (OpenRLHF has no float32).
    public static let defaultPrecision = "bf16"

    /// `engine_args.precision`, when the stage sets it.
    public static func precision(_ stage: ResolvedStage) -> String? {
        stage.engineArgs?.entries?.first { $0.key == "precision" }?.value.value.string
    }

    /// One spelling per precision (`bf16`, `fp16`, `fp32`), nil for an unknown one.
    public static func canonicalPrecision(_ name: String) -> String? {
        switch name {
        case "bf16", "bfloat16": return "bf16"
        case "fp16", "float16": return "fp16"
        case "fp32", "float32": return "fp32"
        default: return nil
        }
    }

    /// Why this stage cannot run on OpenRLHF exactly as PrefLab defines it: the one list `validate` (through the
    /// catalogue's `OpenRLHFChecks`) and the runner refuse from.
    public static func refusals(_ stage: ResolvedStage) -> [EngineError] {
        guard stage.kind == "ppo" else {
            return [EngineError(stage, "OpenRLHF runs only ppo in this bridge (\(stage.kind) runs on engine: embedded or trl)")]
        }
        let v = StageValues(stage)
        var out: [EngineError] = []
        let no = "; use engine: embedded"
        if let p = precision(stage), !["bf16", "fp16"].contains(canonicalPrecision(p) ?? "") {
            out.append(EngineError(stage, key: "engine_args", "OpenRLHF trains in bf16 or fp16 only (DeepSpeed --ds.param_dtype), not \(p); set engine_args.precision: bf16 or fp16\(no)"))
        }
        if v.node("reward_whitening")?.bool == true {
            out.append(EngineError(stage, key: "reward_whitening", "OpenRLHF whitens advantages, never token rewards\(no)"))
        }
        if v.node("clamp_kl")?.bool == true {
            out.append(EngineError(stage, key: "clamp_kl", "OpenRLHF has only the k1/k2/k3 KL estimators, no clamped penalty\(no)"))
        }
        if v.node("reward_normalization")?.bool == true {
            out.append(EngineError(stage, key: "reward_normalization", "OpenRLHF's --reward.normalize_enable uses the RM's stored mean/std, not the first iteration's statistics\(no)"))
        }
        if let alpha = v.node("value_coefficient")?.double, alpha != 1 {
            out.append(EngineError(stage, key: "value_coefficient", "OpenRLHF steps the critic on its own value loss (coefficient 1); \(alpha) only rescales the critic's gradient, which changes its clipping and Adam's ε — set value_coefficient: 1 to delegate, or use engine: embedded"))
        }
        if v.node("eos_trick")?.bool != false, let penalty = v.node("eos_penalty")?.double, penalty >= 0 {
            out.append(EngineError(stage, key: "eos_penalty", "OpenRLHF reads a non-negative --reward.stop_properly_penalty_coef as a factor on the RM score, not as the reward \(penalty) of a truncated completion\(no)"))
        }
        if let warmup = v.node("warmup_fraction")?.double, warmup > 0 {
            out.append(EngineError(stage, key: "warmup_fraction", "OpenRLHF's constant_with_warmup starts at lr 0 (step/warmup); PrefLab's warmup starts at lr/warmup ((step+1)/warmup) — set warmup_fraction: 0 to delegate\(no)"))
        }
        let rollouts = (v.node("prompt_batch")?.int ?? 0) * (v.node("rollouts_per_prompt")?.int ?? 0)
        let mini = v.node("mini_batch")?.int ?? 0, accumulation = v.node("gradient_accumulation")?.int ?? 0
        if rollouts != mini || accumulation != 1 || v.node("inner_epochs")?.int != 1 {
            out.append(EngineError(stage, key: "mini_batch", "PrefLab recomputes log-probs, values and whitened advantages per minibatch on the current models (App. G); OpenRLHF computes them once per rollout batch: the same only with one minibatch per rollout batch (mini_batch = prompt_batch × rollouts_per_prompt = \(rollouts), gradient_accumulation 1, inner_epochs 1)\(no)"))
        }
        return out
    }

    /// The `train_ppo_ray` arguments (after `python -m openrlhf.cli.train_ppo_ray`); throws the refusals.
    public static func arguments(_ stage: ResolvedStage, paths: Paths, gpus: Int, precision: String) throws -> [String] {
        if let first = refusals(stage).first { throw first }
        let v = StageValues(stage)
        // Table 10 "Init value from reward": the critic starts from the RM (head included) or the policy (new head).
        let critic = try v.string("value_init") == "sft" ? paths.policy : paths.rewardModel
        let lr = try v.double("learning_rate"), warmup = try v.double("warmup_fraction"), maxNorm = try v.double("max_grad_norm")
        var a: [String] = [
            "--actor.model_name_or_path", paths.policy,
            "--reward.model_name_or_path", paths.rewardModel,
            "--critic.model_name_or_path", critic,
            "--data.prompt_dataset", paths.prompts, "--data.input_key", "prompt",
            "--ckpt.path", paths.checkpoints, "--ckpt.output_dir", paths.output, "--ckpt.load_enable", "--ckpt.save_hf",
            "--ckpt.save_steps", "10",
            "--rollout.batch_size", "\(try v.int("prompt_batch"))",
            "--rollout.n_samples_per_prompt", "\(try v.int("rollouts_per_prompt"))",
            "--train.batch_size", "\(try v.int("mini_batch") * v.int("gradient_accumulation"))",
            "--train.micro_batch_size", "\(try v.int("micro_batch"))",
            "--rollout.micro_batch_size", "\(try v.int("micro_batch"))",
            "--train.num_episodes", "\(try v.int("epochs"))",
            "--train.max_epochs", "\(try v.int("inner_epochs"))",
            "--data.max_len", "\(try v.int("max_prompt_tokens") + v.int("max_new_tokens"))",
            "--rollout.max_new_tokens", "\(try v.int("max_new_tokens"))",
            "--rollout.temperature", number(try v.double("temperature")),
            "--rollout.top_p", number(try v.double("top_p")),
            "--algo.advantage.estimator", "gae",
            "--algo.advantage.gamma", number(try v.double("gamma")),
            "--algo.advantage.lambd", number(try v.double("lambda")),
            "--algo.kl.estimator", "k1", "--algo.kl.init_coef", number(try v.double("beta")),
            "--actor.eps_clip", number(try v.double("clip")), "--critic.value_clip", number(try v.double("clip")),
            // PrefLab never clips rewards (OpenRLHF's default range is ±10).
            "--reward.clip_range", "-1000000000.0", "1000000000.0",
            "--train.seed", "\(try v.int("seed"))",
        ]
        for model in ["actor", "critic"] {
            a += ["--\(model).adam.lr", number(lr), "--\(model).adam.betas", "0.9", "0.95", "--\(model).adam.eps", number(1e-5),
                  "--\(model).adam.weight_decay", "0.0", "--\(model).lr_scheduler", "constant_with_warmup",
                  "--\(model).lr_warmup_ratio", number(warmup), "--\(model).max_norm", number(maxNorm)]
        }
        // EOS trick (App. F.2): a negative coefficient is a fixed reward for completions cut at max_new_tokens.
        if v.node("eos_trick")?.bool != false, let penalty = try v.optionalDouble("eos_penalty") {
            a += ["--reward.stop_properly_penalty_coef", number(penalty)]
        }
        if v.has("adaptive_kl") {
            a += ["--algo.kl.target", number(try v.optionalDouble("adaptive_kl.target") ?? 6),
                  "--algo.kl.horizon", "\(Int(try v.optionalDouble("adaptive_kl.horizon") ?? 10_000))"]
        }
        for model in ["actor", "critic", "ref", "reward"] { a += ["--\(model).num_nodes", "1", "--\(model).num_gpus_per_node", "\(gpus)"] }
        a += ["--train.colocate_all", "--vllm.num_engines", "1", "--vllm.tensor_parallel_size", "1"]
        // OpenRLHF trains in bf16 or fp16 only (no float32 option).
        a += ["--ds.param_dtype", canonicalPrecision(precision) == "fp16" ? "fp16" : "bf16"]
        return a
    }

    /// A number as argparse reads it: plain decimals (argparse takes "-1e-05" for an option, "-0.00001" for a number).
    public static func number(_ x: Double) -> String {
        if x == x.rounded(), abs(x) < 1e15 { return String(format: "%.1f", x) }
        var s = String(format: "%.12f", x)
        while s.hasSuffix("0") { s.removeLast() }
        return s
    }
}
