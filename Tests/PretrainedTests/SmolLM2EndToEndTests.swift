import Checkpoint
import Foundation
import Llama
import Preference
import Tensor
import Tokenizer
import XCTest
import Randomness

/// SmolLM2-135M-Instruct run by the engine: perplexity of a prompt against the numpy reference
/// (benchmarks/reference/smollm2_reference.py) and its greedy continuation.
final class SmolLM2EndToEndTests: XCTestCase {
    func testPerplexityMatchesNumpyReferenceAndGreedyContinuesWithRome() throws {
        let file = try SmolLM2.file()
        let golden = try SmolLM2.golden()
        let tok = try SmolLM2.tokenizer(file)
        let model = try Pretrained.model(file, maxSeqLen: 64)

        let ids = tok.encode(golden.prompt)
        XCTAssertEqual(ids, golden.promptIds)
        let logProbs = model.tokenLogProbs(TokenBatch(sequences: [ids], pad: 0), keepActivations: false)  // (1, T)
        XCTAssertEqual(logProbs.count, ids.count)
        let ours = logProbs.dropFirst().map(Double.init)
        XCTAssertEqual(ours.count, golden.tokenLogprobs.count)
        let worst = zip(ours, golden.tokenLogprobs).map { abs($0 - $1) }.max() ?? .infinity
        XCTAssertLessThan(worst, 5e-3, "largest per-token log-prob difference from the numpy reference")
        let perplexity = exp(-ours.reduce(0, +) / Double(ours.count))
        XCTAssertEqual(perplexity, golden.perplexity, accuracy: 1e-3 * golden.perplexity,
                       "SmolLM2 prompt perplexity: ours \(perplexity), numpy reference \(golden.perplexity)")

        var rng = SeededRandom(seed: 1)
        let eos = try XCTUnwrap(tok.eos)
        let continuation = model.generate(prompts: [ids], maxNewTokens: golden.greedyIds.count, temperature: 0, topP: 1,
                                          eos: eos, rng: &rng)
        XCTAssertEqual(continuation.first, golden.greedyIds)
        let text = tok.decode(continuation.first ?? [])
        XCTAssertTrue(text.hasPrefix(" Rome"), "greedy continuation: \(text.debugDescription)")
        XCTAssertEqual(text, golden.greedyText)
        let relative = abs(perplexity / golden.perplexity - 1)
        print("SmolLM2 prompt perplexity: ours \(perplexity), numpy \(golden.perplexity) (relative \(relative));"
              + " worst token log-prob gap \(worst); greedy \(text.debugDescription)")
    }
}
