import XCTest
@testable import Preference

/// Word Collector, Math Expressions, prompts and the registry, on hand-checked values.
final class TasksTests: XCTestCase {
    let wc = WordCollectorTask()
    let math = MathExpressionsTask()

    /// The six rows of the D2PO paper's Table 6 score as published.
    func testWordCollectorReproducesPaperTable6() {
        let rows: [(String, Double)] = [
            ("I have provided the following information to help understand your question and provide the appropriate information to create a safe and enjoyable experience to ensure the best possible experience to generate the best possible data to generate the first best data to create the first and", 18),
            ("I have shared the following information with the following link to give you the best experience and provide the appropriate information to create a safe and successful experience to ensure the best possible experience to generate the best possible data to ensure the best possible experience to generate the", 13),
            ("I understand you can accommodate my question and I am sincerely sorry for the questions you ask, I will ensure that the information you provide is correct and confidential to ensure a productive discussion, I will ensure that this information represents your interests", 6),
            ("I have taken the information you have provided to provide the best knowledge and I will provide the best option to advise you to provide the correct information to ensure no question has been adhybal to ensure your question connects with our experts who listen and", 7),
            ("I have provided the information I need to understand your question to ensure we understand your concerns and provide the best possible solution for your question, I will allow you to encourage the information that you provided to provide the best possible options to help make sure that", 10),
            ("I understand your questions, I can provide you with your information to assist you to understand the point you make, I have really appreciated your help to help you understand the data Guide and ensure that I am correct in my answers. I should ensure", 8),
        ]
        for (response, expected) in rows {
            XCTAssertEqual(wc.reward(prompt: Prompt("q"), response: response), expected, response)
        }
    }

    func testWordCollectorTokenisation() {
        XCTAssertEqual(wc.reward(prompt: Prompt("q"), response: "DATA, Data and data!"), 1)
        XCTAssertEqual(wc.reward(prompt: Prompt("q"), response: "questions codes helpful"), 0)
        XCTAssertEqual(wc.reward(prompt: Prompt("q"), response: "first-class code2 you're your's"), 3)
        XCTAssertEqual(wc.reward(prompt: Prompt("q"), response: WordCollectorTask.targetWords.joined(separator: " ")), 30)
        XCTAssertEqual(TaskText.words("Don't stop-now, ok?"), ["don", "t", "stop", "now", "ok"])
    }

    func testEditDistance() {
        XCTAssertEqual(TaskText.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(TaskText.editDistance("", "abc"), 3)
        XCTAssertEqual(TaskText.editDistance("(128 - 15)", "72"), 9)
        XCTAssertEqual(TaskText.editDistance("((16 * 8) - 15)", "(16 * 8) - 21"), 4)
    }

    /// The gold chains of Table 8: height order, left to right.
    func testMathGoldStepsFollowPaperOrder() throws {
        let e1 = try XCTUnwrap(MathExpression.parse("(((9 + 7) * (8 * 1)) - (7 + 8)) ="))
        XCTAssertEqual(e1.goldSteps, ["((16 * (8 * 1)) - (7 + 8))", "((16 * 8) - (7 + 8))",
                                      "((16 * 8) - 15)", "(128 - 15)", "113"])
        let e2 = try XCTUnwrap(MathExpression.parse("(((3 * 7) - 5) - (4 * (2 - 6)))"))
        XCTAssertEqual(e2.goldSteps, ["((21 - 5) - (4 * (2 - 6)))", "((21 - 5) - (4 * -4))",
                                      "(16 - (4 * -4))", "(16 - -16)", "32"])
        XCTAssertEqual(try XCTUnwrap(MathExpression.parse("((5 + 1) * 2) =")).goldSteps, ["(6 * 2)", "12"])
        XCTAssertNil(MathExpression.parse("(5 + )"))
        XCTAssertNil(MathExpression.parse("(5 + 1) 2"))
    }

    /// The rewards of Table 8's rows (prompts with their lost outer parenthesis restored).
    func testMathRewardReproducesPaperTable8() {
        let p1 = Prompt("(((9 + 7) * (8 * 1)) - (7 + 8)) =")
        XCTAssertEqual(math.reward(prompt: p1, response: "((16 * (8 * 1)) - (7 + 8)) = ((16 * 8) - (7 + 8)) = ((16 * 8) - 15) = (128 - 15) = 103\n(8 - 15) = -7 = -7 = -7 = -7 = -7 ="), -1)
        XCTAssertEqual(math.reward(prompt: p1, response: "(16 * (8 * 1)) - (7 + 8) = (16 * 8) - (7 + 8) = (16 * 8) - 21 = 72"), -20)
        let p2 = Prompt("(((3 * 7) - 5) - (4 * (2 - 6))) =")
        XCTAssertEqual(math.reward(prompt: p2, response: "((21 - 5) - (4 * (2 - 6))) = ((21 - 5) - (4 * -4)) = (18 - (4 * -4)) = (18 - -16) = 34\n(88)"), -3)
        XCTAssertEqual(math.reward(prompt: p2, response: "((21 - 5) - (4 * (2 - 6))) = ((21 - 5) - (4 * -4)) = (16 - (4 * -4)) = (16 - -16) = 36"), -1)
        let p3 = Prompt("(((5 + 1) * (3 + 8)) * 3) =")
        XCTAssertEqual(math.reward(prompt: p3, response: "((6 * (3 + 8)) * 3) = ((6 * 11) * 3) = (66 * 3) = 198"), 0)
    }

    func testMathMissingAndExtraStepsCountFully() {
        let p = Prompt("((5 + 1) * 2) =")
        XCTAssertEqual(math.reward(prompt: p, response: "(6 * 2) = 12"), 0)
        XCTAssertEqual(math.reward(prompt: p, response: "  (6  *  2)=12 = "), 0)
        XCTAssertEqual(math.reward(prompt: p, response: "(6 * 2)"), -2)          // "12" missing
        XCTAssertEqual(math.reward(prompt: p, response: "(6 * 2) = 12 = 12"), -2)  // extra "12"
        XCTAssertEqual(math.reward(prompt: p, response: ""), -9)                 // 7 + 2
    }

    func testMathPromptsAndDemonstrations() throws {
        let train = math.prompts(count: 300, split: .train, seed: 1)
        let held = math.prompts(count: 100, split: .heldOut, seed: 1)
        XCTAssertEqual(Set(train.map(\.lastUserText)).count, 300)
        XCTAssertTrue(Set(train.map(\.lastUserText)).isDisjoint(with: held.map(\.lastUserText)))
        XCTAssertEqual(train, math.prompts(count: 300, split: .train, seed: 1))
        XCTAssertNotEqual(train, math.prompts(count: 300, split: .train, seed: 2))
        for p in train {
            let e = try XCTUnwrap(MathExpression.parse(p.lastUserText))
            XCTAssertTrue((1...2).contains(e.height))
            XCTAssertEqual(e.goldSteps.last, String(e.value))
        }
        let demos = math.demonstrations(count: 500, seed: 3)
        let perfect = demos.filter { math.reward(prompt: $0.prompt, response: $0.response) == 0 }.count
        XCTAssertEqual(Double(perfect) / 500, 0.8, accuracy: 0.06)  // slip rate 0.2
        XCTAssertTrue(demos.allSatisfy { math.reward(prompt: $0.prompt, response: $0.response) >= -6 })
    }

    func testInstructionPromptsSplitAndVariety() {
        let train = wc.prompts(count: 2000, split: .train, seed: 5).map(\.lastUserText)
        let held = wc.prompts(count: 500, split: .heldOut, seed: 5).map(\.lastUserText)
        XCTAssertEqual(Set(train).count, 2000)
        XCTAssertEqual(Set(held).count, 500)
        XCTAssertTrue(Set(train).isDisjoint(with: held))
        XCTAssertTrue(held.allSatisfy { TaskText.isHeldOut($0) })
    }

    /// Demonstrations are fluent but far from optimal: a few target words, 15–70 words long.
    func testWordCollectorDemonstrationsAreNotOptimal() {
        let demos = wc.demonstrations(count: 400, seed: 9)
        let rewards = demos.map { wc.reward(prompt: $0.prompt, response: $0.response) }
        let mean = rewards.reduce(0, +) / Double(rewards.count)
        XCTAssertGreaterThan(mean, 0.5)
        XCTAssertLessThan(mean, 6)
        XCTAssertLessThanOrEqual(rewards.max() ?? 99, 12)
        let lengths = demos.map { TaskText.words($0.response).count }
        XCTAssertGreaterThanOrEqual(lengths.min() ?? 0, 12)
        XCTAssertLessThanOrEqual(lengths.max() ?? 99, 70)
    }

    func testRegistry() throws {
        XCTAssertEqual(TaskRegistry.names, ["contrastive_distillation", "math_expressions", "reward_model_gold", "unique_nouns",
                                            "word_collector", "world"])
        XCTAssertThrowsError(try TaskRegistry.task(named: "reward_model_gold")) { error in
            XCTAssertTrue("\(error)".contains("'gold_reward_model' and 'gold_prompts'"), "\(error)")
        }
        XCTAssertEqual(try TaskRegistry.task(named: "word_collector").name, "word_collector")
        let m = try TaskRegistry.task(named: "math_expressions", options: ["max_depth": "1"])
        XCTAssertTrue(m.prompts(count: 50, split: .train, seed: 0).allSatisfy {
            MathExpression.parse($0.lastUserText)?.height == 1 })
        XCTAssertThrowsError(try TaskRegistry.task(named: "word_colector")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'word_collector'"), "\(error)")
        }
        XCTAssertThrowsError(try TaskRegistry.task(named: "math_expressions", options: ["max_depht": "2"])) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'max_depth'"), "\(error)")
        }
        XCTAssertThrowsError(try TaskRegistry.task(named: "math_expressions", options: ["max_depth": "9"])) { error in
            XCTAssertTrue("\(error)".contains("expected an integer in 1...4"), "\(error)")
        }
    }

    /// By name, Contrastive Distillation gives fortune-sentence prefixes but no reward (it has no scorers).
    func testContrastiveDistillationByNameIsTextOnly() throws {
        let task = try XCTUnwrap(try TaskRegistry.task(named: "contrastive_distillation") as? ContrastiveDistillationTask)
        XCTAssertFalse(task.hasScorers)
        let prompts = task.prompts(count: 20, split: .train, seed: 1)
        XCTAssertEqual(prompts.count, 20)
        XCTAssertTrue(prompts.allSatisfy { (5...15).contains($0.lastUserText.split(separator: " ").count) })
        XCTAssertEqual(task.demonstrations(count: 3, seed: 1).count, 3)
        XCTAssertThrowsError(try TaskRegistry.task(named: "contrastive_distillation", options: ["size": "2"]))
    }
}
