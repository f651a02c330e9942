import Checkpoint
import Foundation
import Preference
import Tokenizer
import XCTest

/// SmolLM2-135M-Instruct (Q4_1 GGUF) at models/, and the golden values of
/// benchmarks/reference/smollm2_reference.py (an independent numpy implementation).
enum SmolLM2 {
    /// The repository root: Tests/PretrainedTests/<this file> is three levels below it.
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let modelPath = "models/SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The parsed model file; skips the calling test ONLY when the file is absent.
    static func file() throws -> GGUFFile {
        let url = root.appendingPathComponent(modelPath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("\(modelPath) is absent: run scripts/fetch-smollm2.sh to fetch it (CI does)")
        }
        return try GGUFFile(contentsOf: url)
    }

    /// The model's own tokenizer, built from its GGUF metadata.
    static func tokenizer(_ file: GGUFFile) throws -> BPETokenizer { try Pretrained.tokenizer(file) }

    /// Tests/PretrainedTests/Golden/smollm2.json.
    struct Golden: Decodable {
        struct Case: Decodable {
            var text: String
            var ids: [Int32]
        }
        var modelSha256: String
        var prompt: String
        var promptIds: [Int32]
        var tokenLogprobs: [Double]
        var perplexity: Double
        var greedyIds: [Int32]
        var greedyText: String
        var tokenizerCases: [Case]
        var tensorSamples: [Sample]

        /// The first 8 values of one row (or of a vector when `row` is nil) of an HF-named tensor.
        struct Sample: Decodable {
            var name: String
            var row: Int?
            var first8: [Float]
        }

        enum CodingKeys: String, CodingKey {
            case modelSha256 = "model_sha256", prompt, promptIds = "prompt_ids", tokenLogprobs = "token_logprobs"
            case perplexity, greedyIds = "greedy_ids", greedyText = "greedy_text", tokenizerCases = "tokenizer_cases"
            case tensorSamples = "tensor_samples"
        }
    }

    static func golden() throws -> Golden {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "smollm2", withExtension: "json", subdirectory: "Golden"),
                                "Golden/smollm2.json missing from the test bundle")
        return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url))
    }
}
