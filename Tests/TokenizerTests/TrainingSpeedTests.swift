import Foundation
import XCTest
@testable import Tokenizer

/// Training speed on ~5 MB of real text (GSM8K questions and answers from shared/data).
///
/// A benchmark, so opt-in: `PREFLAB_BENCH=1 swift test -c release -Xswiftc -enable-testing --filter TrainingSpeedTests`.
final class TrainingSpeedTests: XCTestCase {
    func testTrains4kVocabOn5MBQuickly() throws {
        guard ProcessInfo.processInfo.environment["PREFLAB_BENCH"] == "1" else {
            throw XCTSkip("benchmark: set PREFLAB_BENCH=1 (and build with -c release) to run")
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [root.appendingPathComponent("../shared/data/gsm8k"), URL(fileURLWithPath: "/work/shared/data/gsm8k")]
        guard let dir = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("train.jsonl").path) }) else {
            throw XCTSkip("shared/data/gsm8k not found beside the repository")
        }
        var corpus: [String] = []
        for name in ["train.jsonl", "test.jsonl"] {
            let text = try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
            for line in text.split(separator: "\n") {
                guard let row = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String] else { continue }
                corpus.append((row["question"] ?? "") + "\n" + (row["answer"] ?? ""))
            }
        }
        let bytes = corpus.reduce(0) { $0 + $1.utf8.count }
        XCTAssertGreaterThan(bytes, 4_000_000)

        let start = Date()
        let tok = BPETokenizer.train(corpus: corpus, vocabSize: 4096, specialTokens: ChatTemplate.simple.specialTokens)
        let trainSeconds = Date().timeIntervalSince(start)
        let encodeStart = Date()
        let tokens = corpus.reduce(0) { $0 + tok.encode($1).count }
        let encodeSeconds = Date().timeIntervalSince(encodeStart)
        print(String(format: "BPE training: %d bytes, vocab %d, %.2f s; encoding all: %.2f s, %.2f bytes/token",
                     bytes, tok.vocabSize, trainSeconds, encodeSeconds, Double(bytes) / Double(tokens)))
        XCTAssertEqual(tok.vocabSize, 4096)
        XCTAssertLessThan(trainSeconds, 60)
        XCTAssertGreaterThan(Double(bytes) / Double(tokens), 2.5)  // digits are single tokens, so GSM8K compresses less than prose
    }
}
