import Foundation
import Llama
import Tensor
import XCTest
@testable import Preference

/// Evaluation: gold reward, KL to the reference, reward-model accuracy (offline and on-policy), best-of-N.
final class EvalTests: XCTestCase {
    let prompts = Toy.task.prompts(count: 8, split: .heldOut, seed: 21)
    let options = SamplingOptions(maxNewTokens: 8, temperature: 1, seed: 4)

    func testGoldRewardMatchesTheTaskOnTheSamples() throws {
        let (summary, samples) = try Evaluation.goldReward(policy: Toy.sftPolicy, task: Toy.task, prompts: prompts,
                                                       samplesPerPrompt: 3, options: options)
        XCTAssertEqual(samples.count, 24)
        let rewards = samples.enumerated().map { Toy.task.reward(prompt: prompts[$0.offset / 3], response: $0.element.text) }
        XCTAssertEqual(summary.mean, TrainerKit.mean(rewards), accuracy: 1e-12)
        XCTAssertEqual(summary.values, rewards)
        // One std convention: the population std (divides by n).
        let m = TrainerKit.mean(rewards)
        XCTAssertEqual(summary.std, (rewards.map { ($0 - m) * ($0 - m) }.reduce(0, +) / 24).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(summary.count, 24)
        XCTAssertEqual(Evaluation.meanResponseLength(samples),
                       Double(samples.map(\.pair.response.count).reduce(0, +)) / 24, accuracy: 1e-12)
        // Same seed, same samples.
        XCTAssertEqual(try Evaluation.goldReward(policy: Toy.sftPolicy, task: Toy.task, prompts: prompts, samplesPerPrompt: 3,
                                             options: options).summary.mean, summary.mean)
    }

    /// Category scores record the measured per-prompt spread: each category's std and count, and the
    /// standard error of the mean of category means, all recomputed here from the same samples.
    func testCategoryScoresRecordTheMeasuredSpread() throws {
        let tagged = prompts.enumerated().map { i, p -> Prompt in
            var p = p
            p.source = i < 3 ? "world/a" : "world/b"
            return p
        }
        let scores = try Evaluation.categoryScores(policy: Toy.sftPolicy, task: Toy.task, prompts: tagged, options: options)
        let samples = try Evaluation.sample(policy: Toy.sftPolicy, prompts: tagged, options: options)
        let r = zip(tagged, samples).map { Toy.task.reward(prompt: $0, response: $1.text) }
        func stats(_ x: [Double]) -> (mean: Double, std: Double) {
            let m = TrainerKit.mean(x)
            return (m, (x.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(x.count)).squareRoot())
        }
        let a = stats(Array(r[..<3])), b = stats(Array(r[3...]))
        XCTAssertGreaterThan(a.std + b.std, 0, "a spread of 0 would not test the formula")
        XCTAssertEqual(scores["a"]!, a.mean, accuracy: 1e-12)
        XCTAssertEqual(scores["b_std"]!, b.std, accuracy: 1e-12)
        XCTAssertEqual(scores["a_n"], 3)
        XCTAssertEqual(scores["b_n"], 5)
        XCTAssertEqual(scores["mean"]!, (a.mean + b.mean) / 2, accuracy: 1e-12)
        XCTAssertEqual(scores["mean_se"]!, (a.std * a.std / 3 + b.std * b.std / 5).squareRoot() / 2, accuracy: 1e-12)
    }

    func testKLToItselfIsZeroAndToAnotherModelIsPositive() throws {
        let samples = try Evaluation.sample(policy: Toy.sftPolicy, prompts: prompts, samplesPerPrompt: 4, options: options)
        XCTAssertEqual(try Evaluation.klToReference(policy: Toy.sftPolicy, reference: Toy.sftPolicy.copy(), samples: samples),
                       0, accuracy: 1e-9)
        // KL(π ‖ untrained) on π's samples is large: the untrained model spreads mass over 259 ids.
        XCTAssertGreaterThan(try Evaluation.klToReference(policy: Toy.sftPolicy, reference: Toy.policy(seed: 3), samples: samples), 1)
    }

    func testAccuracyOnPolicyAgainstGoldThrowsOutTies() throws {
        // A scorer that is the gold reward itself is always right on non-tied pairs.
        let task = Toy.task
        let codec = ByteCodec()
        let goldScorer: ([SequencePair]) throws -> [Double] = { items in
            items.map { task.reward(prompt: Prompt(""), response: codec.decode($0.response)) }
        }
        let r = try Evaluation.accuracyOnPolicy(score: goldScorer, policy: Toy.sftPolicy, task: task,
                                                prompts: Toy.task.prompts(count: 40, split: .heldOut, seed: 5), options: options)
        XCTAssertEqual(r.pairs + r.goldTies, 40)
        XCTAssertGreaterThan(r.pairs, 0)
        XCTAssertEqual(r.accuracy, 1)
        // The negated scorer is always wrong.
        let flipped = try Evaluation.accuracyOnPolicy(score: { try goldScorer($0).map { -$0 } }, policy: Toy.sftPolicy, task: task,
                                                      prompts: Toy.task.prompts(count: 40, split: .heldOut, seed: 5), options: options)
        XCTAssertEqual(flipped.accuracy, 0)
    }

    func testPairAccuracyCountsJudgeTiesAsHalf() throws {
        // Scores by response length: "aaa" > "a" right, "b" vs "bb" wrong, "cc" vs "dd" tie → 1.5 / 3.
        let pairs = [PreferencePair(prompt: Prompt("p"), chosen: "aaa", rejected: "a"),
                     PreferencePair(prompt: Prompt("p"), chosen: "b", rejected: "bb"),
                     PreferencePair(prompt: Prompt("p"), chosen: "cc", rejected: "dd")]
        let byLength: ([SequencePair]) throws -> [Double] = { $0.map { Double($0.response.count) } }
        XCTAssertEqual(try Evaluation.pairAccuracy(pairs, codec: ByteCodec(), score: byLength), 0.5, accuracy: 1e-12)
        XCTAssertEqual(try Evaluation.pairAccuracy([], codec: ByteCodec(), score: byLength), 0)
    }

    func testBestOfNPicksTheTopScoredSampleAndBeatsOneSample() throws {
        let rm = AlgorithmTestsOnline.countRM
        let picks = try Evaluation.bestOfN(policy: Toy.sftPolicy, rewardModel: rm, prompts: prompts, n: 16, options: options)
        XCTAssertEqual(picks.count, prompts.count)
        for pick in picks {
            XCTAssertEqual(pick.scores.count, 16)
            XCTAssertEqual(try rm.scores([pick.best.pair])[0], pick.scores.max()!, accuracy: 1e-4)
        }
        let best = Evaluation.goldReward(of: picks, task: Toy.task).mean
        let single = try Evaluation.goldReward(policy: Toy.sftPolicy, task: Toy.task, prompts: prompts, samplesPerPrompt: 16,
                                           options: options).summary.mean
        XCTAssertGreaterThan(best, single + 0.5)
    }
}
