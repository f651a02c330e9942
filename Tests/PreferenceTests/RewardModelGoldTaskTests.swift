import XCTest
@testable import Preference

/// A reward model as the gold annotator (D2PO's realistic setting): R* is its score, prompts are split by hash.
final class RewardModelGoldTaskTests: XCTestCase {
    let pool = (0..<60).map { Prompt("instruction number \($0)") }

    func testRewardIsTheModelsScoreAndTheSplitsAreDisjointAndSeeded() throws {
        let rm = Toy.rewardModel(seed: 7)
        let task = try RewardModelGoldTask(scorer: rm, pool: pool)
        let p = pool[0], y = "an answer"
        XCTAssertEqual(task.reward(prompt: p, response: y), try rm.scores([rm.pair(p, y)])[0])
        XCTAssertNotEqual(task.reward(prompt: p, response: y), task.reward(prompt: p, response: "another answer"))
        let train = Set(task.prompts(count: 40, split: .train, seed: 1)), held = Set(task.prompts(count: 40, split: .heldOut, seed: 1))
        XCTAssertTrue(train.isDisjoint(with: held))
        XCTAssertEqual(held.count, pool.filter { TaskText.isHeldOut($0.lastUserText) }.count, "a short split is repeated, not padded")
        XCTAssertEqual(task.prompts(count: 10, split: .train, seed: 1), task.prompts(count: 10, split: .train, seed: 1))
        XCTAssertNotEqual(task.prompts(count: 10, split: .train, seed: 1), task.prompts(count: 10, split: .train, seed: 2))
        XCTAssertTrue(task.demonstrations(count: 5, seed: 0).isEmpty)
    }

    func testAPoolWithoutAHeldOutPromptIsRefused() {
        let trainOnly = pool.filter { !TaskText.isHeldOut($0.lastUserText) }
        XCTAssertThrowsError(try RewardModelGoldTask(scorer: Toy.rewardModel(), pool: trainOnly)) { error in
            XCTAssertTrue("\(error)".contains("held_out split"), "\(error)")
        }
    }

    /// The gold annotator of OPO / D2PO prefers the response the reward model scores higher.
    func testTheGoldAnnotatorFollowsTheRewardModel() throws {
        let task = try RewardModelGoldTask(scorer: Toy.rewardModel(seed: 7), pool: pool)
        let annotator = GoldAnnotator(task: task, budget: 10, seed: 0)
        let (a, b) = ("aaaa", "bcbd")
        let expected: PreferenceLabel = task.reward(prompt: pool[1], response: a) >= task.reward(prompt: pool[1], response: b) ? .first : .second
        XCTAssertEqual(try annotator.label(prompt: pool[1], a, b), expected)
    }
}
