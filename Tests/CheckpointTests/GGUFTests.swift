import Foundation
import Tensor
import XCTest
@testable import Checkpoint

/// Block builders: layouts as in ggml (`block_q8_0`, `block_q4_0`, `block_q4_1`).
enum Blocks {
    static func q8_0(d: UInt16, _ qs: [Int8]) -> [UInt8] { GGUFTestWriter.le(d) + qs.map { UInt8(bitPattern: $0) } }
    /// `nibbles` are the 32 values; value j sits in the low half of byte j, value j+16 in its high half.
    static func q4_0(d: UInt16, _ nibbles: [UInt8]) -> [UInt8] { GGUFTestWriter.le(d) + pack(nibbles) }
    static func q4_1(d: UInt16, m: UInt16, _ nibbles: [UInt8]) -> [UInt8] { GGUFTestWriter.le(d) + GGUFTestWriter.le(m) + pack(nibbles) }
    static func pack(_ n: [UInt8]) -> [UInt8] { (0..<16).map { n[$0] | n[$0 + 16] << 4 } }
}

final class GGUFDequantTests: XCTestCase {
    func testQ8_0() throws {
        var qs = [Int8](repeating: 0, count: 32)
        qs[0] = -128; qs[1] = -1; qs[3] = 1; qs[4] = 127; qs[31] = 5
        var second = [Int8](repeating: 2, count: 32)
        second[7] = -3
        let bytes = Blocks.q8_0(d: 0x3800, qs) + Blocks.q8_0(d: 0x4400, second)  // d = 0.5, then 4.0
        let x = try GGMLQuant.dequantize(bytes, type: .q8_0, count: 64)
        XCTAssertEqual(Array(x[0..<5]), [-64, -0.5, 0, 0.5, 63.5])
        XCTAssertEqual(x[31], 2.5)
        XCTAssertEqual(x[32], 8)
        XCTAssertEqual(x[39], -12)
    }

    func testQ4_0() throws {
        var n = [UInt8](repeating: 8, count: 32)  // 8 is zero in Q4_0
        n[0] = 10; n[16] = 3; n[1] = 0; n[17] = 15
        let bytes = Blocks.q4_0(d: 0x4000, n) + Blocks.q4_0(d: 0x3800, [UInt8](repeating: 9, count: 32))  // d = 2, then 0.5
        XCTAssertEqual(Array(bytes[2..<4]), [0x3A, 0xF0])  // the nibble packing itself
        let x = try GGMLQuant.dequantize(bytes, type: .q4_0, count: 64)
        XCTAssertEqual([x[0], x[16], x[1], x[17], x[2]], [4, -10, -16, 14, 0])
        XCTAssertEqual(Array(x[32..<64]), [Float](repeating: 0.5, count: 32))
    }

    func testQ4_1() throws {
        var n = [UInt8](repeating: 4, count: 32)
        n[0] = 10; n[16] = 3; n[1] = 0; n[17] = 15
        let bytes = Blocks.q4_1(d: 0x3400, m: 0xBC00, n) + Blocks.q4_1(d: 0x3C00, m: 0x4000, [UInt8](repeating: 1, count: 32))
        let x = try GGMLQuant.dequantize(bytes, type: .q4_1, count: 64)  // d = 0.25, m = -1; then d = 1, m = 2
        XCTAssertEqual([x[0], x[16], x[1], x[17], x[2]], [1.5, -0.25, -1, 2.75, 0])
        XCTAssertEqual(Array(x[32..<64]), [Float](repeating: 3, count: 32))
    }

    func testF32F16BF16AndRefusals() throws {
        XCTAssertEqual(try GGMLQuant.dequantize(GGUFTestWriter.le(Float(-1.25).bitPattern), type: .f32, count: 1), [-1.25])
        XCTAssertEqual(try GGMLQuant.dequantize(GGUFTestWriter.le(UInt16(0xC100)) + GGUFTestWriter.le(UInt16(0x0001)), type: .f16, count: 2), [-2.5, 0x1p-24])
        XCTAssertEqual(try GGMLQuant.dequantize(GGUFTestWriter.le(UInt16(0x3FC0)), type: .bf16, count: 1), [1.5])
        XCTAssertThrowsError(try GGMLQuant.dequantize([UInt8](repeating: 0, count: 210), type: GGMLType(rawValue: 14), count: 256)) {
            XCTAssertTrue("\($0)".contains("Q6_K (14) is not supported"), "\($0)")
        }
        XCTAssertThrowsError(try GGMLQuant.dequantize([UInt8](repeating: 0, count: 34), type: .q8_0, count: 16)) {
            XCTAssertTrue("\($0)".contains("whole number"), "\($0)")
        }
        XCTAssertThrowsError(try GGMLQuant.dequantize([UInt8](repeating: 0, count: 33), type: .q8_0, count: 32)) {
            XCTAssertTrue("\($0)".contains("need 34 bytes"), "\($0)")
        }
    }
}

final class GGUFFileTests: XCTestCase {
    /// HF-order matrix (rows, cols) with small integer-derived values exact in every format used.
    static func matrix(_ rows: Int, _ cols: Int, _ f: (Int, Int) -> Float) -> Tensor {
        Tensor(shape: [rows, cols], data: (0..<rows).flatMap { r in (0..<cols).map { c in f(r, c) } })
    }

    func testRoPERowPermutationRoundTripsAndMatchesTheConverter() {
        // One head of size 4: the converter stores HF rows [0, 2, 1, 3] (pairs (i, i+2) become adjacent).
        let hf = Self.matrix(4, 1) { r, _ in Float(r) }
        XCTAssertEqual(LlamaTensorNames.permuteRoPERows(hf, heads: 1).data, [0, 2, 1, 3])
        XCTAssertEqual(LlamaTensorNames.unpermuteRoPERows(Tensor(shape: [4, 1], data: [0, 2, 1, 3]), heads: 1).data, [0, 1, 2, 3])
        // Two heads of size 6: rows h*6 + [0, 3, 1, 4, 2, 5].
        let two = Self.matrix(12, 2) { r, c in Float(10 * r + c) }
        let permuted = LlamaTensorNames.permuteRoPERows(two, heads: 2)
        XCTAssertEqual(stride(from: 0, to: 24, by: 2).map { permuted.data[$0] / 10 }, [0, 3, 1, 4, 2, 5, 6, 9, 7, 10, 8, 11])
        XCTAssertEqual(LlamaTensorNames.unpermuteRoPERows(permuted, heads: 2), two)
    }

    func testNameMapping() {
        XCTAssertEqual(LlamaTensorNames.hfName(gguf: "blk.12.attn_q.weight"), "model.layers.12.self_attn.q_proj.weight")
        XCTAssertEqual(LlamaTensorNames.hfName(gguf: "blk.0.ffn_down.weight"), "model.layers.0.mlp.down_proj.weight")
        XCTAssertEqual(LlamaTensorNames.hfName(gguf: "blk.3.ffn_norm.weight"), "model.layers.3.post_attention_layernorm.weight")
        XCTAssertEqual(LlamaTensorNames.hfName(gguf: "token_embd.weight"), "model.embed_tokens.weight")
        XCTAssertEqual(LlamaTensorNames.hfName(gguf: "output.weight"), "lm_head.weight")
        XCTAssertNil(LlamaTensorNames.hfName(gguf: "rope_freqs.weight"))
        XCTAssertNil(LlamaTensorNames.hfName(gguf: "blk.x.attn_q.weight"))
        XCTAssertEqual(LlamaTensorNames.ggufName(hf: "model.layers.7.self_attn.o_proj.weight"), "blk.7.attn_output.weight")
        XCTAssertEqual(LlamaTensorNames.ggufName(hf: "model.norm.weight"), "output_norm.weight")
        XCTAssertNil(LlamaTensorNames.ggufName(hf: "model.layers.1.bogus"))
    }

    /// A one-layer llama (d 8, 2 heads of 4, 1 KV head, FFN 8, vocab 8) with every supported block type.
    static func tinyLlama() -> (GGUFTestWriter, [String: Tensor]) {
        let q = matrix(8, 8) { r, c in Float((r * 8 + c) % 23 - 11) * 0.5 }  // Q8_0, d = 0.5
        let k = matrix(4, 8) { r, c in Float((r * 8 + c) % 16 - 8) * 0.25 }  // Q4_0, d = 0.25
        let v = matrix(4, 8) { r, c in Float((r * 5 + c) % 16) * 0.5 - 1 }  // Q4_1, d = 0.5, m = -1
        let o = matrix(8, 8) { r, c in Float(r) - Float(c) / 8 }  // F32
        let gate = matrix(8, 8) { r, c in Float(r * c % 7) }  // F16
        let up = matrix(8, 8) { r, c in Float(r + c) * 0.125 }  // BF16
        let down = matrix(8, 8) { r, c in Float((r - c) * 3) * 0.5 }  // Q8_0, d = 0.5
        let embed = matrix(8, 8) { r, c in Float(r * 8 + c - 32) / 8 }  // F16
        let norm = Tensor(shape: [8], data: (0..<8).map { 1 + Float($0) / 4 })

        func f32(_ t: Tensor) -> [UInt8] { t.data.flatMap { GGUFTestWriter.le($0.bitPattern) } }
        func f16(_ t: Tensor) -> [UInt8] { t.data.flatMap { GGUFTestWriter.le(HalfFloat.floatToF16($0)) } }
        func bf16(_ t: Tensor) -> [UInt8] { t.data.flatMap { GGUFTestWriter.le(UInt16($0.bitPattern >> 16)) } }
        func q8(_ t: Tensor) -> [UInt8] {
            stride(from: 0, to: t.count, by: 32).flatMap { s in Blocks.q8_0(d: 0x3800, t.data[s..<s + 32].map { Int8($0 * 2) }) }
        }
        let q4k = Blocks.q4_0(d: 0x3400, LlamaTensorNames.permuteRoPERows(k, heads: 1).data.map { UInt8($0 * 4 + 8) })
        let q4v = Blocks.q4_1(d: 0x3800, m: 0xBC00, v.data.map { UInt8(($0 + 1) * 2) })

        var w = GGUFTestWriter()
        w.metadata = [
            ("general.architecture", .string("llama")), ("general.alignment", .uint32(64)),
            ("llama.block_count", .uint32(1)), ("llama.context_length", .uint32(128)),
            ("llama.embedding_length", .uint32(8)), ("llama.feed_forward_length", .uint32(8)),
            ("llama.attention.head_count", .uint32(2)), ("llama.attention.head_count_kv", .uint32(1)),
            ("llama.rope.freq_base", .float32(100_000)), ("llama.attention.layer_norm_rms_epsilon", .float32(1e-5)),
            ("llama.rope.dimension_count", .uint32(4)),
            ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("smollm")),
            ("tokenizer.ggml.tokens", .array((0..<8).map { .string("t\($0)") })),
            ("tokenizer.ggml.token_type", .array([.int32(3)] + (1..<8).map { _ in .int32(1) })),
            ("tokenizer.ggml.merges", .array([.string("t 1")])),
            ("tokenizer.ggml.bos_token_id", .uint32(0)), ("tokenizer.ggml.eos_token_id", .uint32(0)),
            ("tokenizer.ggml.add_bos_token", .bool(false)), ("tokenizer.chat_template", .string("{{ x }}")),
            ("test.i8", .int8(-3)), ("test.u16", .uint16(65535)), ("test.i16", .int16(-300)), ("test.i64", .int64(-1 << 40)),
            ("test.u64", .uint64(1 << 50)), ("test.f64", .float64(0.1)), ("test.u8", .uint8(200)),
            ("test.nested", .array([.array([.int32(1), .int32(2)]), .array([.int32(3)])])),
        ]
        w.alignment = 64
        w.tensors = [
            ("token_embd.weight", [8, 8], .f16, f16(embed)),
            ("blk.0.attn_norm.weight", [8], .f32, f32(norm)),
            ("blk.0.attn_q.weight", [8, 8], .q8_0, q8(LlamaTensorNames.permuteRoPERows(q, heads: 2))),
            ("blk.0.attn_k.weight", [8, 4], .q4_0, q4k),
            ("blk.0.attn_v.weight", [8, 4], .q4_1, q4v),
            ("blk.0.attn_output.weight", [8, 8], .f32, f32(o)),
            ("blk.0.ffn_norm.weight", [8], .f32, f32(norm)),
            ("blk.0.ffn_gate.weight", [8, 8], .f16, f16(gate)),
            ("blk.0.ffn_up.weight", [8, 8], .bf16, bf16(up)),
            ("blk.0.ffn_down.weight", [8, 8], .q8_0, q8(down)),
            ("output_norm.weight", [8], .f32, f32(norm)),
        ]
        let hf: [String: Tensor] = [
            "model.embed_tokens.weight": embed, "model.layers.0.input_layernorm.weight": norm,
            "model.layers.0.self_attn.q_proj.weight": q, "model.layers.0.self_attn.k_proj.weight": k,
            "model.layers.0.self_attn.v_proj.weight": v, "model.layers.0.self_attn.o_proj.weight": o,
            "model.layers.0.post_attention_layernorm.weight": norm, "model.layers.0.mlp.gate_proj.weight": gate,
            "model.layers.0.mlp.up_proj.weight": up, "model.layers.0.mlp.down_proj.weight": down,
            "model.norm.weight": norm,
        ]
        return (w, hf)
    }

    func testParsesMetadataTensorsConfigAndTokenizer() throws {
        let dir = try makeTempDir("gguf")
        defer { try? FileManager.default.removeItem(at: dir) }
        let (writer, expected) = Self.tinyLlama()
        let url = dir.appendingPathComponent("tiny.gguf")
        try writer.write(to: url)
        let file = try GGUFFile(contentsOf: url)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.tensorInfos.count, 11)
        XCTAssertEqual(file["test.i8"], .int8(-3))
        XCTAssertEqual(file["test.u16"]?.int, 65535)
        XCTAssertEqual(file["test.i16"]?.int, -300)
        XCTAssertEqual(file["test.i64"]?.int, -1 << 40)
        XCTAssertEqual(file["test.u64"]?.int, 1 << 50)
        XCTAssertEqual(file["test.f64"]?.double, 0.1)
        XCTAssertEqual(file["test.u8"]?.int, 200)
        XCTAssertEqual(file["test.nested"]?.array?[0].int32s, [1, 2])
        XCTAssertEqual(file["llama.rope.freq_base"]?.double, 100_000)

        let attnK = try XCTUnwrap(file.info(named: "blk.0.attn_k.weight"))
        XCTAssertEqual(attnK.dims, [8, 4])
        XCTAssertEqual(attnK.shape, [4, 8])
        XCTAssertEqual(attnK.type, .q4_0)

        let config = try file.llamaConfig()
        XCTAssertEqual(config, HFLlamaConfig(hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, numKeyValueHeads: 1,
                                             intermediateSize: 8, vocabSize: 8, maxPositionEmbeddings: 128, ropeTheta: 100_000,
                                             rmsNormEps: Double(Float(1e-5)), tieWordEmbeddings: true, bosTokenId: 0, eosTokenId: 0))
        let tok = try file.tokenizerMetadata()
        XCTAssertEqual(tok.tokens.count, 8)
        XCTAssertEqual(tok.tokenTypes.first, 3)
        XCTAssertEqual(tok.merges, ["t 1"])
        XCTAssertEqual(tok.pre, "smollm")
        XCTAssertEqual(tok.bos, 0)
        XCTAssertNil(tok.pad)
        XCTAssertEqual(tok.chatTemplate, "{{ x }}")

        // Every tensor comes back under its HF name, [out, in], with Q/K rows unpermuted: bit-exact.
        let tensors = try file.llamaTensors()
        XCTAssertEqual(Set(tensors.keys), Set(expected.keys))
        for (name, t) in expected { XCTAssertEqual(tensors[name], t, name) }
        XCTAssertNil(tensors["lm_head.weight"])  // tied
    }

    func testMalformedGGUFGivesErrorsNamingFileAndProblem() throws {
        let dir = try makeTempDir("gguf-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func expect(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) throws {
            let url = dir.appendingPathComponent("bad.gguf")
            try Data(bytes).write(to: url)
            XCTAssertThrowsError(try GGUFFile(contentsOf: url), line: line) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("bad.gguf") && text.contains(fragment), text, line: line)
            }
        }
        let good = Self.tinyLlama().0
        try expect(Array("GGML".utf8) + [UInt8](repeating: 0, count: 20), "GGUF magic")
        var v1 = good; v1.version = 1
        try expect(v1.bytes(), "version 1 is not supported")
        try expect(Array(good.bytes().prefix(10)), "truncated")
        try expect(Array(good.bytes().dropLast(40)), "past the end")
        var huge = good; huge.metadata = []; huge.tensors = []
        try expect(Array(huge.bytes().prefix(16)) + GGUFTestWriter.le(UInt64(1) << 60), "cannot fit")
        var badType = good; badType.metadata = [("k", .uint8(1))]
        var bytes = badType.bytes()
        let typeOffset = 4 + 4 + 8 + 8 + 8 + 1  // magic, version, counts, key length, key "k"
        bytes[typeOffset] = 13
        try expect(bytes, "unknown value type 13")
        var misaligned = good; misaligned.metadata.append(("general.alignment", .uint32(48)))
        misaligned.metadata.removeAll { $0.0 == "general.alignment" && $0.1 == .uint32(64) }
        try expect(misaligned.bytes(), "not a positive power of two")

        var overflow = good; overflow.tensors = [("x", [1 << 39, 1 << 39], .f32, [])]
        try expect(overflow.bytes(), "more values than can be addressed")

        var q6 = good; q6.tensors = [("blk.0.attn_q.weight", [256], GGMLType(rawValue: 14), [UInt8](repeating: 0, count: 210))]
        let url = dir.appendingPathComponent("q6.gguf")
        try q6.write(to: url)
        let file = try GGUFFile(contentsOf: url)
        XCTAssertThrowsError(try file.tensor(named: "blk.0.attn_q.weight")) {
            XCTAssertTrue("\($0)".contains("q6.gguf") && "\($0)".contains("Q6_K (14) is not supported"), "\($0)")
        }
        XCTAssertThrowsError(try file.tensor(named: "nope")) { XCTAssertTrue("\($0)".contains("no tensor named \"nope\"")) }
        var stray = good; stray.tensors.append(("rope_freqs.weight", [2], .f32, [UInt8](repeating: 0, count: 8)))
        try stray.write(to: url)
        XCTAssertThrowsError(try GGUFFile(contentsOf: url).llamaTensors()) {
            XCTAssertTrue("\($0)".contains("rope_freqs.weight"), "\($0)")
        }
    }
}
