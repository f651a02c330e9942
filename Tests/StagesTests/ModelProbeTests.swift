import Foundation
import Preference
import XCTest
@testable import Stages

/// What `preflab generate`, `score` and `tokenize` compute, on SmolLM2-135M-Instruct (models/, fetched by
/// scripts/fetch-smollm2.sh; skipped, saying so, without it).
final class ModelProbeTests: XCTestCase {
    static let prompt = "The capital of France is Paris. The capital of Italy is"

    private func smol() throws -> ModelProbe {
        guard FileManager.default.fileExists(atPath: PretrainedStageTests.model.path) else {
            let reason = "models/SmolLM2-135M-Instruct.Q4_1.gguf is absent: run scripts/fetch-smollm2.sh (CI does)"
            print("skipping: \(reason)")
            throw XCTSkip(reason)
        }
        return try ModelProbe.load(PretrainedStageTests.model, maxSeqLen: 64)
    }

    func testGreedyContinuesWithRome() throws {
        let out = try smol().generate(prompt: Self.prompt, chat: false, maxNewTokens: 3, temperature: 0, topP: 1, seed: 0)
        XCTAssertTrue(out.text.hasPrefix(" Rome"), out.text.debugDescription)
        XCTAssertEqual(out.ids.count, 3)
        XCTAssertFalse(out.ended)
    }

    /// Per-token log-probs sum to the total, match the policy's sequence log-prob, and " Rome" is likelier than " Paris".
    func testScoreGivesPerTokenAndTotalLogProbs() throws {
        let probe = try smol()
        let rome = try probe.score(prompt: Self.prompt, response: " Rome.", chat: false)
        let paris = try probe.score(prompt: Self.prompt, response: " Paris.", chat: false)
        XCTAssertNil(rome.reward)
        XCTAssertEqual(rome.tokens.map(\.text).joined(), " Rome.")
        let total = try XCTUnwrap(rome.total)
        XCTAssertEqual(total, rome.tokens.reduce(0) { $0 + ($1.logprob ?? .nan) }, accuracy: 1e-9)
        XCTAssertLessThan(total, 0)
        XCTAssertGreaterThan(total, try XCTUnwrap(paris.total))
        let policy = try Pretrained.policy(gguf: PretrainedStageTests.model, maxSeqLen: 64)
        let pair = SequencePair(prompt: policy.codec.encode(Self.prompt), response: policy.codec.encode(" Rome."))
        XCTAssertEqual(total, try policy.sequenceLogProbs([pair])[0], accuracy: 1e-4)
    }

    func testTokenizeMatchesTheCodec() throws {
        let probe = try smol()
        let tokens = probe.tokenize(Self.prompt, chat: false)
        let policy = try Pretrained.policy(gguf: PretrainedStageTests.model, maxSeqLen: 64)
        XCTAssertEqual(tokens.map(\.id), policy.codec.encode(Self.prompt))
        XCTAssertEqual(tokens.map(\.text).joined(), Self.prompt)
        XCTAssertGreaterThan(probe.tokenize(Self.prompt, chat: true).count, tokens.count, "the chat template adds its turn markers")
    }

    func testMissingPathIsAClearError() {
        XCTAssertThrowsError(try ModelProbe.load(URL(fileURLWithPath: "/nonexistent/model.gguf"), maxSeqLen: nil)) { error in
            XCTAssertTrue("\(error)".contains("does not exist (expected a .gguf file, an HF folder or a node)"), "\(error)")
        }
    }
}
