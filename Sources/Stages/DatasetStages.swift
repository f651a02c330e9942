import Foundation
import Pipeline
import Preference
import RecipeSpec

/// Where `dataset` and `prompt_set` stages find the catalogue, relative to the working directory.
private let catalogField = FieldSchema("catalog", .string, default: .string("Recipes/datasets"),
                                       doc: "Folder of the dataset catalogue (one YAML entry per dataset, docs/datasets.md).")

/// The node hash covers the entry's name and options, not the files it reads; this field lets a
/// recipe say that the data changed (there is no file hashing at graph time).
private let revisionField = FieldSchema("revision", .int, default: .int(0),
                                        doc: "Bump after editing the entry or its files, so the cached node is not reused.")

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
        let keys = ["dataset", "split", "file", "field", "mix", "size"]
        let spec = try StageConfig.decode(PromptSetSpec.self, from: context.stage.config,
                                          keys: Dictionary(uniqueKeysWithValues: keys.map { ($0, $0) }), stage: context.stage.name)
        let catalog = try DatasetCatalog(directory: URL(fileURLWithPath: try context.string("catalog")))
        let prompts = try catalog.loadPrompts(spec, seed: UInt64(try context.int("seed")))
        guard !prompts.isEmpty else { throw StageError(context.stage.name, "the prompt set is empty") }
        try JSONLines.write(prompts, to: context.outputDirectory.appendingPathComponent("prompts.jsonl"))
        context.reporter.summary(["prompts": Double(prompts.count)])
    }
}
