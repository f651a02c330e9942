import Foundation
import XCTest
import Pipeline
import RecipeSpec
import StageSpecs

/// The `engine` key: a recipe-level default, a per-stage override and hashed `engine_args`; embedded
/// nodes hash as they always did, delegated ones add the engine's identity.
final class EngineKeyTests: XCTestCase {
    static let quickstart = CatalogueTests.root.appendingPathComponent("Recipes/quickstart.yaml").path

    static func load(_ yaml: String, catalog: StageCatalog = StageSpecs.catalog, overrides: [String] = []) throws -> ResolvedRecipe {
        try RecipeLoader(catalog: catalog).load(yaml: yaml, file: "e.yaml", overrides: overrides)
    }

    static let chain = """
        name: e
        stages:
          tok: { kind: tokenizer, task: word_collector }
          sft: { kind: sft, task: word_collector, tokenizer: tok }
          prefs: { kind: task_preferences, policy: sft, task: word_collector }
          dpo: { kind: dpo, policy: sft, preferences: prefs }
        """

    func testSetEngineDelegatesTheKindsThatEngineRunsAndLeavesTheRestEmbedded() throws {
        let plain = try RecipeLoader(catalog: StageSpecs.catalog).load(file: Self.quickstart, overrides: ["scale=smoke"])
        let trl = try RecipeLoader(catalog: StageSpecs.catalog).load(file: Self.quickstart, overrides: ["scale=smoke", "engine=trl"])
        let (g0, g1) = (try StageSpecs.graph(plain), try StageSpecs.graph(trl))
        for stage in ["tokenizer", "sft", "preferences", "reward_model", "dpo", "ppo"] {
            let a = try XCTUnwrap(g0.node(cellIndex: 0, stage: stage)), b = try XCTUnwrap(g1.node(cellIndex: 0, stage: stage))
            XCTAssertEqual(a.engine, "embedded")
            XCTAssertEqual(b.engine, ["sft", "reward_model", "dpo"].contains(stage) ? "trl" : "embedded", stage)
        }
        // The tokenizer is upstream of every delegated node: its hash does not move; everything after SFT does.
        XCTAssertEqual(g0.node(cellIndex: 0, stage: "tokenizer")?.hash, g1.node(cellIndex: 0, stage: "tokenizer")?.hash)
        XCTAssertNotEqual(g0.node(cellIndex: 0, stage: "sft")?.hash, g1.node(cellIndex: 0, stage: "sft")?.hash)
        XCTAssertEqual(g1.node(cellIndex: 0, stage: "sft")?.runnerKey, RunnerKey(kind: "sft", engine: "trl"))
    }

    func testAMatrixAxisOverEngineGivesOneCellPerEngine() throws {
        let recipe = try Self.load(Self.chain + "\nmatrix:\n  engine: [embedded, trl]\n")
        let graph = try StageSpecs.graph(recipe)
        let e = try XCTUnwrap(graph.node(cellIndex: 0, stage: "dpo")), t = try XCTUnwrap(graph.node(cellIndex: 1, stage: "dpo"))
        XCTAssertEqual([e.engine, t.engine], ["embedded", "trl"])
        XCTAssertNotEqual(e.hash, t.hash)
        XCTAssertEqual(graph.node(cellIndex: 0, stage: "tok")?.hash, graph.node(cellIndex: 1, stage: "tok")?.hash, "one shared tokenizer node")
    }

    func testEngineArgsAndPrecisionAreHashedForDelegatedNodesOnly() throws {
        func dpoHash(_ extra: String) throws -> String {
            let yaml = Self.chain.replacingOccurrences(of: "preferences: prefs }", with: "preferences: prefs\(extra) }")
            return try XCTUnwrap(StageSpecs.graph(try Self.load(yaml)).node(cellIndex: 0, stage: "dpo")?.hash)
        }
        let embedded = try dpoHash(""), explicitEmbedded = try dpoHash(", engine: embedded")
        XCTAssertEqual(embedded, explicitEmbedded, "naming the embedded engine changes nothing")
        let trl = try dpoHash(", engine: trl")
        let args = try dpoHash(", engine: trl, engine_args: { precision: float16 }")
        let bf16 = try dpoHash(", engine: trl, engine_args: { precision: bf16 }")
        XCTAssertEqual(Set([embedded, trl, args, bf16]).count, 4)
        XCTAssertNotEqual(bf16, try dpoHash(", engine: trl, engine_args: { precision: fp32 }"), "the precision is hashed")
    }

    /// A kind with its own bridge version (TRL's opo after its sampler changed) hashes with it; the engine's
    /// other kinds keep the engine's version, so their stored nodes stay valid.
    func testAKindsOwnBridgeVersionEntersOnlyItsHashes() throws {
        func hashes(_ engine: EngineDescriptor) throws -> (dpo: String, opo: String) {
            let catalog = StageCatalog(Array(StageSpecs.catalog.schemas.values), engines: Engines.delegated + [engine])
            let yaml = Self.chain + "\n  prompts: { kind: task_prompts, task: word_collector }\n"
                + "  opo: { kind: opo, policy: sft, prompts: prompts, labeler: gold, task: word_collector }\nengine: trl\n"
            let graph = try PipelineGraph(recipe: try Self.load(yaml, catalog: catalog), catalog: catalog,
                                          external: StageSpecs.externalInputs)
            return (try XCTUnwrap(graph.node(cellIndex: 0, stage: "dpo")?.hash), try XCTUnwrap(graph.node(cellIndex: 0, stage: "opo")?.hash))
        }
        var old = Engines.trl
        old.kindBridgeVersions = [:]
        let (a, b) = (try hashes(old), try hashes(Engines.trl))
        XCTAssertEqual(Engines.trl.bridgeVersion(for: "opo"), 2)
        XCTAssertEqual(a.dpo, b.dpo, "dpo's bridge did not change")
        XCTAssertNotEqual(a.opo, b.opo, "opo's did")
    }

    func testAKindOnAnEngineWithoutARunnerIsRefusedAtTheEngineKey() throws {
        let yaml = Self.chain.replacingOccurrences(of: "tok: { kind: tokenizer, task: word_collector }",
                                                   with: "tok: { kind: tokenizer, task: word_collector, engine: trl }")
        XCTAssertThrowsError(try Self.load(yaml)) { error in
            XCTAssertEqual("\(error)", "e.yaml:3:57: error: stages.tok.engine: stage kind 'tokenizer' has no runner on engine 'trl'; "
                           + "expected an engine that runs 'tokenizer': embedded")
        }
        XCTAssertThrowsError(try Self.load(Self.chain.replacingOccurrences(of: "preferences: prefs }", with: "preferences: prefs, engine: trll }"))) {
            XCTAssertTrue("\($0)".contains("unknown engine 'trll'; did you mean 'trl'?"), "\($0)")
        }
        XCTAssertThrowsError(try Self.load(Self.chain + "\nengine: openrhlf\n")) {
            XCTAssertTrue("\($0)".hasPrefix("e.yaml:7:9: error: engine: unknown engine 'openrhlf'; did you mean 'openrlhf'?"), "\($0)")
        }
        XCTAssertThrowsError(try Self.load(Self.chain.replacingOccurrences(of: "preferences: prefs }", with: "preferences: prefs, engine_args: { a: 1 } }"))) {
            XCTAssertTrue("\($0)".contains("engine_args is set but the stage runs on the embedded engine"), "\($0)")
        }
    }

    /// A delegated engine's check refuses options it cannot honour, at the option's own line.
    func testAnEngineCheckReportsAtTheOptionsLine() throws {
        var dpo = StageSpecs.dpo.schema
        dpo.engines = [.embedded, EngineSupport("trl") { stage in
            stage.config["loss"]?["kind"]?.string == "conservative" ? [StageProblem(key: "loss", "conservative DPO has no TRL equivalent")] : []
        }]
        var catalog = StageSpecs.catalog
        catalog.register(dpo)
        let yaml = Self.chain.replacingOccurrences(of: "preferences: prefs }",
                                                   with: "preferences: prefs, engine: trl,\n          loss: { kind: conservative } }")
        XCTAssertNoThrow(try Self.load(yaml.replacingOccurrences(of: "engine: trl,", with: "")))
        XCTAssertThrowsError(try Self.load(yaml, catalog: catalog)) { error in
            XCTAssertEqual("\(error)", "e.yaml:7:17: error: stages.dpo.loss: conservative DPO has no TRL equivalent (engine 'trl')")
        }
    }

    /// `preflab resolve` shows which engine runs a delegated stage.
    func testResolveShowsTheEngineOfADelegatedStage() throws {
        let text = RecipeRenderer.yaml(try Self.load(Self.chain + "\nengine: trl\n"))
        XCTAssertTrue(text.contains("  dpo:\n    kind: dpo\n    engine: trl\n"), text)
        XCTAssertFalse(text.contains("  tok:\n    kind: tokenizer\n    engine"), text)
    }
}
