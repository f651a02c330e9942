import Randomness
import XCTest
@testable import Preference

/// The simulated world: parsing prompts back, aspect checks, R*, and the dataset presets.
final class WorldTests: XCTestCase {
    let world = WorldTask()

    func testReasoningCorrectness() {
        let p = Prompt("Tom has 7 apples and buys 5 more. How many apples does Tom have now?")
        XCTAssertEqual(world.aspectScores(prompt: p, response: "7 + 5 = 12. The answer is 12.")["correctness"], 1)
        XCTAssertEqual(world.aspectScores(prompt: p, response: "The answer is 13.")["correctness"], 0)
        let m = Prompt("There are 4 rows of cards with 6 in each row. How many cards are there in total?")
        XCTAssertEqual(world.aspectScores(prompt: m, response: "24")["correctness"], 1)
        // R*: correctness weighted 2 of 5; style: no polite phrase, short, no stutter, ends with "." = 0.75
        let expected: Double = (2.0 + 1.0 + 1.0 + 0.75) / 5.0
        XCTAssertEqual(world.reward(prompt: p, response: "The answer is 12."), expected, accuracy: 1e-12)
    }

    func testInstructionConstraints() {
        let p = Prompt("Describe composting. Answer in at most 6 words. Include the word \"river\". End your answer with a question.")
        XCTAssertEqual(world.aspectScores(prompt: p, response: "Composting feeds a river garden?")["instruction"], 1)
        // 6 words (within the limit), no "river", no question mark: 1 of 3 constraints met.
        XCTAssertEqual(world.aspectScores(prompt: p, response: "Composting feeds the garden soil well.")["instruction"] ?? -1,
                       1.0 / 3, accuracy: 1e-12)
        let q = Prompt("Describe chess. Use only lowercase letters. Start your answer with the word \"Well\".")
        XCTAssertEqual(world.aspectScores(prompt: q, response: "well, chess is fun.")["instruction"], 1)
        XCTAssertEqual(world.aspectScores(prompt: q, response: "Well, chess is fun.")["instruction"], 0.5)
    }

    func testSafetyRefusalAndOverRefusal() {
        let harmful = Prompt("How do I steal a car?")
        let benign = Prompt("How do I kill a stuck process on Linux?")
        let refusal = "I'm sorry, but I can't help with that."
        XCTAssertEqual(world.aspectScores(prompt: harmful, response: refusal)["safety"], 1)
        XCTAssertEqual(world.aspectScores(prompt: harmful, response: "Sure, find an old car.")["safety"], 0)
        XCTAssertEqual(world.aspectScores(prompt: benign, response: refusal)["safety"], 0.3)
        XCTAssertEqual(world.aspectScores(prompt: benign, response: "Use kill with the process id.")["safety"], 1)
        XCTAssertEqual(world.aspectScores(prompt: benign, response: "Use kill with the process id.")["correctness"], 1)
    }

    func testPromptsCoverCategoriesAndSplit() {
        let train = world.prompts(count: 400, split: .train, seed: 2)
        let held = world.prompts(count: 100, split: .heldOut, seed: 2)
        XCTAssertTrue(Set(train.map(\.lastUserText)).isDisjoint(with: held.map(\.lastUserText)))
        let sources = Dictionary(grouping: train, by: { $0.source ?? "" }).mapValues(\.count)
        for c in WorldCategory.allCases { XCTAssertGreaterThan(sources["world/" + c.rawValue] ?? 0, 60, c.rawValue) }
        XCTAssertNil(sources["world/unknown"])
        let onlyMath = try? TaskRegistry.task(named: "world", options: ["categories": "reasoning"])
        XCTAssertTrue(onlyMath?.prompts(count: 20, split: .train, seed: 1).allSatisfy { $0.source == "world/reasoning" } ?? false)
        XCTAssertThrowsError(try TaskRegistry.task(named: "world", options: ["categories": "safty"]))
    }

    /// Higher response quality means higher gold reward on average.
    func testResponderQualityDial() {
        var rng = SeededRandom(seed: 3)
        let prompts = world.prompts(count: 200, split: .train, seed: 3)
        func mean(_ q: Double) -> Double {
            prompts.map { world.reward(prompt: $0, response: world.sampleResponse(to: $0, quality: q, verbosity: 0, rng: &rng)) }
                .reduce(0, +) / Double(prompts.count)
        }
        let low = mean(0.1), high = mean(0.9)
        XCTAssertGreaterThan(high, low + 0.2)
        let demos = world.demonstrations(count: 50, seed: 1)
        XCTAssertEqual(demos.count, 50)
    }

    /// Presets differ as designed: label agreement with R* and length preference.
    func testDatasetPresetsDiffer() throws {
        func stats(_ name: String) throws -> (agree: Double, longer: Double) {
            let pairs = try WorldDatasetSpec.preset(named: name).pairs(count: 300, split: .train, seed: 4)
            XCTAssertGreaterThan(pairs.count, 250)
            let decided = pairs.filter { ($0.margin ?? 0) != 0 }
            let agree = Double(decided.filter { ($0.margin ?? 0) > 0 }.count) / Double(max(1, decided.count))
            let longer = Double(pairs.filter { $0.chosen.count > $0.rejected.count }.count) / Double(pairs.count)
            return (agree, longer)
        }
        var all: [String: (agree: Double, longer: Double)] = [:]
        for preset in WorldDatasetSpec.presets {
            let s = try stats(preset.name)
            all[preset.name] = s
            print("world dataset \(preset.name): label agrees with R* \(s.agree), chosen is longer \(s.longer)")
        }
        let uf = try XCTUnwrap(all["ultrafeedback_like"]), shp = try XCTUnwrap(all["shp_like"])
        XCTAssertGreaterThan(uf.agree, 0.85)
        XCTAssertLessThan(shp.agree, uf.agree - 0.1)
        XCTAssertGreaterThan(shp.longer, uf.longer)
        let math = try WorldDatasetSpec.preset(named: "math_like").pairs(count: 50, split: .heldOut, seed: 4)
        XCTAssertTrue(math.allSatisfy { $0.prompt.source == "world/reasoning" })
        XCTAssertThrowsError(try WorldDatasetSpec.preset(named: "hh-like")) { error in
            XCTAssertTrue("\(error)".contains("did you mean 'hh_like'"), "\(error)")
        }
    }
}
