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
