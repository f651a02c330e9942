import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// `ppo` on OpenRLHF without a GPU: validate refuses what the mapping refuses (one list), the dry run prints each
/// delegated node's exact launch, and a run fails the node with the reason while its dependents are skipped.
final class OpenRLHFTests: XCTestCase {
    typealias S = EngineTestSupport

    /// The Table 10 variants OpenRLHF can run, as the mapping's golden vectors expect them.
    static let delegable = ["value_coefficient=1", "warmup_fraction=0"]
    static let variants = ["ours", "reward_normalization", "reward_whitening", "adaptive_kl", "kl_clamping",
                           "value_from_policy", "no_eos_trick", "multiple_rollouts"]

    /// Every variant the mapping refuses is refused by `validate` at that key's file:line:column, with the
    /// mapping's own message; the variants it maps validate.
    func testValidateRefusesExactlyWhatTheMappingRefuses() throws {
        let settings = Self.variants.flatMap { v in Self.delegable.map { "stages.\(v).\($0)" } }
        let embedded = try S.recipe("Recipes/unpacking/table10.yaml", overrides: settings)
        var expected = Set<String>()
        for variant in Self.variants {
            for refusal in OpenRLHFMapping.refusals(try S.stage(embedded, variant)) {
                XCTAssertTrue(refusal.location.contains("table10.yaml:"), "a refusal names the line: \(refusal)")
                expected.insert("\(refusal.location)error: \(refusal.path): \(refusal.message) (engine 'openrlhf')")
            }
        }
        XCTAssertEqual(expected.count, 3, "reward normalisation, reward whitening and KL clamping have no OpenRLHF equivalent")
        XCTAssertThrowsError(try S.recipe("Recipes/unpacking/table10.yaml", overrides: settings + ["engine=openrlhf"])) { error in
            let lines = Set(((error as? RecipeErrors)?.errors ?? []).map(\.description))
            XCTAssertEqual(lines, expected)
        }
        // The written value's own position: `true` of `reward_whitening: true` on its stage's line in the file.
        let text = try String(contentsOf: S.repo.appendingPathComponent("Recipes/unpacking/table10.yaml"), encoding: .utf8)
        let lines = text.components(separatedBy: "\n")
        let row = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("  reward_whitening:") })
        let column = try XCTUnwrap(lines[row].range(of: "reward_whitening: true")).upperBound.utf16Offset(in: lines[row]) - 3
        XCTAssertTrue(expected.contains { $0.contains("table10.yaml:\(row + 1):\(column): error: stages.reward_whitening.reward_whitening:") },
                      "\(expected)")
    }

    /// `engine: openrlhf` on a ppo OpenRLHF can run validates; the paper's value coefficient, float32 and a kind
    /// OpenRLHF does not run are refused where they are written.
    func testOpenRLHFOnPPOValidates() throws {
        XCTAssertNoThrow(try S.recipe("Recipes/quickstart.yaml", overrides: Self.openrlhfPPO))
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.ppo.engine=openrlhf"])) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("stages.ppo.value_coefficient: OpenRLHF steps the critic on its own value loss"), text)
            XCTAssertTrue(text.contains("stages.ppo.warmup_fraction: OpenRLHF's constant_with_warmup starts at lr 0"), text)
        }
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: Self.openrlhfPPO + ["stages.ppo.engine_args={precision: float32}"])) {
            XCTAssertTrue("\($0)".contains("stages.ppo.engine_args: OpenRLHF trains in bf16 or fp16 only"), "\($0)")
        }
        XCTAssertThrowsError(try S.recipe("Recipes/quickstart.yaml", overrides: ["stages.dpo.engine=openrlhf"])) {
            XCTAssertTrue("\($0)".contains("stage kind 'dpo' has no runner on engine 'openrlhf'"), "\($0)")
        }
    }

    /// The quickstart with its ppo on OpenRLHF and every other kind TRL runs on TRL.
    static let openrlhfPPO = ["stages.ppo.engine=openrlhf", "stages.ppo.value_coefficient=1", "stages.ppo.warmup_fraction=0"]

    /// `preflab plan --commands` on every example site: each node's engine and resources, and for each delegated node
    /// the exact folder, environment and command. Paths are shown relative to a store at /STORE.
    func testLaunchPlansGolden() throws {
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["engine=trl"] + Self.openrlhfPPO)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        let examples = S.repo.appendingPathComponent("examples")
        var text = ""
        for name in try FileManager.default.contentsOfDirectory(atPath: examples.path).filter({ $0.hasPrefix("site-") }).sorted() {
            var site = try SiteConfig.load(file: examples.appendingPathComponent(name).path)
            site.file = "examples/" + name
            text += "######## \(name)\n" + LaunchPlan.render(graph: graph, store: store, site: site, runners: DelegatedRunners.all(site: site))
        }
        text = text.replacingOccurrences(of: store.root.path, with: "/STORE")
            .replacingOccurrences(of: FileManager.default.currentDirectoryPath, with: "$PWD")
            .replacingOccurrences(of: S.repo.path, with: "$PWD")
        try S.checkGolden("launch-plans.txt", text)
        XCTAssertTrue(text.contains("# ppo: ppo on openrlhf"))
        XCTAssertTrue(text.contains("/openrlhf_ppo.py \\\n    --actor.model_name_or_path"), "the launch script, then train_ppo_ray's arguments")
        XCTAssertTrue(text.contains("# not launchable: ") && text.contains("OpenRLHF needs at least one GPU"),
                      "a site without GPUs for ppo says so instead of a command")
    }

    /// Without a GPU the OpenRLHF node fails with the reason before anything is exported; the nodes that need it
    /// are skipped and the others finish.
    func testRunWithoutAGPUFailsTheNodeAndSkipsItsDependents() throws {
        try XCTSkipIf(GPUPlacement.machineHasGPU(), "this machine has a GPU; the refusal is for machines without one")
        let recipe = try S.recipe("Recipes/quickstart.yaml", overrides: ["scale=smoke"] + Self.openrlhfPPO)
        let graph = try StageSpecs.graph(recipe)
        let ppo = try XCTUnwrap(graph.nodes.first { $0.kind == "ppo" })
        let eval = try XCTUnwrap(graph.nodes.first { $0.kind == "gold_reward" && $0.inputs.contains { $0.hash == ppo.hash } })
        let prefs = try XCTUnwrap(graph.nodes.first { $0.kind == "task_preferences" })
        let store = try ArtifactStore(root: try S.temporaryDirectory())
        defer { try? FileManager.default.removeItem(at: store.root) }
        EmbeddedRunners.configureEngine(threads: 1)
        let runners = EmbeddedRunners.all.merging(DelegatedRunners.all(site: SiteConfig())) { embedded, _ in embedded }
        let report = try Executor(store: store, runners: runners).run(graph, targets: [eval.hash, prefs.hash])
        let outcome = Dictionary(uniqueKeysWithValues: report.nodes.map { ($0.hash, $0.outcome) })
        guard case .failed(let error, _)? = outcome[ppo.hash] else { return XCTFail("ppo: \(String(describing: outcome[ppo.hash]))") }
        XCTAssertTrue(error.contains("stages.ppo.engine: OpenRLHF needs a CUDA GPU and this machine has none"), error)
        guard case .skipped? = outcome[eval.hash] else { return XCTFail("eval: \(String(describing: outcome[eval.hash]))") }
        XCTAssertTrue(store.isComplete(prefs.hash), "independent nodes still run")
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.resumePath(for: ppo.hash).appendingPathComponent("policy").path),
                       "nothing is exported before the GPU check")
    }
}
