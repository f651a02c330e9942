import Randomness
import DataSpecs

/// Drawing pairs (the presets themselves are data in DataSpecs, which the stage catalogue offers as choices).
extension WorldDatasetSpec {
    /// The preset called `name`, with a did-you-mean error otherwise.
    public static func preset(named name: String) throws -> WorldDatasetSpec {
        if let p = presets.first(where: { $0.name == name }) { return p }
        throw TaskError("unknown world dataset '\(name)'" + TaskRegistry.suggestion(for: name, among: presets.map(\.name))
            + "; known: " + presets.map(\.name).joined(separator: ", "))
    }

    /// Up to `count` labelled pairs of `split` (a prompt whose two responses stay identical is
    /// dropped); `margin` is the gold R* gap (chosen − rejected).
    public func pairs(count: Int, split: TaskSplit, seed: UInt64) throws -> [PreferencePair] {
        let categories = mix.keys.sorted { $0.rawValue < $1.rawValue }
        let weights = categories.map { max(0, mix[$0] ?? 0) }
        let total = weights.reduce(0, +)
        guard total > 0, qualityLow <= qualityHigh else {
            throw TaskError("world dataset '\(name)': needs a positive mix weight and qualityLow <= qualityHigh")
        }
        var rng = SeededRandom(seed: seed).derived("world-dataset/" + name)
        let world = WorldTask()
        let annotator = try SimulatedAnnotator(task: world, noiseRate: noiseRate, lengthBias: lengthBias,
                                               judgement: aspect.map { .aspect($0) } ?? .overall, seed: seed)
        let texts = TaskText.drawSplit(count: count, split: split, seed: seed, label: "world-dataset/" + name) { r in
            var u = r.nextDouble() * total, k = 0
            while k < weights.count - 1 && u >= weights[k] { u -= weights[k]; k += 1 }
            return WorldPrompts.make(categories[k], rng: &r)
        }
        var out: [PreferencePair] = []
        for text in texts {
            let prompt = Prompt(text, source: "world/" + (WorldSpec.parse(text)?.category.rawValue ?? "unknown"))
            let q1 = qualityLow + (qualityHigh - qualityLow) * rng.nextDouble()
            let q2 = qualityLow + (qualityHigh - qualityLow) * rng.nextDouble()
            let a = world.sampleResponse(to: prompt, quality: q1, verbosity: verbosity, rng: &rng)
            var b = a, tries = 0
            while b == a && tries < 8 {  // identical twins teach nothing: resample
                b = world.sampleResponse(to: prompt, quality: q2, verbosity: verbosity, rng: &rng)
                tries += 1
            }
            guard a != b else { continue }
            let firstWins = try annotator.label(prompt: prompt, a, b) == .first
            let (chosen, rejected) = firstWins ? (a, b) : (b, a)
            let margin = world.reward(prompt: prompt, response: chosen) - world.reward(prompt: prompt, response: rejected)
            out.append(PreferencePair(prompt: prompt, chosen: chosen, rejected: rejected, margin: margin))
        }
        return out
    }
}
