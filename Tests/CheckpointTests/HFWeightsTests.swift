import Foundation
import Tensor
import XCTest
@testable import Checkpoint

/// Hugging Face config.json (both architectures, transformers 4.x and 5 spellings) and sharded weights.
final class HFWeightsTests: XCTestCase {
    private func decode(_ json: String) throws -> HFLlamaConfig {
        try JSONDecoder().decode(HFLlamaConfig.self, from: Data(json.utf8))
    }

    func testConfigRoundTripsForBothArchitectures() throws {
        for architecture in HFLlamaConfig.Architecture.allCases {
            let c = HFLlamaConfig(architecture: architecture, hiddenSize: 64, numHiddenLayers: 2, numAttentionHeads: 4,
                                  numKeyValueHeads: 2, intermediateSize: 176, vocabSize: 300, maxPositionEmbeddings: 128,
                                  ropeTheta: 10_000, rmsNormEps: 1e-5, tieWordEmbeddings: true, bosTokenId: nil,
                                  eosTokenId: 7, padTokenId: 4)
            let data = try JSONEncoder().encode(c)
            XCTAssertEqual(try JSONDecoder().decode(HFLlamaConfig.self, from: data), c)
            let object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
            XCTAssertEqual(object["architectures"] as? [String], [architecture.rawValue])
            XCTAssertEqual(object["model_type"] as? String, "llama")
            XCTAssertEqual(object["head_dim"] as? Int, 16)
            XCTAssertEqual((object["rope_parameters"] as? [String: Any])?["rope_type"] as? String, "default")
            XCTAssertEqual(object["rope_theta"] as? Double, 10_000)
            XCTAssertEqual(object["id2label"] as? [String: String], architecture == .sequenceClassification ? ["0": "LABEL_0"] : nil)
        }
    }

    func testReadsTransformers5RopeParametersAndIdLists() throws {
        let c = try decode(#"""
            {"architectures": ["LlamaForSequenceClassification"], "model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 300, "head_dim": 16,
             "rope_parameters": {"rope_theta": 50000.0, "rope_type": "default"}, "eos_token_id": [5, 6], "pad_token_id": null,
             "id2label": {"0": "LABEL_0"}, "dtype": "bfloat16"}
            """#)
        XCTAssertEqual(c.architecture, .sequenceClassification)
        XCTAssertEqual(c.ropeTheta, 50_000)
        XCTAssertEqual(c.eosTokenId, 5)
        XCTAssertNil(c.padTokenId)
    }

    func testRefusesWhatTheEngineCannotRunNamingTheKey() throws {
        let base = #""hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 8, "vocab_size": 9"#
        func expect(_ extra: String, _ fragment: String, line: UInt = #line) {
            XCTAssertThrowsError(try decode("{\(base), \(extra)}"), line: line) { error in
                let text = ConfigJSON.describe(error as! DecodingError)
                XCTAssertTrue(text.contains(fragment), text, line: line)
            }
        }
        expect(#""model_type": "mistral""#, "model_type \"mistral\" is not supported")
        expect(#""architectures": ["LlamaForTokenClassification"]"#, "LlamaForTokenClassification\" is not supported")
        expect(#""rope_parameters": {"rope_type": "yarn", "rope_theta": 1e4}"#, "rope_type \"yarn\"")
        expect(#""attention_bias": true"#, "attention_bias true is not supported")
        expect(#""head_dim": 32"#, "head_dim 32 differs")
        // transformers' default is two labels: a reward model must say it has one.
        expect(#""architectures": ["LlamaForSequenceClassification"]"#, "exactly one label, found 2")
    }

    private func sample() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for i in 0..<5 { out["t\(i)"] = Tensor(shape: [2, 3], data: (0..<6).map { Float($0 + 10 * i) }) }
        return out
    }

    func testShardedWeightsRoundTripThroughTheIndex() throws {
        let dir = try makeTempDir("shards")
        defer { try? FileManager.default.removeItem(at: dir) }
        let tensors = sample()
        try HFWeights.write(tensors, to: dir, maxShardBytes: 50)  // two 24-byte tensors per shard
        let files = try HFWeights.files(in: dir).map(\.lastPathComponent)
        XCTAssertEqual(files, ["model.safetensors.index.json", "model-00001-of-00003.safetensors",
                               "model-00002-of-00003.safetensors", "model-00003-of-00003.safetensors"])
        XCTAssertEqual(try HFWeights.read(from: dir), tensors)
        let index = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(HFWeights.indexFile))) as? [String: Any]
        XCTAssertEqual((index?["metadata"] as? [String: Int])?["total_size"], 5 * 24)

        // Written again unsharded, the old shards and index go.
        try HFWeights.write(tensors, to: dir)
        XCTAssertEqual(try HFWeights.files(in: dir).map(\.lastPathComponent), ["model.safetensors"])
        XCTAssertEqual(try Safetensors.load(dir.appendingPathComponent("model.safetensors")).metadata, ["format": "pt"])
    }

    func testBrokenIndexesNameTheFile() throws {
        let dir = try makeTempDir("shards-bad")
        defer { try? FileManager.default.removeItem(at: dir) }
        func expect(_ fragment: String, file: String, line: UInt = #line) {
            XCTAssertThrowsError(try HFWeights.read(from: dir), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment) && "\(error)".contains(file), "\(error)", line: line)
            }
        }
        expect("missing: a model folder needs model.safetensors or model.safetensors.index.json", file: "model.safetensors")
        let index = dir.appendingPathComponent(HFWeights.indexFile)
        try Data(#"{"weight_map": {"t0": "model-1.safetensors"}}"#.utf8).write(to: index)
        expect("weight_map.t0: shard model-1.safetensors does not exist", file: "model.safetensors.index.json")
        try Safetensors.write(["t1": Tensor(shape: [1], data: [1])], to: dir.appendingPathComponent("model-1.safetensors"))
        expect("has no tensor \"t0\"", file: "model-1.safetensors")
        try Data(#"{"weight_map": {"t1": "../model-1.safetensors"}}"#.utf8).write(to: index)
        expect("is not a shard file name in the folder", file: "model.safetensors.index.json")
        try Data(#"{"metadata": {}}"#.utf8).write(to: index)
        expect("needs a \"weight_map\" object", file: "model.safetensors.index.json")
    }
}
