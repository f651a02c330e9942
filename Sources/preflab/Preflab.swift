import ArgumentParser
import Foundation
import Tensor

/// The `preflab` command: learning from preference feedback, one YAML recipe at a time.
@main
struct Preflab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preflab",
        abstract: "Learning from preference feedback: run, inspect and compare YAML recipes.",
        version: "0.1.0",
        subcommands: [Run.self, RunNode.self, Table.self, Resolve.self, Plan.self, Diff.self, Validate.self, StagesCommand.self,
                      GC.self, StoreCommand.self, DataCommand.self, Export.self, Annotate.self, GenerateCommand.self, ScoreCommand.self,
                      TokenizeCommand.self, Bench.self, Verdicts.self]
    )

    /// Re-executes with OpenBLAS's kernels pinned for this CPU's instruction set (BLASCore), then parses.
    static func main() {
        BLASCore.reexecWithPinnedCoreIfNeeded()
        main(nil)
    }
}

/// Options shared by every command that reads a recipe.
struct RecipeOptions: ParsableArguments {
    @Argument(help: "The recipe file (YAML).")
    var recipe: String

    @Option(name: .customLong("set"), help: ArgumentHelp("Override a key: a.b.c=value (repeatable).", valueName: "key=value"))
    var overrides: [String] = []

    func validate() throws {
        guard FileManager.default.fileExists(atPath: recipe) else {
            throw ValidationError("no recipe at '\(recipe)'")
        }
        for o in overrides where !o.contains("=") {
            throw ValidationError("--set '\(o)': expected key.path=value")
        }
    }
}

/// Options naming the artifact store.
struct StoreOptions: ParsableArguments {
    @Option(help: "The content-addressed artifact store.")
    var store: String = ".preflab/store"
}
