
/// A gold task that also scores named aspects of a response (e.g. the simulated world's
/// correctness, safety, style), so annotators can judge one aspect instead of the overall R*.
public protocol AspectScoredTask: GoldTask {
    /// The aspect names `aspectScores` returns.
    var aspects: [String] { get }
    /// A score per aspect; higher is better.
    func aspectScores(prompt: Prompt, response: String) -> [String: Double]
}

/// What a simulated annotator compares: the overall gold reward or one aspect's score.
public enum Judgement: Equatable, Sendable {
    case overall
    case aspect(String)
}

/// A simulated, imperfect human: gold judgement with length bias and label noise.
///
/// For each new pair, in order: with probability `lengthBias` it prefers the response with more
/// characters (when the lengths differ); otherwise it prefers the higher score under
/// `judgement` (ties: a coin). Then the label flips with probability `noiseRate`. All draws come
/// from a generator seeded by `seed` and the pair's content, so the same pair always gets the
/// same label (like a fixed annotator pool); repeats are free, as with `GoldAnnotator`.
public final class SimulatedAnnotator: Annotator {
    public let task: any GoldTask
    /// Probability the final label is flipped.
    public let noiseRate: Double
    /// Probability the annotator simply prefers the longer response.
    public let lengthBias: Double
    public let judgement: Judgement
    let seed: UInt64
    let ledger: LabelLedger

    /// Throws when a rate is outside 0...1 or the task does not score the asked-for aspect.
    public init(task: any GoldTask, noiseRate: Double = 0, lengthBias: Double = 0,
                judgement: Judgement = .overall, budget: Int? = nil, seed: UInt64 = 0) throws {
        for (name, v) in [("noiseRate", noiseRate), ("lengthBias", lengthBias)] where !(0...1).contains(v) {
            throw TaskError("SimulatedAnnotator: \(name) is \(v), expected a probability in 0...1")
        }
        if case .aspect(let aspect) = judgement {
            guard let scored = task as? any AspectScoredTask else {
                throw TaskError("SimulatedAnnotator: task '\(task.name)' has no aspect scores, so it "
                    + "cannot judge aspect '\(aspect)'; use judgement .overall")
            }
            guard scored.aspects.contains(aspect) else {
                throw TaskError("SimulatedAnnotator: task '\(task.name)' has no aspect '\(aspect)'; "
                    + "its aspects: " + scored.aspects.joined(separator: ", "))
            }
        }
        self.task = task
        self.noiseRate = noiseRate
        self.lengthBias = lengthBias
        self.judgement = judgement
        self.seed = seed
        self.ledger = LabelLedger(budget: budget)
    }

    /// Distinct pairs labelled so far.
    public var used: Int { ledger.used }

    public func label(prompt: Prompt, _ a: String, _ b: String) throws -> PreferenceLabel {
        let key = LabelPairKey(prompt: prompt, a, b)
        return try ledger.label(key) {
            var rng = key.rng(seed: seed)
            let biased = rng.nextDouble() < lengthBias
            let coin = rng.nextDouble() < 0.5
            let flip = rng.nextDouble() < noiseRate
            var lowWins: Bool
            if biased && key.low.count != key.high.count {
                lowWins = key.low.count > key.high.count
            } else {
                let low = score(prompt, key.low), high = score(prompt, key.high)
                lowWins = low == high ? coin : low > high
            }
            if flip { lowWins.toggle() }
            return lowWins
        }
    }

    func score(_ prompt: Prompt, _ response: String) -> Double {
        switch judgement {
        case .overall:
            return task.reward(prompt: prompt, response: response)
        case .aspect(let aspect):
            let scored = task as? any AspectScoredTask
            return scored?.aspectScores(prompt: prompt, response: response)[aspect] ?? 0
        }
    }
}
