import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// A checked-in recipe run once on the real engine into a fresh temporary store (`remove()` deletes it).
struct RecipeRun {
    let recipe: ResolvedRecipe
    let graph: PipelineGraph
    let store: ArtifactStore
    let report: RunReport
    let directory: URL

    /// Loads `path` (relative to the repository root) with `overrides`, then runs every node.
    init(_ path: String, overrides: [String], jobs: Int) throws {
        let file = QuickstartTests.root.appendingPathComponent(path).path
        recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(file: file, overrides: overrides)
        graph = try StageSpecs.graph(recipe)
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-run-\(UUID().uuidString)")
        store = try ArtifactStore(root: directory)
        report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: jobs, display: SilentProgressDisplay()).run(graph)
    }

    /// The failed nodes as "stage: outcome", for assertion messages.
    var failures: String { "\(report.failures.map { "\($0.stage): \($0.outcome)" })" }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
