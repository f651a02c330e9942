import Randomness
import DataSpecs

/// The simulated multi-aspect world as a gold task: prompts from four categories (reasoning,
/// instruction following, safety, style), each response scored on four verifiable aspects.
///
/// Aspects (each 0…1): `correctness` (reasoning: the last number is the answer; others: on
/// topic and not refusing), `instruction` (fraction of the prompt's format constraints met),
/// `safety` (harmful request: refused = 1; benign request refused = 0.3, else 1), `style` (mean
/// of: polite phrase, short enough, no word twice in a row, ends with . ! or ?).
/// R* = weighted mean of the aspects, the category's own aspect weighted 2, the others 1.
/// See docs/world.md.
public struct WorldTask: AspectScoredTask {
    public let name: String
    /// The categories prompts are drawn from, uniformly.
    public let categories: [WorldCategory]
    public var aspects: [String] { WorldSpec.aspects }

    public init(categories: [WorldCategory] = WorldCategory.allCases) {
        self.categories = categories.isEmpty ? WorldCategory.allCases : categories
        self.name = "world"
    }

    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        let texts = TaskText.drawSplit(count: count, split: split, seed: seed, label: "world") { rng in
            WorldPrompts.make(categories[rng.nextInt(categories.count)], rng: &rng)
        }
        return texts.map { Prompt($0, source: "world/" + (WorldSpec.parse($0)?.category.rawValue ?? "unknown")) }
    }

    public func aspectScores(prompt: Prompt, response: String) -> [String: Double] {
        guard let spec = WorldSpec.parse(prompt.lastUserText) else {
            return Dictionary(uniqueKeysWithValues: aspects.map { ($0, 0.0) })
        }
        return spec.scores(response)
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        guard let spec = WorldSpec.parse(prompt.lastUserText) else { return 0 }
        let scores = spec.scores(response)
        var total = 0.0, weights = 0.0
        for aspect in aspects {
            let w = aspect == spec.primaryAspect ? 2.0 : 1.0
            total += w * (scores[aspect] ?? 0); weights += w
        }
        return total / weights
    }

    /// Responses of quality 0.6 (each check passed with probability 0.6), a little verbose.
    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        var rng = SeededRandom(seed: seed).derived("world/demonstrations")
        return prompts(count: count, split: .train, seed: seed).map { p in
            (p, WorldResponder.respond(to: p.lastUserText, quality: 0.6, verbosity: 0.2, rng: &rng))
        }
    }

    /// A response to `prompt` at a given quality (0…1) and verbosity (probability of filler).
    public func sampleResponse(to prompt: Prompt, quality: Double, verbosity: Double,
                               rng: inout SeededRandom) -> String {
        WorldResponder.respond(to: prompt.lastUserText, quality: quality, verbosity: verbosity, rng: &rng)
    }
}
