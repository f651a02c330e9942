import RecipeSpec

/// The delegated engines a recipe may name (`engine: trl`), as node hashes see them. Which kinds
/// each runs is declared in the kinds' own specs (`engines:`); the runners live with each engine's bridge.
public enum Engines {
    /// Hugging Face TRL: sft, reward_model, dpo, opo and d2po (subclasses of its online DPO trainer); rm_accuracy's
    /// scores through its transformers stack (no trainer).
    /// opo and d2po: bridge 2 — each step's prompts are sampled in one left-padded `generate`, which draws other
    /// random numbers than the one-prompt-at-a-time sampler of bridge 1 (so other responses, other results).
    public static let trl = EngineDescriptor(name: "trl", version: "1.16", bridgeVersion: 1,
                                             kindBridgeVersions: ["opo": 2, "d2po": 2], precision: "fp32",
                                             summary: "Hugging Face TRL (sft, reward_model, dpo, opo, d2po; rm_accuracy's scores).")
    /// OpenRLHF: ppo (TRL no longer has PPO); needs a GPU. Its version is the one the argument vector was checked against.
    public static let openrlhf = EngineDescriptor(name: "openrlhf", version: OpenRLHFChecks.majorMinor, bridgeVersion: 1,
                                                  precision: OpenRLHFChecks.defaultPrecision,
                                                  summary: "OpenRLHF (ppo), through train_ppo_ray.")

    /// vLLM: the generation of stages that only sample (`VLLMChecks`); needs a GPU.
    public static let vllm = EngineDescriptor(name: "vllm", version: VLLMChecks.majorMinor, bridgeVersion: 1,
                                              precision: VLLMChecks.defaultPrecision,
                                              summary: "vLLM (generation of sampling and benchmark stages; PrefLab labels and scores), offline LLM.generate.")

    /// Every delegated engine (the embedded one is always there).
    public static let delegated = [trl, openrlhf, vllm]
}

extension EngineSupport {
    /// The embedded CPU engine, which runs every kind as the papers' settings say.
    public static let embedded = EngineSupport(EngineDescriptor.embeddedName)
}
