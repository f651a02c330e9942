import Foundation
import RecipeSpec
import StageSpecs

/// PrefLab `ppo` as OpenRLHF 0.11.2's `train_ppo_ray` argument vector (names checked against its argparse),
/// with the Unpacking Table 10 variants OpenRLHF has mapped and the rest refused.
public enum OpenRLHFMapping {
    /// The OpenRLHF version whose CLI the vector was checked against.
    public static let version = OpenRLHFChecks.version

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

    /// Why this stage cannot run on OpenRLHF exactly as PrefLab defines it: the catalogue's own OpenRLHF check
    /// (`OpenRLHFChecks.ppo`, which `validate` reports), so that run time refuses exactly what validate does.
    public static func refusals(_ stage: ResolvedStage) -> [EngineError] {
        guard stage.kind == "ppo" else {
            return [EngineError(stage, "OpenRLHF runs only ppo in this bridge (\(stage.kind) runs on engine: embedded or trl)")]
        }
        return OpenRLHFChecks.ppo(stage).map { EngineError(stage, key: $0.key == "engine" ? nil : $0.key, $0.message) }
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
        a += ["--ds.param_dtype", OpenRLHFChecks.canonicalPrecision(precision) == "fp16" ? "fp16" : "bf16"]
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
