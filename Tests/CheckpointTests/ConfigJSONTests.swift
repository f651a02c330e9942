import Foundation
import XCTest
@testable import Checkpoint

final class ConfigJSONTests: XCTestCase {
    /// SmolLM2-135M-Instruct's config.json (the fields HF writes, abridged to the ones that matter plus extras).
    static let smolConfig = """
    {"architectures": ["LlamaForCausalLM"], "attention_bias": false, "bos_token_id": 1, "eos_token_id": 2,
     "hidden_act": "silu", "hidden_size": 576, "initializer_range": 0.041666666666666664,
     "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama",
     "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "pretraining_tp": 1,
     "rms_norm_eps": 1e-05, "rope_scaling": null, "rope_theta": 100000, "tie_word_embeddings": true,
     "torch_dtype": "bfloat16", "use_cache": true, "vocab_size": 49152}
    """

    func testReadsHFLlamaConfig() throws {
        let dir = try makeTempDir("cfg")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("config.json")
        try Self.smolConfig.write(to: url, atomically: true, encoding: .utf8)
        let c = try ConfigJSON.read(HFLlamaConfig.self, from: url)
        XCTAssertEqual(c, HFLlamaConfig(hiddenSize: 576, numHiddenLayers: 30, numAttentionHeads: 9, numKeyValueHeads: 3,
                                        intermediateSize: 1536, vocabSize: 49152, maxPositionEmbeddings: 8192,
                                        ropeTheta: 100_000, rmsNormEps: 1e-5, tieWordEmbeddings: true,
                                        bosTokenId: 1, eosTokenId: 2))
        XCTAssertEqual(c.headDim, 64)

        try ConfigJSON.write(c, to: url)
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"LlamaForCausalLM\"") && text.contains("\"model_type\" : \"llama\""), text)
        XCTAssertEqual(try ConfigJSON.read(HFLlamaConfig.self, from: url), c)
    }

    func testAppliesHFDefaultsForAbsentKeys() throws {
        let json = #"{"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 300}"#
        let c = try JSONDecoder().decode(HFLlamaConfig.self, from: Data(json.utf8))
        XCTAssertEqual(c.numKeyValueHeads, 4)
        XCTAssertEqual(c.maxPositionEmbeddings, 2048)
        XCTAssertEqual(c.ropeTheta, 10_000)
        XCTAssertEqual(c.rmsNormEps, 1e-6)
        XCTAssertFalse(c.tieWordEmbeddings)
        XCTAssertNil(c.bosTokenId)
    }

    func testRefusesUnusableConfigsNamingFileAndKey() throws {
        let dir = try makeTempDir("cfg-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func expect(_ json: String, _ fragment: String, line: UInt = #line) throws {
            let url = dir.appendingPathComponent("config.json")
            try json.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try ConfigJSON.read(HFLlamaConfig.self, from: url), line: line) { error in
                let text = "\(error)"
                XCTAssertTrue(text.contains("config.json") && text.contains(fragment), text, line: line)
            }
        }
        try expect(#"{"hidden_size": 64}"#, "missing key \"num_hidden_layers\"")
        try expect(#"{"hidden_size": "64", "num_hidden_layers": 2}"#, "hidden_size")
        let base = #""hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9"#
        try expect("{\(base), \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2}}", "rope_scaling is not supported")
        try expect("{\(base), \"num_key_value_heads\": 3}", "not a multiple of num_key_value_heads 3")
        try expect("{\(base), \"hidden_act\": \"gelu\"}", "hidden_act \"gelu\" is not supported")
        try expect("[1]", "HFLlamaConfig")
    }

    func testAnyCodableRoundTrips() throws {
        struct Tiny: Codable, Equatable { var name: String; var sizes: [Int]; var rate: Double }
        let dir = try makeTempDir("cfg-any")
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tiny.json")
        let value = Tiny(name: "a/b", sizes: [1, 2], rate: 0.25)
        try ConfigJSON.write(value, to: url)
        XCTAssertEqual(try ConfigJSON.read(Tiny.self, from: url), value)
        XCTAssertTrue(try String(contentsOf: url, encoding: .utf8).contains("\"a/b\""))
    }
}
