import RecipeSpec

/// vLLM as the generator of stages that only sample (`engine: vllm`): the policy's samples come from vLLM's offline
/// `LLM.generate`, PrefLab still labels, extracts, scores and measures them. The kinds: `gold_reward`, `best_of_n`,
/// `category_scores`, `task_preferences` (preference sampling) and the benchmarks (gsm8k, bbh, ifeval, xstest,
/// humaneval, alpaca_eval; truthfulqa's log-likelihoods from vLLM's `prompt_logprobs`, the log-softmax of the raw
/// logits at each prompt position, which is what PrefLab sums, in the weights' dtype). The one list of what the
/// bridge refuses, read by `validate` and, at run time, by the runner.
public enum VLLMChecks {
    /// The engines of a kind that only samples: embedded, and vLLM under `generation`'s checks.
    public static let generating = [EngineSupport.embedded, EngineSupport(Engines.vllm.name, check: generation)]

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
