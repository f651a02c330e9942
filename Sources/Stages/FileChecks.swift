import Foundation
import Pipeline
import Preference
import RecipeSpec

/// Checks at `validate` (and before `run` starts anything) that every file a recipe names exists:
/// a `dataset` stage's catalogue entry and its data files, a `prompt_set`'s entry or file, a
/// `pretrained` model file. Without them a missing file was found only when its node ran, after the
/// upstream nodes had trained.
enum FileChecks {
    static func check(_ stage: ResolvedStage) throws {
        switch stage.kind {
        case DatasetStage.kind.schema.kind:
            guard let name = stage.config["name"]?.value.string else { return }
            let catalog = try openCatalog(stage)
            _ = try catalog.spec(name)
            try requireFiles(catalog.inputFiles(of: name), stage)
        case PromptSetStage.kind.schema.kind:
            let catalog = try openCatalog(stage)
            if let name = stage.config["dataset"]?.value.string { _ = try catalog.spec(name) }
            let spec = try StageConfig.decode(PromptSetSpec.self, from: stage.config,
                                              keys: Dictionary(uniqueKeysWithValues: ["dataset", "split", "file", "field", "mix", "size"].map { ($0, $0) }),
                                              stage: stage.name)
            try requireFiles(catalog.inputFiles(of: spec), stage)
        case PretrainedStage.kind.schema.kind:
            guard let file = stage.config["file"]?.value.string else { return }
            try requireFiles([URL(fileURLWithPath: file)], stage,
                             hint: file.hasSuffix("SmolLM2-135M-Instruct.Q4_1.gguf") ? " (scripts/fetch-smollm2.sh fetches it)" : "")
        default:
            return
        }
    }

    private static func openCatalog(_ stage: ResolvedStage) throws -> DatasetCatalog {
        let folder = stage.config["catalog"]?.value.string ?? "Recipes/datasets"
        guard FileManager.default.fileExists(atPath: folder) else {
            throw StageError(stage.name, "catalogue folder '\(folder)' does not exist")
        }
        return try DatasetCatalog(directory: URL(fileURLWithPath: folder))
    }

    private static func requireFiles(_ files: [URL], _ stage: ResolvedStage, hint: String = "") throws {
        let missing = files.filter { !FileManager.default.fileExists(atPath: $0.path) }
        guard let first = missing.first else { return }
        let more = missing.count > 1 ? " and \(missing.count - 1) more" : ""
        throw StageError(stage.name, "file '\(first.path)' does not exist\(more)\(hint)")
    }
}
