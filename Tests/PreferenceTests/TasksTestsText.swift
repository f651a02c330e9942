import Foundation
import XCTest
@testable import Preference

/// Contrastive Distillation over two tiny byte-level scorers, and the pretraining corpus.
final class TasksTestsText: XCTestCase {
    /// A context-free byte model: p(b) = `pA` for "a", the rest shared uniformly.
    struct ByteUnigram: SequenceScorer {
        let pA: Double
        func meanLogLikelihood(prompt: [Int32], response: [Int32]) -> Double {
            let logs = response.map { $0 == 97 ? log(pA) : log((1 - pA) / 255) }
            return logs.reduce(0, +) / Double(max(1, logs.count))
        }
    }

    let sentences = (0..<200).map { "Sentence number \($0) has quite a few words in it, more than seven." }

    func makeTask() -> ContrastiveDistillationTask {
        ContrastiveDistillationTask(large: ByteUnigram(pA: 0.5), small: ByteUnigram(pA: 1.0 / 256),
                                    codec: UTF8ByteCodec(), sentences: sentences + ["Too short."])
    }

    func testRewardIsLargeMinusSmallMeanLogLikelihood() {
        let task = makeTask()
        let p = Prompt("The start")
        XCTAssertEqual(task.reward(prompt: p, response: "aa"), log(0.5) - log(1.0 / 256), accuracy: 1e-12)  // log 128
        let expectedAB = (log(0.5) + log(0.5 / 255)) / 2 - log(1.0 / 256)
        XCTAssertEqual(task.reward(prompt: p, response: "ab"), expectedAB, accuracy: 1e-12)
        XCTAssertEqual(task.reward(prompt: p, response: ""), 0)
        XCTAssertGreaterThan(task.reward(prompt: p, response: "aaaa"), task.reward(prompt: p, response: "bbbb"))
    }

    func testPrefixesSplitAndDemonstrationsContinueTheSentence() {
        let task = makeTask()
        let train = task.prompts(count: 50, split: .train, seed: 4).map(\.lastUserText)
        let held = task.prompts(count: 10, split: .heldOut, seed: 4).map(\.lastUserText)
        XCTAssertEqual(train.count, 50)
        XCTAssertEqual(held.count, 10)
        for prefix in train + held {
            XCTAssertTrue((5...15).contains(prefix.split(separator: " ").count), prefix)
        }
        let heldSentences = Set(held.map { $0.split(separator: " ").prefix(3).joined(separator: " ") })
        let trainSentences = Set(train.map { $0.split(separator: " ").prefix(3).joined(separator: " ") })
        XCTAssertTrue(heldSentences.isDisjoint(with: trainSentences))
        for demo in task.demonstrations(count: 20, seed: 4) {
            XCTAssertTrue(sentences.contains(demo.prompt.lastUserText + " " + demo.response))
            XCTAssertFalse(demo.response.isEmpty)
        }
        XCTAssertEqual(task.demonstrations(count: 5, seed: 4).map(\.response),
                       task.demonstrations(count: 5, seed: 4).map(\.response))
    }

    func testByteCodecRoundTrips() {
        let codec = UTF8ByteCodec()
        XCTAssertEqual(codec.encode("hé"), [104, 195, 169])
        XCTAssertEqual(codec.decode(codec.encode("hé llo")), "hé llo")
    }

    func testCorpusMissingPackageNamesIt() {
        XCTAssertThrowsError(try Corpus.fortunes(directory: "/nonexistent/fortunes")) { error in
            XCTAssertTrue("\(error)".contains("fortunes-min"), "\(error)")
        }
    }

    func testPretrainingTextMixesSourcesWithinBudget() throws {
        guard FileManager.default.fileExists(atPath: Corpus.fortuneDirectory + "/fortunes") else {
            throw XCTSkip("Debian package fortunes-min not installed (run scripts/setup.sh)")
        }
        let docs = try Corpus.pretrainingText(maxBytes: 30_000, seed: 1)
        let bytes = docs.reduce(0) { $0 + $1.utf8.count }
        XCTAssertLessThanOrEqual(bytes, 30_000)
        XCTAssertGreaterThan(bytes, 25_000)
        let math = docs.filter { MathExpression.parse($0.components(separatedBy: " = ").first ?? "") != nil }
        let instructions = docs.filter { $0.contains("\n") }
        XCTAssertGreaterThan(math.count, 20)
        XCTAssertGreaterThan(instructions.count, 20)
        XCTAssertGreaterThan(docs.count - math.count - instructions.count, 50)  // fortunes
        XCTAssertEqual(docs, try Corpus.pretrainingText(maxBytes: 30_000, seed: 1))
        XCTAssertNotEqual(docs, try Corpus.pretrainingText(maxBytes: 30_000, seed: 2))
        let sentences = try Corpus.sentences()
        XCTAssertGreaterThan(sentences.count, 1000)
        XCTAssertTrue(sentences.allSatisfy { $0.split(separator: " ").count >= 7 })
    }
}
