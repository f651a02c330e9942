import Foundation
import XCTest
@testable import Preference

/// The POS tagger behind Unique Nouns: hand-checked sentences and agreement with spaCy.
final class TasksTestsNouns: XCTestCase {
    func testTokenizerSplitsLikeSpaCy() {
        XCTAssertEqual(POSTokenizer.tokenize("I don't know, \"really\"."),
                       ["I", "do", "n't", "know", ",", "\"", "really", "\"", "."])
        XCTAssertEqual(POSTokenizer.tokenize("A user-friendly app's U.S. data (v2)"),
                       ["A", "user", "-", "friendly", "app", "'s", "U.S.", "data", "(", "v2", ")"])
        XCTAssertEqual(POSTokenizer.tokenize("We cannot wait 30-60 minutes..."),
                       ["We", "can", "not", "wait", "30", "-", "60", "minutes", "..."])
    }

    func testHandCheckedNouns() {
        // Expected sets are spaCy's (en_core_web_sm) for the same sentences.
        XCTAssertEqual(UniqueNounsTask.nouns(in: "The small dog sleeps under the old table."), ["dog", "table"])
        XCTAssertEqual(UniqueNounsTask.nouns(in: "My teacher explained the new rules to the students."),
                       ["teacher", "rules", "students"])
        XCTAssertEqual(UniqueNounsTask.nouns(in: "She gave the book to her sister in Paris yesterday."),
                       ["book", "sister", "paris", "yesterday"])
        XCTAssertEqual(UniqueNounsTask.nouns(in: "Data and data and DATA."), ["data"])
        XCTAssertEqual(UniqueNounsTask.nouns(in: "It is very good."), [])
        let task = UniqueNounsTask()
        // spaCy also reads the second "chase" as a noun: cats, mice, dogs, chase.
        XCTAssertEqual(task.reward(prompt: Prompt("q"), response: "Cats chase mice; dogs chase cats."), 4)
    }

    /// SFT answers name a handful of nouns: room above for preference learning.
    func testDemonstrationsHaveAFewNouns() {
        let task = UniqueNounsTask()
        let demos = task.demonstrations(count: 200, seed: 3)
        let counts = demos.map { task.reward(prompt: $0.prompt, response: $0.response) }
        let mean = counts.reduce(0, +) / Double(counts.count)
        print("unique_nouns demonstrations: mean \(mean), max \(counts.max() ?? 0)")
        XCTAssertGreaterThan(mean, 3)
        XCTAssertLessThan(mean, 12)
        XCTAssertEqual(Set(demos.map(\.prompt.lastUserText)).count, 200)
    }

    struct Reference: Decodable {
        let text: String
        let tokens: [String]
        let tags: [String]
    }

    /// Agreement with spaCy en_core_web_sm on 400 held-out sentences (golden file).
    func testAgreementWithSpaCyOnHeldOutSentences() throws {
        let root = try XCTUnwrap(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let data = try Data(contentsOf: root.appendingPathComponent("tasks/pos_heldout.jsonl"))
        let refs = try String(decoding: data, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Reference.self, from: Data($0.utf8))
        }
        XCTAssertEqual(refs.count, 400)
        var tokens = 0, agree = 0, exactCounts = 0, absError = 0
        for ref in refs {
            let ours = POSTagger.shared.tag(ref.tokens)
            for (a, b) in zip(ours, ref.tags) where a.hasPrefix("NN") == b.hasPrefix("NN") { agree += 1 }
            tokens += ref.tokens.count
            let spacyNouns = Set(zip(ref.tokens, ref.tags).filter { $0.1.hasPrefix("NN") }.map { $0.0.lowercased() })
            let diff = abs(UniqueNounsTask.nouns(in: ref.text).count - spacyNouns.count)
            absError += diff
            if diff == 0 { exactCounts += 1 }
        }
        let accuracy = Double(agree) / Double(tokens)
        let exact = Double(exactCounts) / Double(refs.count)
        let mae = Double(absError) / Double(refs.count)
        print("unique_nouns tagger vs spaCy: tokens \(tokens), NN*-vs-not accuracy \(accuracy), "
              + "exact unique-noun count \(exact), mean |count diff| \(mae)")
        XCTAssertGreaterThan(accuracy, 0.975)
        XCTAssertGreaterThan(exact, 0.72)
        XCTAssertLessThan(mae, 0.35)
    }
}
