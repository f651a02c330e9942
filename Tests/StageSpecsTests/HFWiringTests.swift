import Foundation
import RecipeSpec
import StageSpecs
import XCTest

/// An `hf_model` folder is a policy or a reward model as its config.json says; wired where the other is
/// expected it is refused by `validate` at the consuming field's line, from config.json alone (this target
/// links no compute code, and the weights here are empty files).
final class HFWiringTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("hfwiring-\(UUID().uuidString)")
        for (name, architectures) in [("lm", #"["LlamaForCausalLM"]"#), ("rm", #"["LlamaForSequenceClassification"]"#), ("bare", nil)] {
            let folder = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let config = #"{"model_type": "llama""# + (architectures.map { #", "architectures": \#($0)"# } ?? "") + "}"
            try Data(config.utf8).write(to: folder.appendingPathComponent("config.json"))
            for file in ["model.safetensors", "tokenizer.json"] { try Data().write(to: folder.appendingPathComponent(file)) }
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    private func problems(_ stages: String) -> [String] {
        // The folders are in the temporary directory, outside the project: allowed explicitly.
        let yaml = "name: w\nstages:\n  lm: { kind: hf_model, allow_outside: true, path: \(dir.path)/lm }\n"
            + "  rm: { kind: hf_model, allow_outside: true, path: \(dir.path)/rm }\n"
            + "  bare: { kind: hf_model, allow_outside: true, path: \(dir.path)/bare }\n  prompts: { kind: task_prompts, task: word_collector, size: 4 }\n" + stages
        do {
            _ = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: yaml, file: "w.yaml")
            return []
        } catch let errors as RecipeErrors {
            return errors.errors.map(\.description)
        } catch {
            return ["\(error)"]
        }
    }

    func testASequenceClassifierIsNotAPolicy() {
        let found = problems("  eval: { kind: gold_reward, policy: rm, task: word_collector, prompts: 2 }\n")
        XCTAssertEqual(found, ["w.yaml:7:38: error: stages.eval.policy: stage 'rm' (kind 'hf_model': \(dir.path)/rm/config.json's architectures is LlamaForSequenceClassification) outputs reward_model; expected a stage that outputs policy"])
    }

    func testACausalLMIsNotARewardModel() {
        let found = problems("  ppo: { kind: ppo, policy: lm, reward_model: bare, prompts: prompts }\n")
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.hasPrefix("w.yaml:7:47: error: stages.ppo.reward_model: stage 'bare' (kind 'hf_model': \(dir.path)/bare/config.json names no architectures, a causal LM) outputs policy; expected a stage that outputs reward_model") ?? false, "\(found)")
    }

    func testRightWiringValidates() {
        XCTAssertEqual(problems("  ppo: { kind: ppo, policy: lm, reward_model: rm, prompts: prompts }\n"), [])
        XCTAssertEqual(problems("  eval: { kind: gold_reward, policy: bare, task: word_collector, prompts: 2 }\n"), [])
    }
}
