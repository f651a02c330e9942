@testable import Engines
import Foundation
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
@testable import Stages
import XCTest

/// `rm_accuracy` on TRL (`TRLScoreRunner`, trl_score.py): the judge scores through transformers and PrefLab computes
/// the accuracy. On the tiny OPT (scripts/make-tiny-opt.py) — judges PrefLab cannot read — through the executor; and,
/// on a Llama PrefLab made and exports, parity with PrefLab's own scores. Skipped, saying why, without `.venv-engines`.
final class AccuracyOnTRLTests: XCTestCase {
    typealias S = EngineTestSupport

    /// The Llama side shared by both runs: a tiny PrefLab policy whose text pairs (4 held out) judge the judges.
    static let llama = """
      tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
      sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 64, epochs: 1, batch_size: 16, micro_batch: 16, d_model: 32, layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96, seed: 1 }
      preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 8, held_out: 4, max_new_tokens: 12, drop_ties: false, seed: 1 }

    """

    /// OPT judges trained on TRL, their accuracy on the held-out pairs and on the DPO policy's own samples.
    static let opt = "name: opt-accuracy\nstages:\n" + llama + """
      opt: { kind: hf_model, model: tiny-opt, architecture: opt }
      dpo: { kind: dpo, engine: trl, policy: opt, preferences: preferences, learning_rate: 1.0e-2, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }
      reward_model: { kind: reward_model, engine: trl, init: opt, preferences: preferences, learning_rate: 1.0e-3, epochs: 1, batch_size: 4, micro_batch: 2, seed: 1 }
      rm_acc: { kind: rm_accuracy, engine: trl, reward_model: reward_model, preferences: preferences }
      dpo_acc: { kind: rm_accuracy, engine: trl, dpo_model: dpo, reference: opt, preferences: preferences }
      shift_acc: { kind: rm_accuracy, engine: trl, reward_model: reward_model, policy: dpo, task: word_collector, prompts: 6, max_new_tokens: 8, seed: 1 }

    """

    /// PrefLab's own Llama judges, each scored by both engines.
    static let parity = "name: llama-accuracy\nstages:\n" + llama + """
      reward_model: { kind: reward_model, init: sft, preferences: preferences, learning_rate: 1.0e-2, epochs: 1, batch_size: 4, micro_batch: 4, seed: 1 }
      dpo: { kind: dpo, policy: sft, preferences: preferences, learning_rate: 1.0e-2, epochs: 1, batch_size: 4, micro_batch: 4, seed: 1 }
      rm_acc: { kind: rm_accuracy, reward_model: reward_model, preferences: preferences }
      rm_acc_trl: { kind: rm_accuracy, engine: trl, reward_model: reward_model, preferences: preferences }
      dpo_acc: { kind: rm_accuracy, dpo_model: dpo, reference: sft, preferences: preferences }
      dpo_acc_trl: { kind: rm_accuracy, engine: trl, dpo_model: dpo, reference: sft, preferences: preferences }
      shift_acc_trl: { kind: rm_accuracy, engine: trl, reward_model: reward_model, policy: dpo, task: word_collector, prompts: 6, max_new_tokens: 8, seed: 1 }

    """

    /// The OPT judges validate on TRL (nothing left for PrefLab to read), and would be refused on the embedded engine.
    func testOPTJudgesValidateOnTRLOnly() throws {
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        XCTAssertEqual(SiteModels.errors(try S.graph(Self.opt, in: dir), siteModels: ["tiny-opt": "/nowhere"]).map(\.description), [])
        let embedded = try S.graph(Self.opt.replacingOccurrences(of: "kind: rm_accuracy, engine: trl,", with: "kind: rm_accuracy,"), in: dir)
        let errors = SiteModels.errors(embedded).map(\.description)
        XCTAssertEqual(errors.count, 5, errors.joined(separator: "\n"))   // rm_acc, dpo_acc (2 models), shift_acc (2 models)
        XCTAssertTrue(errors.allSatisfy { $0.contains("this stage would run on the embedded engine") && $0.contains("`engine:` trl on this stage") },
                      errors.joined(separator: "\n"))
    }

    /// Through the executor: the reward model's accuracy equals the one TRL's own held-out evaluation measured when it
    /// trained it (trl_train.py, by the model's forward; the same 4 pairs); the DPO judge's lines hold both summed
    /// log-probabilities; the on-policy accuracy labels the OPT's own decoded samples.
    func testOPTJudgesScoreOnTRL() throws {
        guard let python = S.python else {
            print("AccuracyOnTRLTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let folder = dir.appendingPathComponent("tiny-opt")
        try EngineModelTests.makeTinyOPT(python: python, into: folder)
        var site = SiteConfig()
        site.python = ["trl": python]
        site.models = ["tiny-opt": folder.path]
        let (graph, store) = try run(Self.opt, site: site, in: dir)
        func summary(_ name: String) throws -> [String: Double] {
            try XCTUnwrap(store.summary(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash), name)
        }
        XCTAssertEqual(try summary("rm_acc")["pairs"], 4)
        XCTAssertEqual(try summary("rm_acc")["accuracy"], try summary("reward_model")["held_out_accuracy"], "TRL's own held-out accuracy")
        XCTAssertEqual(try summary("dpo_acc")["pairs"], 4)
        let lines = try scoreLines("dpo_acc", graph, store)
        XCTAssertEqual(lines.count, 8, "4 chosen, then 4 rejected")
        XCTAssertTrue(lines.allSatisfy { $0.logp != nil && $0.refLogp != nil && $0.logp != $0.refLogp }, "DPO moved the weights")
        let shift = try summary("shift_acc")
        XCTAssertEqual((shift["pairs"] ?? 0) + (shift["gold_ties"] ?? 0), 6, "every held-out prompt: a counted pair or a gold tie")
        let samples = try scoreLines("shift_acc", graph, store)
        XCTAssertEqual(samples.count, 12)
        XCTAssertTrue(samples.allSatisfy { $0.text != nil && !($0.responseIds ?? []).isEmpty && ($0.responseIds ?? []).count <= 8 && $0.score != nil })
    }

    /// On a Llama both engines read: the TRL job's scores of PrefLab's exported judges equal PrefLab's own within 1e-4
    /// (float32, other summation orders), and so do the accuracies; the on-policy accuracy samples PrefLab's ids.
    func testScoresOfALlamaJudgeMatchPrefLab() throws {
        guard let python = S.python else {
            print("AccuracyOnTRLTests: skipped — .venv-engines is absent (bash scripts/setup-engines.sh makes it)")
            throw XCTSkip(".venv-engines is absent")
        }
        let dir = try S.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var site = SiteConfig()
        site.python = ["trl": python]
        let (graph, store) = try run(Self.parity, site: site, in: dir)
        func node(_ name: String) throws -> URL { store.objectDirectory(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash) }
        func accuracy(_ name: String) throws -> Double? { store.summary(for: try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash)?["accuracy"] }
        let pairs = try PreferenceArtifact.heldOut(try node("preferences"))
        let rm = try ModelArtifact.loadRewardModel(from: try node("reward_model"))
        let own = try rm.scores(Evaluation.pairItems(pairs, codec: rm.codec))
        let engine = try scoreLines("rm_acc_trl", graph, store).map { try XCTUnwrap($0.score) }
        XCTAssertEqual(engine.count, own.count)
        for (a, b) in zip(engine, own) { XCTAssertEqual(a, b, accuracy: 1e-4, "reward model score") }
        let dpo = try ModelArtifact.loadPolicy(from: try node("dpo")), sft = try ModelArtifact.loadPolicy(from: try node("sft"))
        let implicit = try Evaluation.implicitRewardScorer(policy: dpo, reference: sft, beta: 1)(Evaluation.pairItems(pairs, codec: dpo.codec))
        let lines = try scoreLines("dpo_acc_trl", graph, store)
        for (line, b) in zip(lines, implicit) { XCTAssertEqual(try XCTUnwrap(line.logp) - XCTUnwrap(line.refLogp), b, accuracy: 1e-4, "implicit reward") }
        let gaps = zip(engine, own).map { abs($0 - $1) } + zip(lines, implicit).map { abs(($0.logp ?? 0) - ($0.refLogp ?? 0) - $1) }
        print("AccuracyOnTRLTests: largest |TRL − PrefLab| score gap \(gaps.max() ?? 0) over \(gaps.count) scores")
        XCTAssertEqual(try accuracy("rm_acc_trl"), try accuracy("rm_acc"))
        XCTAssertEqual(try accuracy("dpo_acc_trl"), try accuracy("dpo_acc"))
        let samples = try scoreLines("shift_acc_trl", graph, store)
        XCTAssertEqual(samples.count, 12)
        XCTAssertTrue(samples.allSatisfy { $0.text == nil && !($0.responseIds ?? []).isEmpty }, "PrefLab's ids, decoded by PrefLab")
    }

    /// Runs `recipe` through the executor with the embedded and delegated runners; the run must succeed.
    func run(_ recipe: String, site: SiteConfig, in dir: URL) throws -> (PipelineGraph, ArtifactStore) {
        let graph = try S.graph(recipe, in: dir)
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"))
        EmbeddedRunners.configureEngine(threads: 1)
        let runners = EmbeddedRunners.all(siteModels: site.models).merging(DelegatedRunners.all(site: site)) { _, delegated in delegated }
        let report = try Executor(store: store, runners: runners, site: site.provenanceJSON).run(graph)
        XCTAssertTrue(report.succeeded, report.failures.map { "\($0.hash): \($0.outcome)" }.joined(separator: "\n"))
        return (graph, store)
    }

    /// The engine's lines kept beside a node (`scores.jsonl`).
    func scoreLines(_ name: String, _ graph: PipelineGraph, _ store: ArtifactStore) throws -> [ScoreLine] {
        let hash = try XCTUnwrap(graph.nodes.first { $0.stage.name == name }).hash
        let text = try String(contentsOf: store.objectDirectory(for: hash).appendingPathComponent("scores.jsonl"), encoding: .utf8)
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try text.split(separator: "\n").map { try decoder.decode(ScoreLine.self, from: Data($0.utf8)) }
    }
}
