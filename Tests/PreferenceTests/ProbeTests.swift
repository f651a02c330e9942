import Foundation
import XCTest
@testable import Preference

/// The accuracy probe of online training (D2PO Figs 5, 6).
final class ProbeTests: XCTestCase {
    func candidate(_ a: String, _ b: String) -> OnlinePairs.Candidate {
        OnlinePairs.Candidate(prompt: Prompt("p"), promptIds: [1], firstIds: [2], secondIds: [3], firstText: a, secondText: b)
    }

    func testAccuracyDropsGoldTiesHalvesJudgeTiesAndResetsPerWindow() {
        // LetterCountTask: R* = number of "a". Pairs: (aa, a) first wins; (b, aa) second wins; (a, a) gold tie.
        let probe = AccuracyProbe(task: LetterCountTask(), every: 2)
        let cands = [candidate("aa", "a"), candidate("b", "aa"), candidate("a", "a")]
        // right: both pairs right → 1; half: right on the first, a tie on the second → 0.75; wrong → 0.
        probe.record(cands, judges: ["right": [(2, 1), (0, 5), (0, 9)], "half": [(2, 1), (3, 3), (1, 0)],
                                     "wrong": [(0, 1), (1, 0), (0, 0)]])
        XCTAssertEqual(probe.report(step: 1, total: 10), [:])  // window of 2 steps not over
        probe.record([candidate("a", "")], judges: ["right": [(1, 0)], "half": [(0, 1)], "wrong": [(0, 1)]])
        let out = probe.report(step: 2, total: 10)
        XCTAssertEqual(out["probe_pairs"], 3)
        XCTAssertEqual(out["probe_ties"], 1)
        XCTAssertEqual(out["probe_right"], 1)
        XCTAssertEqual(out["probe_half"] ?? -1, 1.5 / 3, accuracy: 1e-12)
        XCTAssertEqual(out["probe_wrong"], 0)
        // Mean R* over all 8 rollouts, gold ties included: (2+1) + (0+2) + (1+1) + (1+0) = 8.
        XCTAssertEqual(out["probe_gold_reward"], 1)
        // The next window starts empty; the last step reports whatever it holds.
        probe.record([candidate("aa", "a")], judges: ["right": [(1, 0)]])
        XCTAssertEqual(probe.report(step: 3, total: 3)["probe_right"], 1)
        XCTAssertEqual(probe.report(step: 3, total: 3), [:])
    }

    func testOPOProbeReportsStaticAndImplicitAccuracyWithoutSpendingGold() throws {
        let task = LetterCountTask()
        let probe = AccuracyProbe(task: task, every: 2)
        var p = OPOTrainer.Parameters()
        p.promptsPerStep = 8
        p.maxNewTokens = 8
        p.learningRate = 1e-3
        var rows: [[String: Double]] = []
        let control = TrainingControl(reporter: { _, _, v in rows.append(v) })
        let policy = Toy.sftPolicy.copy()
        _ = try OPOTrainer(p).train(policy: policy, reference: Toy.sftPolicy.copy(),
                                    labeler: .staticRewardModel(Toy.rewardModel()), prompts: task.prompts(count: 32, split: .train, seed: 1),
                                    control: control, probe: probe)
        XCTAssertEqual(rows.count, 4)
        XCTAssertNil(rows[0]["probe_static_rm"])
        for row in [rows[1], rows[3]] {
            let s = try XCTUnwrap(row["probe_static_rm"]), i = try XCTUnwrap(row["probe_implicit"])
            XCTAssertTrue((0...1).contains(s) && (0...1).contains(i))
            XCTAssertGreaterThan(try XCTUnwrap(row["probe_pairs"]), 0)
            XCTAssertEqual(row["gold_used"], 0)
        }
    }
}
