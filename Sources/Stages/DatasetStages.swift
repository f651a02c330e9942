import Foundation
import Pipeline
import Preference
import RecipeSpec

/// Where `dataset` and `prompt_set` stages find the catalogue, relative to the working directory.
private let catalogField = FieldSchema("catalog", .string, default: .string("Recipes/datasets"),
                                       doc: "Folder of the dataset catalogue (one YAML entry per dataset, docs/datasets.md).")

/// The node hash also covers the contents of the entry and the files it reads (`externalInputs`); this
/// field forces a new node when nothing in those files changed (a loader fix, say).
private let revisionField = FieldSchema("revision", .int, default: .int(0),
                                        doc: "Bump to recompute the node with unchanged files (the entry's and its data files' contents are already part of the node hash).")

/// The recipe keys of a prompt set, mapped one to one onto `PromptSetSpec`.
private let promptSetKeys = Dictionary(uniqueKeysWithValues: ["dataset", "split", "file", "field", "mix", "size"].map { ($0, $0) })

/// `dataset`: a preference dataset of the catalogue (Recipes/datasets/NAME.yaml) as pairs for
/// DPO and reward models — what "add a dataset by config only" plugs into.
struct DatasetStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "dataset", summary: "A catalogue preference dataset (Recipes/datasets) as training and held-out pairs.",
        codeVersion: 1,
        fields: [
            FieldSchema("name", .string, doc: "Catalogue entry (`preflab data inspect NAME` shows it)."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of binarization, downsampling, split and mixing."),
            catalogField, revisionField,
        ]), runner: DatasetStage())

    func run(_ context: NodeContext) throws {
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: try context.string("catalog")))
        let data = try catalog.load(try context.string("name"), seed: UInt64(try context.int("seed")))
        guard !data.train.isEmpty else {
            throw StageError(context.stage.name, "dataset '\(data.name)' has no preference pairs (a prompt entry? use prompt_set)")
        }
        try JSONLines.write(data.train, to: context.outputDirectory.appendingPathComponent("pairs.jsonl"))
        try JSONLines.write(data.heldOut, to: context.outputDirectory.appendingPathComponent("held_out.jsonl"))
        try JSONLines.write([data.report], to: context.outputDirectory.appendingPathComponent("load_report.jsonl"))
        context.reporter.summary(["pairs": Double(data.train.count), "held_out": Double(data.heldOut.count),
                                  "rows_read": Double(data.report.rowsRead), "ties": Double(data.report.ties)])
    }
}

/// `prompt_set`: policy-training prompts from a catalogue entry, a file, or a weighted mix with a
/// total size (the Unpacking paper's "mixed prompts", §3.4).
struct PromptSetStage: StageRunner {
    static let kind = StageKind(schema: StageSchema(
        kind: "prompt_set", summary: "Prompts from a catalogue entry, a file, or a weighted mix of them.", codeVersion: 1,
        fields: [
            FieldSchema("dataset", .string, optional: true, doc: "Catalogue entry whose prompts are used."),
            FieldSchema("split", .choice(["train", "held_out"]), optional: true, doc: "For pair entries: which split's prompts."),
            FieldSchema("file", .string, optional: true, doc: "A JSONL (with `field`) or text file of prompts, from the repository root."),
            FieldSchema("field", .string, optional: true, doc: "JSONL field (dotted path) holding the prompt."),
            FieldSchema("mix", .any, optional: true,
                        doc: "Weighted parts: a list of { weight: W, prompts: { dataset | file | mix, ... } }; needs `size`."),
            FieldSchema("size", .int, optional: true, doc: "Prompts kept (a seeded sample); absent keeps all."),
            FieldSchema("seed", .int, default: .int(0), doc: "Seed of sampling and mixing."),
            catalogField, revisionField,
        ]), runner: PromptSetStage())

    func run(_ context: NodeContext) throws {
        let spec = try StageConfig.decode(PromptSetSpec.self, from: context.stage.config, keys: promptSetKeys,
                                          stage: context.stage.name)
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: try context.string("catalog")))
        let prompts = try catalog.loadPrompts(spec, seed: UInt64(try context.int("seed")))
        guard !prompts.isEmpty else { throw StageError(context.stage.name, "the prompt set is empty") }
        try JSONLines.write(prompts, to: context.outputDirectory.appendingPathComponent("prompts.jsonl"))
        context.reporter.summary(["prompts": Double(prompts.count)])
    }
}

extension StageKinds {
    /// The graph of `recipe` over these kinds with their external fingerprints: what every command
    /// plans, runs and compares.
    public static func graph(_ recipe: ResolvedRecipe) throws -> PipelineGraph {
        try PipelineGraph(recipe: recipe, catalog: catalog, external: externalInputs)
    }

    /// Fingerprints of what `dataset`, `prompt_set`, `pretrained` and `hf_model` stages read (the catalogue entry's YAML
    /// and its data files, by content; a prompt file; a model file), for `PipelineGraph(external:)`: editing
    /// an entry or a data file makes new nodes instead of reusing ones made from the old contents. Other
    /// kinds read nothing outside the graph (nil: their hashes are unchanged).
    public static let externalInputs: ExternalInputs = { stage in
        if stage.kind == HFModelStage.kind.schema.kind { return HFModelStage.fingerprint(stage) }
        if stage.kind == PretrainedStage.kind.schema.kind, let file = stage.config["file"]?.value.string {
            return fileFingerprint([URL(fileURLWithPath: file)], root: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
        }
        guard stage.kind == DatasetStage.kind.schema.kind || stage.kind == PromptSetStage.kind.schema.kind else { return nil }
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: stage.config["catalog"]?.value.string ?? "Recipes/datasets"))
        let files: [URL]
        if stage.kind == DatasetStage.kind.schema.kind {
            guard let name = stage.config["name"]?.value.string else { return nil }
            files = catalog.inputFiles(of: name)
        } else {
            files = catalog.inputFiles(of: try StageConfig.decode(PromptSetSpec.self, from: stage.config, keys: promptSetKeys,
                                                                  stage: stage.name))
        }
        return fileFingerprint(files, root: catalog.root)
    }

    /// SHA-256 over each file's path (relative to `root` when inside it) and content digest, in order;
    /// a missing file counts as "missing" (the run reports it).
    static func fileFingerprint(_ files: [URL], root: URL) -> String {
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        let lines = files.map { url -> String in
            let path = url.standardizedFileURL.path
            let name = path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
            guard let data = try? Data(contentsOf: url, options: .alwaysMapped) else { return name + " missing" }
            return name + " " + data.withUnsafeBytes { SHA256.hex(bytes: Array($0)) }
        }
        return SHA256.hex(lines.joined(separator: "\n"))
    }
}
