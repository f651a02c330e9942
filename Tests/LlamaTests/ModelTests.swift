import XCTest
import Tensor
@testable import Llama
import Randomness

final class ModelTests: XCTestCase {
    func testParameterNamesFollowHuggingFace() {
        let lm = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        let names = lm.parameters.map(\.name)
        XCTAssertEqual(names.first, "model.embed_tokens.weight")
        XCTAssertEqual(names.last, "lm_head.weight")
        XCTAssertTrue(names.contains("model.layers.1.self_attn.k_proj.weight"))
        XCTAssertEqual(lm.parameters.first { $0.name == "model.layers.0.self_attn.k_proj.weight" }?.shape, [8, 16])
        XCTAssertFalse(LlamaModel(config: tinyConfig(tied: true), head: .lm, seed: 1).parameters.map(\.name).contains("lm_head.weight"))
        let rm = LlamaModel(config: tinyConfig(), head: .scalar, seed: 1)
        XCTAssertEqual(rm.parameters.suffix(2).map(\.name), ["score.weight", "score.bias"])
        XCTAssertEqual(rm.parameters.suffix(2).map(\.shape), [[1, 16], [1]])
    }

    func testLoadRoundTripsAndRefusesBadInput() throws {
        let a = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        let b = LlamaModel(config: tinyConfig(), head: .lm, seed: 2)
        XCTAssertNotEqual(a.namedTensors(), b.namedTensors())
        try b.load(a.namedTensors())
        XCTAssertEqual(a.namedTensors(), b.namedTensors())
        var missing = a.namedTensors()
        missing["model.norm.weight"] = nil
        XCTAssertThrowsError(try b.load(missing)) { XCTAssertEqual($0 as? LlamaError, .missingTensor("model.norm.weight")) }
        var extra = a.namedTensors()
        extra["score.weight"] = Tensor(zeros: [1, 16])
        XCTAssertThrowsError(try b.load(extra)) { XCTAssertEqual($0 as? LlamaError, .unexpectedTensor("score.weight")) }
        var wrong = a.namedTensors()
        wrong["model.norm.weight"] = Tensor(zeros: [15])
        XCTAssertThrowsError(try b.load(wrong)) {
            XCTAssertEqual($0 as? LlamaError, .shapeMismatch(name: "model.norm.weight", expected: [16], found: [15]))
            XCTAssertTrue("\($0)".contains("expected shape [16], found [15]"))
        }
    }

    func testCopyAndBodyInitialisation() {
        let policy = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        let ref = policy.copy()
        XCTAssertEqual(ref.namedTensors(), policy.namedTensors())
        ref.parameters[0].value[0] += 1  // deep copy: the original is untouched
        XCTAssertNotEqual(ref.parameters[0].value[0], policy.parameters[0].value[0])
        let rm = LlamaModel(bodyOf: policy, head: .scalar, seed: 3)
        let pt = policy.namedTensors(), rt = rm.namedTensors()
        for (name, t) in rt where name.hasPrefix("model.") { XCTAssertEqual(t, pt[name], name) }
        XCTAssertNotNil(rt["score.weight"])
        let vm = LlamaModel(bodyOf: rm, head: .scalar, seed: 4)
        XCTAssertEqual(vm.namedTensors(), rt)
    }

    func testConfigDecodingValidates() throws {
        let good = #"{"vocabSize":17,"dModel":16,"nLayers":2,"nHeads":4,"nKVHeads":2,"hidden":24,"maxSeqLen":12}"#
        let c = try JSONDecoder().decode(LlamaConfig.self, from: Data(good.utf8))
        XCTAssertEqual(c, tinyConfig())
        let bad = #"{"vocabSize":17,"dModel":16,"nLayers":2,"nHeads":4,"nKVHeads":3,"hidden":24,"maxSeqLen":12}"#
        XCTAssertThrowsError(try JSONDecoder().decode(LlamaConfig.self, from: Data(bad.utf8))) {
            XCTAssertTrue("\($0)".contains("nHeads (4) must be a multiple of nKVHeads (3)"), "\($0)")
        }
    }

    func testGreedyGenerationMatchesFullForwardArgmax() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        var rng = SeededRandom(seed: 1)
        let prompts: [[Int32]] = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
        let out = model.generate(prompts: prompts, maxNewTokens: 5, temperature: 0, topP: 1, eos: -1, rng: &rng)
        for (p, gen) in zip(prompts, out) {
            XCTAssertEqual(gen.count, min(5, 12 - p.count))
            var seq = p
            for tok in gen {  // recompute each next token by a full forward without cache
                let lp = fullNextTokenLogProbs(model, seq)
                XCTAssertEqual(Int(tok), lp.indices.max { lp[$0] < lp[$1] }!)
                seq.append(tok)
            }
        }
    }

    func testNearZeroTemperatureEqualsGreedyAndSamplingIsSeeded() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        let prompts: [[Int32]] = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
        var r1 = SeededRandom(seed: 7), r2 = SeededRandom(seed: 7), r3 = SeededRandom(seed: 7)
        let greedy = model.generate(prompts: prompts, maxNewTokens: 6, temperature: 0, topP: 1, eos: -1, rng: &r1)
        let cold = model.generate(prompts: prompts, maxNewTokens: 6, temperature: 1e-4, topP: 1, eos: -1, rng: &r2)
        XCTAssertEqual(greedy, cold)
        let hot1 = model.generate(prompts: prompts, maxNewTokens: 6, temperature: 1.5, topP: 0.9, eos: -1, rng: &r3)
        var r4 = SeededRandom(seed: 7)
        let hot2 = model.generate(prompts: prompts, maxNewTokens: 6, temperature: 1.5, topP: 0.9, eos: -1, rng: &r4)
        XCTAssertEqual(hot1, hot2)
        XCTAssertNotEqual(hot1, greedy)
    }

    /// One decode step over the KV cache gives the logits of a full forward, for one and for two query
    /// heads per KV head, with a subset of sequences in shuffled order, and with 20 sequences (several
    /// row tiles of the few-row kernel); the cache is sized to the longest prompt + 1, as generate does.
    func testDecodeStepLogitsMatchFullForward() {
        for (kvHeads, count) in [(4, 3), (2, 3), (2, 20)] {
            var config = tinyConfig()
            config.nKVHeads = kvHeads
            let model = LlamaModel(config: config, head: .lm, seed: 1)
            amplify(model, seed: 2)
            let base: [[Int32]] = [[1, 2, 3], [4], [5, 6, 7, 8, 9]]
            let prompts = (0..<count).map { base[$0 % 3] + [Int32($0 % 17)] }
            let seqs = count == 3 ? [2, 0] : Array((0..<count).reversed())
            let cache = KVCache(config: config, batch: count, length: 7), scratch = DecodeScratch(config: config, n: seqs.count)
            _ = model.forwardBody(TokenBatch(sequences: prompts, pad: 0), keep: false, cache: cache)
            let next = seqs.map { Int32(($0 * 7) % 17) }, V = config.vocabSize
            let weights = DecodeWeights(config: config, precision: .fp32)
            weights.pack(model)
            model.decodeStep(tokens: next, seqs: seqs, positions: seqs.map { prompts[$0].count }, cache: cache,
                             weights: weights, s: scratch)
            for (r, b) in seqs.enumerated() {
                let t = prompts[b].count
                let full = model.logits(TokenBatch(sequences: [prompts[b] + [next[r]]], pad: 0))
                for j in 0..<V {
                    XCTAssertEqual(scratch.logits[r * V + j], full[t * V + j], accuracy: 1e-4, "kv \(kvHeads) seq \(b) logit \(j)")
                }
            }
        }
    }

    func testGenerationStopsAtEOS() {
        let model = LlamaModel(config: tinyConfig(), head: .lm, seed: 1)
        amplify(model, seed: 2)
        var rng = SeededRandom(seed: 1)
        let free = model.generate(prompts: [[1, 2, 3]], maxNewTokens: 6, temperature: 0, topP: 1, eos: -1, rng: &rng)[0]
        let eos = free[2]
        let stopped = model.generate(prompts: [[1, 2, 3]], maxNewTokens: 6, temperature: 0, topP: 1, eos: eos, rng: &rng)[0]
        XCTAssertEqual(stopped, Array(free.prefix(through: free.firstIndex(of: eos)!)))
    }
}

/// log p(next | seq) over the vocabulary by a full forward (the last row's log-softmax).
func fullNextTokenLogProbs(_ model: LlamaModel, _ seq: [Int32]) -> [Float] {
    (0..<Int32(model.config.vocabSize)).map { v in
        model.tokenLogProbs(TokenBatch(sequences: [seq + [v]], pad: 0), keepActivations: false)[seq.count]
    }
}
