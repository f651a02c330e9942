import Foundation
import XCTest

/// `preflab generate`, `score` and `tokenize` as a user runs them: the built binary on SmolLM2-135M
/// (models/, fetched by scripts/fetch-smollm2.sh; skipped, saying so, without it) as a GGUF file, as a
/// store node (by RECIPE STAGE and by hash prefix), and their errors for a bad path or node hash.
final class ModelCommandTests: XCTestCase {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let gguf = "models/SmolLM2-135M-Instruct.Q4_1.gguf"
    static let prompt = "The capital of France is Paris. The capital of Italy is"

    func preflab(_ arguments: [String]) throws -> PreflabOutput { try runPreflab(arguments, in: Self.root) }

    func requireModel() throws {
        guard FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(Self.gguf).path) else {
            let reason = "\(Self.gguf) is absent: run scripts/fetch-smollm2.sh (CI does)"
            print("skipping: \(reason)")
            throw XCTSkip(reason)
        }
    }

    func json(_ text: String) throws -> [String: Any] {
        try XCTUnwrap(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
    }

    func testGenerateScoreAndTokenizeAGGUFFile() throws {
        try requireModel()
        let model = [Self.gguf, "--max-seq-len", "64", "--json"]
        let gen = try preflab(["generate"] + model + ["--prompt", Self.prompt, "--max-new-tokens", "3"])
        XCTAssertEqual(gen.status, 0, gen.stderr)
        let generated = try json(gen.stdout)
        XCTAssertTrue((generated["text"] as? String)?.hasPrefix(" Rome") == true, gen.stdout)
        XCTAssertEqual((generated["ids"] as? [Any])?.count, 3)

        let score = try preflab(["score"] + model + ["--prompt", Self.prompt, "--response", " Rome."])
        XCTAssertEqual(score.status, 0, score.stderr)
        let scored = try json(score.stdout)
        let tokens = try XCTUnwrap(scored["tokens"] as? [[String: Any]])
        XCTAssertEqual(tokens.compactMap { $0["text"] as? String }.joined(), " Rome.")
        let total = try XCTUnwrap(scored["total"] as? Double)
        XCTAssertEqual(total, tokens.compactMap { $0["logprob"] as? Double }.reduce(0, +), accuracy: 1e-6)
        XCTAssertLessThan(total, 0)

        let tok = try preflab(["tokenize", Self.gguf, "--text", "Paris is"])
        XCTAssertEqual(tok.status, 0, tok.stderr)
        XCTAssertTrue(tok.stdout.hasSuffix("tokens\n"), tok.stdout)
        let lines = tok.stdout.split(separator: "\n")
        XCTAssertEqual(lines.last, "\(lines.count - 1) tokens")
        XCTAssertEqual(lines.dropLast().map { $0.split(separator: "\t").last.map(String.init) ?? "" }, ["\"Paris\"", "\" is\""])
    }

    /// A pretrained node in a store, named by RECIPE STAGE and by a hash prefix, generates what the file does.
    func testANodeByRecipeStageAndByHash() throws {
        try requireModel()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipe = dir.appendingPathComponent("probe.yaml")
        try """
        name: probe
        stages:
          base:
            kind: pretrained
            file: \(Self.gguf)
            max_seq_len: 64
        """.write(to: recipe, atomically: true, encoding: .utf8)
        let store = dir.appendingPathComponent("store").path
        let run = try preflab(["run", recipe.path, "--store", store])
        XCTAssertEqual(run.status, 0, run.stdout + run.stderr)
        let byStage = try preflab(["generate", recipe.path, "base", "--store", store, "--prompt", Self.prompt,
                                   "--max-new-tokens", "3", "--json"])
        XCTAssertEqual(byStage.status, 0, byStage.stderr)
        XCTAssertTrue((try json(byStage.stdout)["text"] as? String)?.hasPrefix(" Rome") == true, byStage.stdout)
        let objects = try FileManager.default.contentsOfDirectory(atPath: store + "/objects")
        let hash = try XCTUnwrap(objects.first { $0.count > 16 })
        let byHash = try preflab(["tokenize", String(hash.prefix(10)), "--store", store, "--text", "Paris is", "--json"])
        XCTAssertEqual(byHash.status, 0, byHash.stderr)
        XCTAssertEqual((try JSONSerialization.jsonObject(with: Data(byHash.stdout.utf8)) as? [Any])?.count, 2, byHash.stdout)
    }

    func testBadModelPathsAndNodeHashesAreClearErrors() throws {
        let missing = try preflab(["generate", "/nonexistent/model.gguf", "--prompt", "x"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/model.gguf does not exist"), missing.stderr)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let node = try preflab(["score", "deadbeef", "--store", dir.path, "--prompt", "x", "--response", "y"])
        XCTAssertNotEqual(node.status, 0)
        XCTAssertTrue(node.stderr.contains("no finished node in \(dir.path) has a hash starting with 'deadbeef'"), node.stderr)
        let stage = try preflab(["tokenize", "Recipes/quickstart.yaml", "nosuchstage", "--store", dir.path, "--text", "x"])
        XCTAssertNotEqual(stage.status, 0)
        XCTAssertTrue(stage.stderr.contains("no stage 'nosuchstage' in Recipes/quickstart.yaml"), stage.stderr)
    }
}
