import XCTest
import Tensor
import Randomness
@testable import Llama

/// The out-of-memory check estimates exactly what a forward allocates, and refuses before allocating.
final class MemoryCheckTests: XCTestCase {
    /// The estimate is the arena's own layout: after a forward, the arena holds exactly that many bytes.
    func testTheEstimateIsWhatAForwardAllocates() {
        for training in [true, false] {
            let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 3)
            let batch = tinyBatch()
            _ = model.tokenLogProbs(batch, keepActivations: training)
            let held = (training ? model.trainActs : model.inferActs)?.bytes
            XCTAssertEqual(held, model.activationBytes(batch: batch.batchSize, seqLen: batch.seqLen, training: training))
        }
    }

    func testABatchBeyondWhatIsAvailableIsRefusedWithTheKeysToLower() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 3)
        let need = model.activationBytes(batch: 3, seqLen: 7, training: true)
        XCTAssertNoThrow(try model.checkActivationMemory(batch: 3, seqLen: 7, training: true, available: need))
        XCTAssertThrowsError(try model.checkActivationMemory(batch: 3, seqLen: 7, training: true, available: need - 1)) { error in
            let text = "\(error)"
            for word in ["micro_batch", "max_seq_len", "3 sequences × 7 tokens", "2 layers", "(3, 4, 7, 7)"] {
                XCTAssert(text.contains(word), "'\(word)' missing from: \(text)")
            }
        }
        // The arena the model already holds is reused by the forward, so it counts as available.
        _ = model.tokenLogProbs(tinyBatch(), keepActivations: true)
        XCTAssertNoThrow(try model.checkActivationMemory(batch: 3, seqLen: 7, training: true, available: 0))
        XCTAssertNotNil(SystemMemory.availableBytes(), "Linux reports MemAvailable")
    }

    func testAMalformedLimitIsAClearError() {
        setenv(SystemMemory.limitVariable, "eight gigs", 1)
        defer { unsetenv(SystemMemory.limitVariable) }
        let model = LlamaModel(config: LlamaConfig(vocabSize: 8, dModel: 8, nLayers: 1, nHeads: 2, nKVHeads: 2, hidden: 8, maxSeqLen: 8),
                               head: .lm, seed: 1)
        XCTAssertThrowsError(try model.checkActivationMemory(batch: 1, seqLen: 4, training: true)) { error in
            XCTAssertTrue("\(error)".contains("PREFLAB_MEMORY_LIMIT='eight gigs'"), "\(error)")
        }
        XCTAssertEqual(SystemMemory.parseBytes("8G"), 8 << 30)
        XCTAssertEqual(SystemMemory.parseBytes("512m"), 512 << 20)
        XCTAssertNil(SystemMemory.parseBytes("-1"))
    }
}

/// The sampling check counts what `generate` allocates (KV cache, prefill, step buffers, panels) and refuses before it.
final class GenerationMemoryCheckTests: XCTestCase {
    func testTheEstimateIsWhatGenerateAllocates() throws {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 3)
        let prompts: [[Int32]] = [[1, 2, 3], [4, 5], [6]]
        let c = model.config, length = min(3 + 4, c.maxSeqLen)
        let need = model.generationBytes(batch: 3, promptLength: 3, length: length)
        var rng = SeededRandom(seed: 1)
        _ = model.generate(prompts: prompts, maxNewTokens: 4, temperature: 1, topP: 1, eos: -1, rng: &rng)
        let cache = try XCTUnwrap(model.keptCache)
        XCTAssertEqual(cache.maxLen, length)
        let held = 2 * cache.layers * cache.batch * cache.maxLen * c.kvDim + DecodeWeights.floats(config: c, precision: .fp32)
            + DecodeScratch.bufferSizes(config: c, n: 3).reduce(0, +)
        XCTAssertEqual(need, held * 4 + (model.inferActs?.bytes ?? -1), "cache + panels + step buffers + prefill arena")
        // Once packed, the panels are not counted again, and a cache with room is reused.
        XCTAssertLessThan(model.generationBytes(batch: 3, promptLength: 3, length: length), need)
        // Only the step buffers are new on a second call.
        let step = DecodeScratch.bufferSizes(config: c, n: 3).reduce(0, +) * 4
        XCTAssertNoThrow(try model.checkGenerationMemory(prompts: prompts, maxNewTokens: 4, available: step))
        XCTAssertThrowsError(try model.checkGenerationMemory(prompts: prompts, maxNewTokens: 4, available: step - 1))
    }

    func testASamplingCallBeyondWhatIsAvailableIsRefusedWithTheKeysToLower() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 3)
        let prompts: [[Int32]] = Array(repeating: [1, 2, 3, 4], count: 5)
        let need = model.generationBytes(batch: 5, promptLength: 4, length: min(4 + 6, model.config.maxSeqLen))
        XCTAssertNoThrow(try model.checkGenerationMemory(prompts: prompts, maxNewTokens: 6, available: need))
        XCTAssertThrowsError(try model.checkGenerationMemory(prompts: prompts, maxNewTokens: 6, available: need - 1)) { error in
            XCTAssertEqual((error as? GenerationMemoryError)?.neededBytes, need)
            for word in ["max_new_tokens", "5 sequences", "KV cache"] {
                XCTAssert("\(error)".contains(word), "'\(word)' missing from: \(error)")
            }
        }
    }
}
