import RecipeSpec

/// vLLM as the generator of stages that only sample and score (`engine: vllm`): the policy's samples come from
/// vLLM's offline `LLM.generate`, PrefLab still labels, scores and measures them. Today: `gold_reward` and `best_of_n`. The
/// one list of what the bridge refuses, read by `validate` and, at run time, by the runner.
public enum VLLMChecks {
    /// The vLLM release whose offline API (token-id prompts, `SamplingParams`) the request files are written for.
    public static let version = "0.34.0"
    /// The major.minor version delegated nodes' hashes carry (`Engines.vllm`).
    public static var majorMinor: String { version.split(separator: ".").prefix(2).joined(separator: ".") }
    /// The weights' precision in vLLM when `engine_args.precision` does not say.
    public static let defaultPrecision = "bf16"
    /// `engine_args.precision` spellings and vLLM's `dtype` for each.
    public static let dtypes = ["bf16": "bfloat16", "bfloat16": "bfloat16", "fp16": "float16", "float16": "float16",
                                "fp32": "float32", "float32": "float32"]

    /// The dtype a node's weights load in.
    public static func dtype(_ stage: ResolvedStage) -> String? {
        dtypes[stage.engineArgs?.entries?.first { $0.key == "precision" }?.value.value.string ?? defaultPrecision]
    }

    /// `engine_args` holds only `precision`, one of `dtypes`.
    public static let generation: @Sendable (ResolvedStage) -> [StageProblem] = { stage in
        var out: [StageProblem] = []
        for (key, value) in stage.engineArgs?.entries ?? [] {
            if key != "precision" {
                out.append(StageProblem(key: "engine_args", "unknown vLLM engine option `\(key)`; the bridge reads only `precision`"))
            } else if dtypes[value.value.string ?? ""] == nil {
                out.append(StageProblem(key: "engine_args", "precision '\(value.value.string ?? "?")' is not one vLLM loads weights in; expected one of \(dtypes.keys.sorted().joined(separator: ", "))"))
            }
        }
        return out
    }
}
