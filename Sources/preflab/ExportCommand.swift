import ArgumentParser
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages

/// `preflab export`: a model node as a Hugging Face folder that `transformers` loads with
/// `from_pretrained` (policies as LlamaForCausalLM, reward models as LlamaForSequenceClassification).
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a model node as a shareable Hugging Face folder.",
        discussion: """
            preflab export NODE DIR            NODE: a node hash in the store, or a unique prefix of one
            preflab export RECIPE STAGE DIR    the node a recipe's stage resolves to (--cell picks a matrix cell)
            The node must be finished in the store; DIR must not exist or be empty.
            """)

    @Argument(help: ArgumentHelp("NODE DIR, or RECIPE STAGE DIR.", valueName: "args"))
    var arguments: [String]

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a recipe key: a.b.c=value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    @Option(help: "The matrix cell label (as `preflab plan` prints it) when the stage differs between cells.")
    var cell: String?

    @OptionGroup var store: StoreOptions

    func validate() throws {
        guard arguments.count == 2 || arguments.count == 3 else {
            throw ValidationError("expected NODE DIR or RECIPE STAGE DIR, got \(arguments.count) argument(s)")
        }
    }

    func run() throws {
        let artifacts = try ArtifactStore(root: URL(fileURLWithPath: store.store))
        let nodes = NodeResolver(store: store.store, overrides: overrides, cell: cell)
        let hash = arguments.count == 2 ? try nodes.hash(prefix: arguments[0], in: artifacts)
                                        : try nodes.hash(recipe: arguments[0], stage: arguments[1])
        guard artifacts.isComplete(hash) else {
            throw ValidationError("node \(hash) is not finished in \(store.store)"
                                  + (arguments.count == 3 ? ": run the recipe first (preflab run \(arguments[0]))" : ""))
        }
        let kind = artifacts.record(for: hash)?.kind ?? "?"
        guard FileManager.default.fileExists(atPath: artifacts.objectDirectory(for: hash).appendingPathComponent("config.json").path) else {
            throw ValidationError("node \(hash) is a \(kind) node, which holds no model (export takes policies and reward models)")
        }
        let destination = URL(fileURLWithPath: arguments[arguments.count - 1])
        let notes: [String]
        do {
            notes = try ModelExport.export(node: artifacts.objectDirectory(for: hash), to: destination)
        } catch {
            throw ValidationError("cannot export node \(hash) (\(kind)): \(error)")
        }
        for note in notes { print("note: \(note)") }
        print("exported \(kind) node \(hash) to \(destination.path)")
    }
}

/// Finds a node the way `preflab export`, `generate`, `score` and `tokenize` name one: a unique prefix
/// of a finished node's hash, or the node a recipe's stage resolves to (`cell` picks a matrix cell).
struct NodeResolver {
    var store: String
    var overrides: [String]
    var cell: String?

    func hash(prefix: String, in artifacts: ArtifactStore) throws -> String {
        let matches = artifacts.completeHashes().filter { $0.hasPrefix(prefix) }
        guard matches.count == 1 else {
            throw ValidationError(matches.isEmpty ? "no finished node in \(store) has a hash starting with '\(prefix)'"
                                                  : "'\(prefix)' starts \(matches.count) node hashes; give more of it")
        }
        return matches[0]
    }

    func hash(recipe path: String, stage: String) throws -> String {
        let options = try RecipeOptions.parse([path] + overrides.flatMap { ["--set", $0] })
        let recipe = try loadRecipe(options)
        let graph = try StageSpecs.graph(recipe)
        if let cell {
            guard let node = graph.node(for: cell, stage: stage) else {
                throw ValidationError("no stage '\(stage)' in cell '\(cell)' (cells: \(recipe.cells.map(\.label).joined(separator: "; ")))")
            }
            return node.hash
        }
        let hashes = graph.hashes(forStage: stage)
        guard let hash = hashes.first else {
            let names = Set(recipe.cells.flatMap { $0.stages.map(\.name) }).sorted()
            throw ValidationError("no stage '\(stage)' in \(path) (stages: \(names.joined(separator: ", ")))")
        }
        guard hashes.count == 1 else {
            throw ValidationError("stage '\(stage)' differs between matrix cells; pick one with --cell (\(recipe.cells.map(\.label).joined(separator: "; ")))")
        }
        return hash
    }
}
