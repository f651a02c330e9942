import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs
@testable import Stages

/// `dataset` and `prompt_set` read a catalogue written in the test, by YAML only.
final class DatasetStageTests: XCTestCase {
    static let fixtures = QuickstartTests.root.appendingPathComponent("Tests/PreferenceTests/Fixtures/data")

    func testCatalogueEntriesFeedPairsAndPromptMixes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-ds-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let catalog = dir.appendingPathComponent("datasets")
        try FileManager.default.createDirectory(at: catalog, withIntermediateDirectories: true)
        try """
            source: { path: \(Self.fixtures.appendingPathComponent("pairs.jsonl").path), allow_outside: true }
            layout: pair
            fields: { prompt: prompt, chosen: chosen, rejected: rejected }
            held_out: { fraction: 0.25 }
            """.write(to: catalog.appendingPathComponent("toy.yaml"), atomically: true, encoding: .utf8)
        let yaml = """
            name: ds
            stages:
              pairs: { kind: dataset, name: toy, catalog: \(catalog.path), seed: 1 }
              few: { kind: prompt_set, file: \(Self.fixtures.appendingPathComponent("prompts.txt").path), size: 3, catalog: \(catalog.path), allow_outside: true }
              mixed:
                kind: prompt_set
                catalog: \(catalog.path)
                allow_outside: true
                size: 6
                mix:
                  - { weight: 2, prompts: { dataset: toy } }
                  - { weight: 1, prompts: { file: \(Self.fixtures.appendingPathComponent("prompts.txt").path) } }
            """
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        XCTAssertTrue(report.succeeded, "\(report.failures.map { "\($0.stage): \($0.outcome)" })")
        let summary = { (stage: String) in store.summary(for: graph.node(cellIndex: 0, stage: stage)!.hash) ?? [:] }
        // 22 fixture rows: 10 prompts × 2 pairs plus 2 exact repeats (deduplicated); a quarter
        // of the prompts (by hash) are held out.
        XCTAssertEqual(summary("pairs")["rows_read"], 22)
        XCTAssertEqual((summary("pairs")["pairs"] ?? 0) + (summary("pairs")["held_out"] ?? 0), 20)
        XCTAssertGreaterThan(summary("pairs")["held_out"] ?? 0, 0)
        XCTAssertEqual(summary("few")["prompts"], 3)
        XCTAssertEqual(summary("mixed")["prompts"], 6)
        let objects = store.objectDirectory(for: graph.node(cellIndex: 0, stage: "mixed")!.hash)
        let lines = try String(contentsOf: objects.appendingPathComponent("prompts.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 6)
        XCTAssertEqual(lines.filter { $0.contains("question") }.count, 4)  // weight 2 of 3 → 4 of 6
    }

    /// Editing a catalogue entry, its data file or a prompt file makes new nodes for exactly the stages
    /// that read it (and their dependents); the run then recomputes them instead of reusing the old ones.
    func testEditedDataFilesMakeNewNodes() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-fp-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let catalog = dir.appendingPathComponent("datasets"), data = dir.appendingPathComponent("pairs.jsonl")
        let prompts = dir.appendingPathComponent("prompts.txt"), entry = catalog.appendingPathComponent("toy.yaml")
        try FileManager.default.createDirectory(at: catalog, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.fixtures.appendingPathComponent("pairs.jsonl"), to: data)
        try "one\ntwo\nthree\n".write(to: prompts, atomically: true, encoding: .utf8)
        try """
            source: { path: \(data.path), allow_outside: true }
            layout: pair
            fields: { prompt: prompt, chosen: chosen, rejected: rejected }
            """.write(to: entry, atomically: true, encoding: .utf8)
        let yaml = """
            name: fp
            stages:
              pairs: { kind: dataset, name: toy, catalog: \(catalog.path) }
              listed: { kind: prompt_set, file: \(prompts.path), catalog: \(catalog.path), allow_outside: true }
              tok: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 50 }
            """
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: dir.appendingPathComponent("r.yaml").path)
        func hashes() throws -> [String: String] {
            let g = try StageSpecs.graph(recipe)
            return Dictionary(uniqueKeysWithValues: ["pairs", "listed", "tok"].map { ($0, g.node(cellIndex: 0, stage: $0)!.hash) })
        }
        let plain = try PipelineGraph(recipe: recipe, catalog: StageSpecs.catalog)  // no fingerprints
        let first = try hashes()
        XCTAssertEqual(try hashes(), first, "fingerprints are stable")
        XCTAssertEqual(first["tok"], plain.node(cellIndex: 0, stage: "tok")!.hash, "stages that read no files keep their hash")
        XCTAssertNotEqual(first["pairs"], plain.node(cellIndex: 0, stage: "pairs")!.hash)

        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let run = { try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay())
            .run(try StageSpecs.graph(recipe), targets: nil) }
        XCTAssertEqual(try run().ranCount, 3)

        let handle = try FileHandle(forWritingTo: data)  // one more pair
        handle.seekToEndOfFile()
        handle.write(Data(#"{"prompt": "new?", "chosen": "yes", "rejected": "no"}"#.utf8 + [10]))
        try handle.close()
        let afterData = try hashes()
        XCTAssertNotEqual(afterData["pairs"], first["pairs"])
        XCTAssertEqual(afterData["listed"], first["listed"])
        XCTAssertEqual(afterData["tok"], first["tok"])
        let rerun = try run()
        XCTAssertEqual(rerun.ranCount, 1, "only the dataset node is recomputed")
        XCTAssertEqual(store.summary(for: afterData["pairs"]!)?["rows_read"], 23)

        try "one\ntwo\nthree\nfour\n".write(to: prompts, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try hashes()["listed"], first["listed"])
        try (String(contentsOf: entry, encoding: .utf8) + "# a comment\n").write(to: entry, atomically: true, encoding: .utf8)
        XCTAssertNotEqual(try hashes()["pairs"], afterData["pairs"], "the entry's own text counts")
    }
}
