import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs

/// `dataset`: a preference dataset of the catalogue (Recipes/datasets/NAME.yaml) as pairs for
/// DPO and reward models — what "add a dataset by config only" plugs into.
struct DatasetStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: try context.string("catalog")))
        let data = try catalog.load(try context.string("name"), seed: UInt64(try context.int("seed")))
        guard !data.train.isEmpty else {
            throw StageError(context.stage.name, "dataset '\(data.name)' has no preference pairs (a prompt entry? use prompt_set)")
        }
        try JSONLines.write(data.train, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.pairsFile))
        try JSONLines.write(data.heldOut, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.heldOutFile))
        try JSONLines.write([data.report], to: context.outputDirectory.appendingPathComponent(ArtifactLayout.loadReportFile))
        context.reporter.summary(["pairs": Double(data.train.count), "held_out": Double(data.heldOut.count),
                                  "rows_read": Double(data.report.rowsRead), "ties": Double(data.report.ties)])
    }
}

/// `prompt_set`: policy-training prompts from a catalogue entry, a file, or a weighted mix with a
/// total size (the Unpacking paper's "mixed prompts", §3.4).
struct PromptSetStage: StageRunner {
    func run(_ context: NodeContext) throws {
        let spec = try PromptSetSpec(config: context.stage.config)
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: try context.string("catalog")))
        let prompts = try catalog.loadPrompts(spec, seed: UInt64(try context.int("seed")))
        guard !prompts.isEmpty else { throw StageError(context.stage.name, "the prompt set is empty") }
        try JSONLines.write(prompts, to: context.outputDirectory.appendingPathComponent(ArtifactLayout.promptsFile))
        context.reporter.summary(["prompts": Double(prompts.count)])
    }
}
