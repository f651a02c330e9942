import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Randomness

/// `concat`: the union of several preference sets (pairs and held-out pairs) or of several prompt
/// sets, optionally sampled down to a size — the Unpacking paper's "Mix" reward-model data
/// (Table 3) and its remixed policy-training prompts (Table 4), over any stages.
struct ConcatStage: StageRunner {
    func run(_ context: NodeContext) throws {
        // Inputs of a list field are named parts[0], parts[1], ...: keep the recipe's order.
        let index = { (key: String) in Int(key.dropFirst("parts[".count).dropLast()) ?? 0 }
        let dirs = context.inputs.filter { $0.key.hasPrefix("parts[") }.sorted { index($0.key) < index($1.key) }.map(\.value)
        guard !dirs.isEmpty else { throw StageError(context.stage.name, "'parts' is empty") }
        let fm = FileManager.default
        let pairs = dirs.map { fm.fileExists(atPath: $0.appendingPathComponent(ArtifactLayout.pairsFile).path) }
        let seed = UInt64(try context.int("seed"))
        let size = context.stage.config["size"]?.int
        if pairs.allSatisfy({ $0 }) {
            let train = try dirs.flatMap { try PreferenceArtifact.pairs($0) }
            let heldOut = try dirs.flatMap { try PreferenceArtifact.heldOut($0) }
            let kept = try sample(train, size, seed: seed, context)
            try JSONLines.write(kept, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.pairsFile))
            try JSONLines.write(heldOut, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.heldOutFile))
            context.reporter.summary(["pairs": Double(kept.count), "held_out": Double(heldOut.count), "parts": Double(dirs.count)])
        } else if !pairs.contains(true) {
            let prompts = try sample(try dirs.flatMap { try PreferenceArtifact.prompts($0) }, size, seed: seed, context)
            try JSONLines.write(prompts, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.promptsFile))
            context.reporter.summary(["prompts": Double(prompts.count), "parts": Double(dirs.count)])
        } else {
            throw StageError(context.stage.name, "'parts' mixes preference sets and prompt sets")
        }
    }

    /// All items in a seeded order, or a seeded sample of `size` of them.
    private func sample<T>(_ items: [T], _ size: Int?, seed: UInt64, _ context: NodeContext) throws -> [T] {
        if let size, size > items.count {
            throw StageError(context.stage.name, "size \(size) is more than the \(items.count) items of the parts")
        }
        var rng = SeededRandom(seed: seed).derived("concat")
        let order = Array(items.indices).shuffled(using: &rng)
        return order.prefix(size ?? items.count).map { items[$0] }
    }
}
