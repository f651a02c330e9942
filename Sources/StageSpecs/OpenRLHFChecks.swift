import RecipeSpec

/// What PrefLab's OpenRLHF bridge cannot run exactly as the embedded `ppo` defines it (Unpacking Table 10's
/// variants without an OpenRLHF equivalent, float32): the one list of OpenRLHF refusals. `validate` reports each
/// at its key's own line, and the runner refuses the same list at run time (`OpenRLHFMapping.refusals` reads
/// this check), so the two can never disagree.
public enum OpenRLHFChecks {
    /// The OpenRLHF release whose `train_ppo_ray` argparse the bridge's argument vector was checked against.
    public static let version = "0.11.2"
    /// The major.minor version delegated nodes' hashes carry (`Engines.openrlhf`).
    public static var majorMinor: String { version.split(separator: ".").prefix(2).joined(separator: ".") }
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

    /// `ppo` on OpenRLHF: each refusal at its key, with what differs and what to do instead.
    public static let ppo: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        let v = { (key: String) in stage.config[key].flatMap { $0.value.isNull ? nil : $0 } }
        var out = PrecisionField.refusal(stage, engine: "OpenRLHF")
        let no = "; use engine: embedded"
        if let p = precision(stage), !["bf16", "fp16"].contains(canonicalPrecision(p) ?? "") {
            out.append(StageProblem(key: "engine_args", "OpenRLHF trains in bf16 or fp16 only (DeepSpeed --ds.param_dtype), not \(p); set engine_args.precision: bf16 or fp16\(no)"))
        }
        if v("reward_whitening")?.bool == true {
            out.append(StageProblem(key: "reward_whitening", "OpenRLHF whitens advantages, never token rewards\(no)"))
        }
        if v("clamp_kl")?.bool == true {
            out.append(StageProblem(key: "clamp_kl", "OpenRLHF has only the k1/k2/k3 KL estimators, no clamped penalty\(no)"))
        }
        if v("reward_normalization")?.bool == true {
            out.append(StageProblem(key: "reward_normalization", "OpenRLHF's --reward.normalize_enable uses the RM's stored mean/std, not the first iteration's statistics\(no)"))
        }
        if let alpha = v("value_coefficient")?.double, alpha != 1 {
            out.append(StageProblem(key: "value_coefficient", "OpenRLHF steps the critic on its own value loss (coefficient 1); \(alpha) only rescales the critic's gradient, which changes its clipping and Adam's ε — set value_coefficient: 1 to delegate, or use engine: embedded"))
        }
        if v("eos_trick")?.bool != false, let penalty = v("eos_penalty")?.double, penalty >= 0 {
            out.append(StageProblem(key: "eos_penalty", "OpenRLHF reads a non-negative --reward.stop_properly_penalty_coef as a factor on the RM score, not as the reward \(penalty) of a truncated completion\(no)"))
        }
        if let warmup = v("warmup_fraction")?.double, warmup > 0 {
            out.append(StageProblem(key: "warmup_fraction", "OpenRLHF's constant_with_warmup starts at lr 0 (step/warmup); PrefLab's warmup starts at lr/warmup ((step+1)/warmup) — set warmup_fraction: 0 to delegate\(no)"))
        }
        let rollouts = (v("prompt_batch")?.int ?? 0) * (v("rollouts_per_prompt")?.int ?? 0)
        let mini = v("mini_batch")?.int ?? 0, accumulation = v("gradient_accumulation")?.int ?? 0
        if rollouts != mini || accumulation != 1 || v("inner_epochs")?.int != 1 {
            out.append(StageProblem(key: "mini_batch", "PrefLab recomputes log-probs, values and whitened advantages per minibatch on the current models (App. G); OpenRLHF computes them once per rollout batch: the same only with one minibatch per rollout batch (mini_batch = prompt_batch × rollouts_per_prompt = \(rollouts), gradient_accumulation 1, inner_epochs 1)\(no)"))
        }
        return out
    }
}
