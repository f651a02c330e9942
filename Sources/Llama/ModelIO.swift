import Tensor

extension LlamaModel {
    /// A copy of every parameter keyed by its Hugging Face name, and of the LoRA factors when adapters
    /// are attached (PEFT names), so a training checkpoint keeps them.
    public func namedTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in parameters + loraParameters { out[p.name] = p.valueTensor() }
        return out
    }

    /// Overwrites every parameter (and attached LoRA factor) from `named`; refuses missing or extra names
    /// and shape mismatches before changing anything.
    public func load(_ named: [String: Tensor]) throws {
        var known = Set<String>()
        let parameters = self.parameters + loraParameters
        for p in parameters {
            known.insert(p.name)
            guard let t = named[p.name] else { throw LlamaError.missingTensor(p.name) }
            if t.shape != p.shape { throw LlamaError.shapeMismatch(name: p.name, expected: p.shape, found: t.shape) }
        }
        if let extra = named.keys.sorted().first(where: { !known.contains($0) }) {
            throw LlamaError.unexpectedTensor(extra)
        }
        for p in parameters { p.setValue(named[p.name]!.data) }
    }
}

extension LlamaModel {
    /// The parameters as a Hugging Face model folder stores them (`LlamaForCausalLM` or
    /// `LlamaForSequenceClassification` names): LoRA factors are not included (merge them first), and a
    /// scalar head's `score.bias` is left out when it is zero, since HF's score layer has none. It stays
    /// zero in training: the Bradley–Terry loss sees only score differences (see `RewardModel.backward`).
    public func hfTensors() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for p in parameters where !(p.name == "score.bias" && p.value.allSatisfy { $0 == 0 }) { out[p.name] = p.valueTensor() }
        return out
    }

    /// The scalar head's bias, nil for an LM head.
    public var scoreBias: Float? { scoreB?.value[0] }

    /// Overwrites every parameter from a Hugging Face folder's tensors: rotary `inv_freq` buffers (older
    /// transformers saved them) and an `lm_head.weight` copy beside tied embeddings are ignored, an
    /// absent `score.bias` is zero; everything else must match as in `load`.
    public func loadHF(_ named: [String: Tensor]) throws {
        var tensors = named.filter { !$0.key.hasSuffix(".rotary_emb.inv_freq") }
        if head == .lm && config.tiedEmbeddings { tensors["lm_head.weight"] = nil }
        if head == .scalar && tensors["score.bias"] == nil { tensors["score.bias"] = Tensor(shape: [1], data: [0]) }
        try load(tensors)
    }
}
