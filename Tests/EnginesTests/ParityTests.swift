import Engines
import Foundation
import Pipeline
import RecipeSpec
import StageSpecs
import Stages
import XCTest

/// PrefLab's own nodes through TRL: the quickstart (smoke scale) runs on the embedded engine, then its sft,
/// reward_model and dpo nodes (and engines.yaml's opo and d2po) are trained again by TRL from the same inputs. Identical initial weights and
/// identical batches in identical order give the same first-step loss (within 1e-4); the TRL model is read
/// back by PrefLab. Skipped, saying why, without `.venv-engines`.
final class ParityTests: XCTestCase {
    typealias S = EngineTestSupport

    func testQuickstartNodesOnTRL() throws {
        for (node, embedded, trl) in try trainOnBoth("Recipes/quickstart.yaml", stages: ["sft", "reward_model", "dpo"]) {
            let ours = try XCTUnwrap(embedded.first?.values["loss"]), theirs = try XCTUnwrap(trl.first?.values["loss"])
            XCTAssertEqual(theirs, ours, accuracy: 1e-4, "\(node.kind): first-step loss")
        }
    }

    /// OPO (static RM and gold through `preflab annotate`) on TRL from the same policy, RM and prompts: the same
    /// steps and gold spend, one line per generation step; with one update per step the first step's loss is log 2 on
    /// both (π = π_ref, whatever was sampled), and the KL before the first update is 0.
    func testOnlineDPOOnTRL() throws {
        for (node, embedded, trl) in try trainOnBoth("Recipes/checks/engines.yaml", stages: ["opo_rm", "opo_gold"],
                                                     interrupt: ["opo_gold"]) {
            let name = node.stage.name
            if name == "opo_rm" {
                XCTAssertEqual(trl.first?.values["loss"] ?? 0, log(2), accuracy: 1e-6, name)
                XCTAssertEqual(embedded.first?.values["loss"] ?? 0, log(2), accuracy: 1e-6, name)
            }
            XCTAssertEqual(trl.first?.values["kl"] ?? 1, 0, accuracy: 1e-6, "\(name): no update before the first step's pairs")
            XCTAssertEqual(trl.map(\.total), embedded.map(\.total), name)
            XCTAssertEqual(trl.map { $0.values["gold_used"] }, embedded.map { $0.values["gold_used"] }, "\(name): gold spent")
            XCTAssertTrue(trl.allSatisfy { $0.values["loss"].map(\.isFinite) ?? false }, name)
        }
    }

    /// DPO with LoRA on every block matrix: TRL trains PrefLab's own initial adapters through peft (A from the stage's
    /// seed, B = 0) and the merged model is imported, as the embedded trainer stores it. The first step is log 2 on
    /// both whatever the adapters (B = 0), so every step's loss is compared: after the first update they depend on A.
    func testDPOWithLoRAOnTRL() throws {
        let lora = "stages.dpo.lora={rank: 4, alpha: 8, targets: [q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj]}"
        for (node, embedded, trl) in try trainOnBoth("Recipes/quickstart.yaml", stages: ["dpo"], overrides: [lora, "stages.dpo.epochs=3"]) {
            XCTAssertGreaterThan(trl.count, 1, "more than one step, so the adapters matter")
            for (ours, theirs) in zip(embedded, trl) {
                let a = try XCTUnwrap(ours.values["loss"]), b = try XCTUnwrap(theirs.values["loss"])
                print("ParityTests: dpo+lora step \(theirs.step) loss embedded \(a) trl \(b) (|Δ| \(abs(a - b)))")
                XCTAssertEqual(b, a, accuracy: 1e-4, "\(node.kind) with LoRA, step \(theirs.step)")
            }
        }
    }

    /// D2PO (discriminator: the shared RM, updated on gold pairs from `preflab annotate`) on TRL from the same policy, RM
    /// and prompts: the same lines, gold rounds at the same steps with the same gold spend; the first silver step's
    /// loss agrees within 1e-4 (log 2 on both: π = π_ref, whatever was sampled) and its KL is 0. Killed mid-run, the
    /// TRL node resumes (discriminator weights and optimiser, kept candidates and the round's gold pairs included).
    func testD2POOnTRL() throws {
        for (node, embedded, trl) in try trainOnBoth("Recipes/checks/engines.yaml", stages: ["d2po"], interrupt: ["d2po"]) {
            let name = node.stage.name
            let ours = try XCTUnwrap(embedded.first?.values["loss"]), theirs = try XCTUnwrap(trl.first?.values["loss"])
            XCTAssertEqual(theirs, ours, accuracy: 1e-4, "\(name): first-step loss")
            XCTAssertEqual(theirs, log(2), accuracy: 1e-6, name)
            XCTAssertEqual(trl.first?.values["kl"] ?? 1, 0, accuracy: 1e-6, "\(name): no update before the first step's pairs")
            XCTAssertEqual(trl.map(\.total), embedded.map(\.total), name)
            XCTAssertEqual(trl.map { $0.values["gold_used"] }, embedded.map { $0.values["gold_used"] }, "\(name): gold spent")
            XCTAssertEqual(trl.map { $0.values["gold_round"] != nil }, embedded.map { $0.values["gold_round"] != nil },
                           "\(name): gold rounds at the same steps")
            XCTAssertTrue(trl.contains { $0.values["gold_round"] != nil }, "\(name): the smoke run has gold rounds")
            for line in trl where line.values["gold_round"] != nil {
                for key in ["disc_loss", "gold_loss", "silver_agreement"] {
                    XCTAssertTrue(line.values[key].map(\.isFinite) ?? false, "\(name) step \(line.step): \(key)")
                }
            }
            XCTAssertTrue(trl.allSatisfy { $0.values["loss"].map(\.isFinite) ?? false }, name)
        }
    }

    /// D2PO's other discriminators on TRL: the policy itself with random selection (PrefLab's permutation of each
    /// round), and a separate DPO model (the shared `base`) — the same first-step loss, lines, rounds and gold spend.
    func testD2PODiscriminatorsOnTRL() throws {
        let variants = [["stages.d2po.discriminator=self", "stages.d2po.selection=random"],
                        ["stages.d2po.discriminator=dpo", "stages.d2po.dpo_model=base", "stages.d2po.reward_model=null"]]
        for overrides in variants {
            for (_, embedded, trl) in try trainOnBoth("Recipes/checks/engines.yaml", stages: ["d2po"], overrides: overrides) {
                let name = overrides.joined(separator: " ")
                XCTAssertEqual(try XCTUnwrap(trl.first?.values["loss"]), try XCTUnwrap(embedded.first?.values["loss"]),
                               accuracy: 1e-4, "\(name): first-step loss")
                XCTAssertEqual(trl.map { $0.values["gold_used"] }, embedded.map { $0.values["gold_used"] }, name)
                XCTAssertEqual(trl.map { $0.values["gold_round"] != nil }, embedded.map { $0.values["gold_round"] != nil }, name)
                XCTAssertEqual(trl.map { $0.values["disc_loss"] != nil }, embedded.map { $0.values["disc_loss"] != nil },
                               "\(name): a discriminator update in each round (none for self)")
                XCTAssertEqual(trl.contains { $0.values["disc_loss"] != nil }, overrides[0].hasSuffix("=dpo"),
                               "\(name): only a separate discriminator has its own loss")
                XCTAssertTrue(trl.allSatisfy { $0.values["loss"].map(\.isFinite) ?? false }, name)
            }
        }
    }

    /// PrefLab's accuracy probe (D2PO Fig. 6) on both engines, one step per window: the same windows; every pair of a
    /// step counted or tied; where the judges cannot depend on what each engine sampled, the same values — the
    /// implicit reward is 0 for every response before the first update (π = π_ref), so 1/2 on both, and until the
    /// first gold round's update (after step 2's probe) the discriminator is the static RM, so the two agree on both.
    /// The samples differ by engine, so the other values are compared by rule (AnnotationServiceTests).
    func testD2POProbeOnTRL() throws {
        // Unique Nouns and 36 new tokens (the longest prompt, 58 tokens, then fills the 96-token window): the smoke SFT
        // policy's Word Collector responses hold no target word, so every pair would tie and no accuracy be measured.
        let overrides = ["stages.d2po.probe_every=1", "stages.d2po.max_new_tokens=36", "vars.task=unique_nouns"]
        for (_, embedded, trl) in try trainOnBoth("Recipes/checks/engines.yaml", stages: ["d2po"], overrides: overrides) {
            for (name, lines) in [("embedded", embedded.map(\.values)), ("trl", trl.map(\.values))] {
                XCTAssertEqual(lines.count, 4, name)
                checkProbeLines("d2po \(name)", lines, judges: ["probe_discriminator", "probe_static_rm", "probe_implicit"]) { i, v in
                    if i < 2, (v["probe_pairs"] ?? 0) > 0 {
                        XCTAssertEqual(v["probe_discriminator"], v["probe_static_rm"], "\(name) step \(i + 1)")
                    }
                }
            }
        }
        // The gold rounds label candidates the probe has asked about: with their requests, not rebuilt ones.
        let rounds = (trlLogs["d2po"] ?? []).filter { $0.contains("trl_d2po.py: gold round") }
        XCTAssertFalse(rounds.isEmpty, "no gold round logged")
        for line in rounds {
            let counts = line.split(separator: ":").last!.split(separator: " ").compactMap { Int($0) }
            XCTAssertEqual(counts.count, 2, line)
            XCTAssertEqual(counts.first, counts.last, "every label from the probe's request: \(line)")
        }
    }

    /// OPO's accuracy probe (D2PO Fig. 5) on both engines, windows of one step: the static-RM run's judges are its
    /// labeller's RM and the implicit reward, the gold run's the implicit reward alone (no `probe_reward_model`, as
    /// OPOTrainer.record); on TRL `preflab annotate` answers the static-RM run's probe alone. Every line counts the
    /// step's 8 pairs (ties dropped), the implicit reward is 0 for every response before the first update (π = π_ref),
    /// so 1/2 on both engines. The samples differ by engine, so the other values are compared by rule.
    func testOPOProbeOnTRL() throws {
        let overrides = ["vars.task=unique_nouns", "stages.opo_rm.task=unique_nouns", "stages.opo_rm.probe_every=1",
                         "stages.opo_gold.probe_every=1", "stages.opo_rm.max_new_tokens=36", "stages.opo_gold.max_new_tokens=36"]
        let runs = try trainOnBoth("Recipes/checks/engines.yaml", stages: ["opo_rm", "opo_gold"], overrides: overrides)
        XCTAssertEqual(Set(runs.map(\.node.stage.name)), ["opo_rm", "opo_gold"])
        for (node, embedded, trl) in runs {
            let stage = node.stage.name
            let judges = stage == "opo_rm" ? ["probe_static_rm", "probe_implicit"] : ["probe_implicit"]
            for (name, lines) in [("embedded", embedded.map(\.values)), ("trl", trl.map(\.values))] {
                XCTAssertFalse(lines.isEmpty, "\(stage) \(name)")
                checkProbeLines("\(stage) \(name)", lines, judges: judges) { _, v in
                    XCTAssertNil(v["probe_discriminator"], "\(stage) \(name): opo has no discriminator")
                    if stage == "opo_gold" { XCTAssertNil(v["probe_static_rm"], "\(name): a gold opo has no static RM to probe") }
                }
            }
        }
    }

    /// The rules every probe line follows on either engine: the step's 8 pairs counted or tied; where some counted,
    /// each judge's accuracy and the gold reward; 1/2 implicit accuracy at step 1 (π = π_ref); some line with pairs
    /// counted. `each` adds the method's own rule for line i.
    func checkProbeLines(_ label: String, _ lines: [[String: Double]], judges: [String],
                         each: (Int, [String: Double]) -> Void) {
        for (i, v) in lines.enumerated() {
            print("ParityTests: \(label) probe step \(i + 1): \(v.filter { $0.key.hasPrefix("probe_") }.sorted { $0.key < $1.key })")
            XCTAssertEqual((v["probe_pairs"] ?? 0) + (v["probe_ties"] ?? 0), 8, "\(label) step \(i + 1): 8 pairs")
            each(i, v)
            guard (v["probe_pairs"] ?? 0) > 0 else { continue }
            for key in judges + ["probe_gold_reward"] { XCTAssertNotNil(v[key], "\(label) step \(i + 1): \(key)") }
            if i == 0 { XCTAssertEqual(v["probe_implicit"] ?? 0, 0.5, accuracy: 1e-12, "\(label): π = π_ref") }
        }
        XCTAssertTrue(lines.contains { ($0["probe_pairs"] ?? 0) > 0 }, "\(label): some pairs are not ties")
    }

    /// Runs `stages` of the recipe's first cell (smoke scale) on the embedded engine, then trains the same nodes again
    /// on TRL from the same inputs; returns each node's embedded and TRL step metrics (steps and lr checked equal).
    /// A node in `interrupt` is trained once more on TRL, killed while saving its second checkpoint, resumed from the first (mid generation step for
    /// OPO with several update epochs) and resumed: its metrics must equal the uninterrupted run's.
    /// The TRL job's output lines of the last `trainOnBoth` run, by stage name.
    var trlLogs: [String: [String]] = [:]

    func trainOnBoth(_ recipePath: String, stages: Set<String>, interrupt: Set<String> = [], overrides: [String] = []) throws
        -> [(node: GraphNode, embedded: [MetricPoint], trl: [(step: Int, total: Int, values: [String: Double])])] {
        guard let python = S.python else {
            print("ParityTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let recipe = try S.recipe(recipePath, overrides: ["scale=smoke"] + overrides)
        let graph = try StageSpecs.graph(recipe)
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        let nodes = graph.nodes.filter { stages.contains($0.stage.name) && $0.engine == "embedded" }
        let report = try Executor(store: store, runners: EmbeddedRunners.all).run(graph, targets: Set(nodes.map(\.hash)))
        XCTAssertTrue(report.succeeded, "\(report.failures)")
        var site = SiteConfig()
        site.python = ["trl": python]
        let runner = TRLRunner(inputs: EmbeddedEngineInputs(), site: site)
        var out: [(node: GraphNode, embedded: [MetricPoint], trl: [(step: Int, total: Int, values: [String: Double])])] = []
        func context(_ node: GraphNode, _ tag: String, _ reporter: Recorder) throws -> NodeContext {
            let output = dir.appendingPathComponent("trl-\(node.stage.name)-\(tag)")
            try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
            var inputs: [String: URL] = [:]
            for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
            return NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: output,
                               resumeDirectory: dir.appendingPathComponent("resume-\(node.stage.name)-\(tag)"), reporter: reporter)
        }
        for node in nodes {
            let reporter = Recorder()
            let first = try context(node, "whole", reporter)
            let output = first.outputDirectory
            try runner.run(first)
            trlLogs[node.stage.name] = reporter.logs
            if interrupt.contains(node.stage.name) {
                let killed = try context(node, "killed", Recorder())
                let killer = S.killer(at: "checkpoint-4", resume: killed.resumeDirectory)  // checkpoint-2 is then complete
                killer.start()
                XCTAssertThrowsError(try runner.run(killed)) { XCTAssertTrue("\($0)".contains("killed by signal 9"), "\($0)") }
                let resumed = Recorder()
                try runner.run(try context(node, "killed", resumed))
                XCTAssertTrue(resumed.logs.contains { $0.contains("resuming from checkpoint-") }, resumed.logs.joined(separator: "\n"))
                XCTAssertEqual(resumed.steps.map(\.step), reporter.steps.map(\.step), "\(node.stage.name): each step once")
                for (a, b) in zip(resumed.steps, reporter.steps) {
                    XCTAssertEqual(a.values["loss"] ?? 0, b.values["loss"] ?? 1, accuracy: 1e-6, "\(node.stage.name) step \(a.step) after resume")
                    XCTAssertEqual(a.values["gold_used"], b.values["gold_used"])
                }
            }
            let embedded = store.metrics(for: node.hash)
            XCTAssertEqual(reporter.steps.count, embedded.count, "\(node.stage.name): steps")
            let ours = embedded.first?.values["loss"] ?? .nan, theirs = reporter.steps.first?.values["loss"] ?? .nan
            print("ParityTests: \(node.stage.name) first-step loss embedded \(ours) trl \(theirs) (|Δ| \(abs(ours - theirs)))")
            if let lr = embedded.first?.values["lr"] { XCTAssertEqual(reporter.steps.first?.values["lr"] ?? -1, lr, accuracy: 1e-9) }
            XCTAssertTrue(FileManager.default.fileExists(atPath: output.appendingPathComponent("model.safetensors").path))
            out.append((node, embedded, reporter.steps))
        }
        return out
    }
}

/// Collects what a runner reports (thread-safe).
final class Recorder: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private(set) var steps: [(step: Int, total: Int, values: [String: Double])] = []
    private(set) var logs: [String] = []
    private(set) var summaries: [String: Double] = [:]

    func record(step: Int, of total: Int, values: [String: Double]) { lock.withLock { steps.append((step, total, values)) } }
    func log(_ message: String) { lock.withLock { logs.append(message) } }
    func summary(_ values: [String: Double]) { lock.withLock { summaries.merge(values) { $1 } } }
}
