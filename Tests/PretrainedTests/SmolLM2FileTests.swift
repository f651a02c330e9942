import Checkpoint
import Foundation
import Tensor
import Tokenizer
import XCTest

/// The real SmolLM2 file: its shape, its tokenizer against HF `tokenizers`, its tensors' layout.
final class SmolLM2FileTests: XCTestCase {
    func testConfigFromMetadata() throws {
        let file = try SmolLM2.file()
        let c = try file.llamaConfig()
        XCTAssertEqual(c, HFLlamaConfig(hiddenSize: 576, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3,
                                        intermediateSize: 1536, vocabSize: 49152, maxPositionEmbeddings: 8192,
                                        ropeTheta: 100_000, rmsNormEps: Double(Float(1e-5)), tieWordEmbeddings: true,
                                        bosTokenId: 1, eosTokenId: 2))
        XCTAssertEqual(file.tensorInfos.count, 272)  // 30 x 9 + embedding + final norm; no output.weight (tied)
        XCTAssertEqual(file.info(named: "token_embd.weight")?.type, .q8_0)
        XCTAssertEqual(file.info(named: "blk.0.attn_q.weight")?.type, .q4_1)
        XCTAssertEqual(file.info(named: "blk.0.attn_k.weight")?.shape, [192, 576])
    }

    func testTokenizerMatchesHFTokenizersOnTheModelsOwnVocab() throws {
        let file = try SmolLM2.file()
        let golden = try SmolLM2.golden()
        let tok = try SmolLM2.tokenizer(file)
        XCTAssertEqual(tok.vocabSize, 49152)
        XCTAssertEqual(tok.preTokenizer, .gpt2Digits)
        XCTAssertEqual([tok.bos, tok.eos, tok.pad], [1, 2, 2])
        XCTAssertEqual(tok.specialTokens["<|im_start|>"], 1)
        XCTAssertEqual(tok.specialTokens.count, 17)
        // 21 bytes (0xC0, 0xC1, some controls) have no token; HF tokenizers drops them, and so do we.
        XCTAssertEqual(tok.missingByteTokens.count, 21)
        XCTAssertEqual(tok.encode("a\u{04}b\u{06}"), [81, 82])
        XCTAssertEqual(golden.tokenizerCases.count, 9 + 40)  // hand-picked strings, then 40 GSM8K test rows
        for c in golden.tokenizerCases {
            XCTAssertEqual(tok.encode(c.text), c.ids, c.text)
            XCTAssertEqual(tok.decode(c.ids), c.text)
        }
        // Saved as tokenizer.json (+ tokenizer_config.json) and read back: same ids, same roles.
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("smol-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try tok.save(to: dir.appendingPathComponent("tokenizer.json"))
        let back = try BPETokenizer.load(from: dir.appendingPathComponent("tokenizer.json"))
        XCTAssertEqual([back.bos, back.eos, back.pad], [1, 2, 2])
        XCTAssertEqual(back.preTokenizer, .gpt2Digits)
        for c in golden.tokenizerCases { XCTAssertEqual(back.encode(c.text), c.ids, c.text) }

        // A few ids straight from the GGUF vocabulary.
        XCTAssertEqual(tok.token(of: 504), "The")
        XCTAssertEqual(tok.token(of: 7042), "ĠParis")
        XCTAssertEqual(tok.id(of: "ĠRome"), golden.greedyIds.first)

        // SmolLM2's own chat template, rendered by ChatTemplate.smolLM2, is golden case 7.
        XCTAssertEqual(ChatTemplate.matching(jinja: try XCTUnwrap(file.tokenizerMetadata().chatTemplate)), .smolLM2)
        XCTAssertEqual(ChatTemplate.smolLM2.render([("user", "Hi")], addGenerationPrompt: true), golden.tokenizerCases[7].text)
    }

    func testDequantisedTensorsMatchTheNumpyReader() throws {
        let file = try SmolLM2.file()
        let golden = try SmolLM2.golden()
        XCTAssertEqual(golden.tensorSamples.count, 6)
        for sample in golden.tensorSamples {
            guard let ggufName = LlamaTensorNames.ggufName(hf: sample.name) else { return XCTFail("no GGUF name for \(sample.name)") }
            var t = try file.tensor(named: ggufName)
            let heads = try file.llamaConfig()
            if ggufName.hasSuffix("attn_q.weight") { t = LlamaTensorNames.unpermuteRoPERows(t, heads: heads.numAttentionHeads) }
            if ggufName.hasSuffix("attn_k.weight") { t = LlamaTensorNames.unpermuteRoPERows(t, heads: heads.numKeyValueHeads) }
            let start = (sample.row ?? 0) * (t.shape.count == 2 ? t.shape[1] : 0)
            // Same float32 arithmetic as the numpy reader (q * d + m), so equality is exact.
            XCTAssertEqual(Array(t.data[start..<start + 8]), sample.first8, "\(sample.name) row \(sample.row ?? 0)")
        }
    }
}
