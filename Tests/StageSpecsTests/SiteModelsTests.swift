import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import XCTest

/// Site-named models (`hf_model` with `model:`): known by name, not by files that are not here; the architecture they
/// declare follows them through the graph, and a node that would load a non-Llama on the embedded engine is refused.
final class SiteModelsTests: XCTestCase {
    static let chain = """
        name: s
        stages:
          base: { kind: hf_model, model: opt-125m, architecture: opt }
          prefs: { kind: task_preferences, policy: base, task: word_collector, size: 8 }
          dpo: { kind: dpo, policy: base, preferences: prefs, engine: trl }
          eval: { kind: gold_reward, policy: dpo, task: word_collector }
        """

    static func graph(_ yaml: String, overrides: [String] = []) throws -> PipelineGraph {
        try StageSpecs.graph(try EngineKeyTests.load(yaml, overrides: overrides))
    }

    func testANamedModelValidatesWithoutItsFolderAndHashesByName() throws {
        let g = try Self.graph(Self.chain)
        let base = try XCTUnwrap(g.node(cellIndex: 0, stage: "base"))
        XCTAssertNil(base.external, "nothing here is read: the name is the identity")
        XCTAssertTrue(base.canonicalConfig.contains("opt-125m"))
        let other = try Self.graph(Self.chain, overrides: ["stages.base.model=opt-350m"])
        XCTAssertNotEqual(other.node(cellIndex: 0, stage: "base")?.hash, base.hash)
    }

    func testEmbeddedConsumersOfAnOPTModelAreRefusedAtTheirFieldTrainedOnesToo() throws {
        let errors = SiteModels.errors(try Self.graph(Self.chain)).map(\.description)
        // The OPT node itself (its folder, kept for the engines) and TRL's DPO from it are not refused.
        XCTAssertEqual(errors.count, 2, "\(errors)")
        XCTAssertTrue(errors[0].hasPrefix("e.yaml:4:44: error: stages.prefs.policy: 'base' is an opt model (site-named 'opt-125m', stage base); this stage would run on the embedded engine, which loads llama models only"), errors[0])
        XCTAssertTrue(errors[0].hasSuffix("expected `engine:` vllm on this stage (it hands the engine `policy`'s folder, tokenised by the model's own tokenizer)"), errors[0])
        // The DPO (on TRL) is an OPT model too, so the embedded evaluation of it is refused; vLLM's text mode takes its folder.
        XCTAssertTrue(errors[1].contains("stages.eval.policy: 'dpo' is an opt model (site-named 'opt-125m', stage base)"), errors[1])
        XCTAssertTrue(errors[1].hasSuffix("expected `engine:` vllm on this stage (it hands the engine `policy`'s folder, tokenised by the model's own tokenizer)"), errors[1])
        let vllm = SiteModels.errors(try Self.graph(Self.chain, overrides: ["stages.eval.engine=vllm"])).map(\.description)
        XCTAssertEqual(vllm.count, 1, "only the embedded sampling is left: \(vllm)")
        XCTAssertTrue(vllm[0].contains("stages.prefs.policy"), vllm[0])
    }

    /// TRL takes the OPT's folders, an embedded DPO does not; and a TRL node mixing the OPT with a model PrefLab
    /// reads is refused (one tokenizer per node's rows).
    func testTRLTakesTheFolderAndOneTokenizerPerNode() throws {
        let embedded = SiteModels.errors(try Self.graph(Self.chain, overrides: ["stages.dpo.engine=embedded"])).map(\.description)
        XCTAssertTrue(embedded.contains { $0.contains("stages.dpo.policy") && $0.hasSuffix("expected `engine:` trl on this stage (it hands the engine `policy`'s folder, tokenised by the model's own tokenizer)") }, "\(embedded)")
        let mixed = Self.chain + "\n  llama: { kind: hf_model, model: tulu, architecture: llama }\n  dpo2: { kind: dpo, policy: base, reference: llama, preferences: prefs, engine: trl }\n"
        let errors = SiteModels.errors(try Self.graph(mixed)).map(\.description)
        XCTAssertTrue(errors.contains { $0.contains("stages.dpo2.reference: `reference` is a model PrefLab reads (its own tokenizer) and `policy` an opt model with its own ('opt-125m')") }, "\(errors)")
        let lora = SiteModels.errors(try Self.graph(Self.chain, overrides: ["stages.dpo.lora={rank: 4}"])).map(\.description)
        XCTAssertTrue(lora.contains { $0.contains("stages.dpo.lora: `lora` starts from PrefLab's own initial adapters") }, "\(lora)")
    }

    func testALlamaNamedModelRunsAnywhereAndTheSiteMustPlaceIt() throws {
        let g = try Self.graph(Self.chain, overrides: ["stages.base.architecture=llama"])
        XCTAssertEqual(SiteModels.errors(g).count, 0)
        let missing = SiteModels.errors(g, siteModels: ["opt-350m": "/m/opt-350m"], siteFile: "site.yaml").map(\.description)
        XCTAssertEqual(missing, ["e.yaml:3:34: error: stages.base.model: the site file site.yaml names no folder for model 'opt-125m'; expected `models: { opt-125m: FOLDER }` in the site file"])
        let typo = SiteModels.errors(g, siteModels: ["opt-12m": "/m/opt"]).map(\.description)
        XCTAssertTrue(typo.first?.hasSuffix("did you mean 'opt-12m'?") ?? false, "\(typo)")
        XCTAssertEqual(SiteModels.errors(g, siteModels: ["opt-125m": "/m/opt-125m"]).count, 0)
    }

    func testPathOrModelAndAnArchitecture() {
        func errors(_ fields: String) -> [String] {
            do { _ = try EngineKeyTests.load("name: h\nstages:\n  m: { kind: hf_model, \(fields) }\n"); return [] }
            catch let e as RecipeErrors { return e.errors.map(\.description) } catch { return ["\(error)"] }
        }
        XCTAssertEqual(errors("model: opt-125m"), ["e.yaml:3:31: error: stages.m.model: a site-named model needs `architecture:` (its config.json model_type, e.g. llama or opt): it decides which engines can load it"])
        XCTAssertTrue(errors("model: a, architecture: opt, path: x").first?.contains("`path` and `model` are both set") ?? false)
        XCTAssertTrue(errors("max_seq_len: 8").first?.contains("an hf_model needs `path` (a folder here) or `model`") ?? false)
        XCTAssertTrue(errors("model: a, architecture: opt, chat_format: chatml").first?.contains("stages.m.chat_format: `chat_format` is how PrefLab reads a Llama folder's chat template") ?? false)
        XCTAssertEqual(errors("model: a, architecture: llama, chat_format: chatml"), [])
    }
}
