import Engines
import Foundation
import Pipeline
import Preference

/// PrefLab's side of an OpenRLHF `ppo` node: the policy and reward model as Hugging Face folders written by
/// PrefLab's own writer, and the prompts rendered with the policy's chat template as its rollouts see them (or, for
/// a policy PrefLab does not read, as their turns, which the job renders with the model's own tokenizer).
public struct EmbeddedRolloutInputs: RolloutInputs {
    public init() {}

    public func exportModel(_ context: NodeContext, input field: String, into dir: URL) throws {
        let (model, codec) = try ModelArtifact.load(from: try context.requiredInput(field))
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try ModelArtifact.save(model: model, codec: codec, to: dir)
    }

    public func promptMessages(_ context: NodeContext) throws -> [[[String: String]]] {
        try PreferenceArtifact.prompts(try context.requiredInput("prompts")).map(\.engineMessages)
    }

    public func renderedPrompts(_ context: NodeContext) throws -> [(text: String, tokens: Int)] {
        let codec = try ModelArtifact.load(from: try context.requiredInput("policy")).codec
        return try PreferenceArtifact.prompts(try context.requiredInput("prompts")).map { prompt in
            (EmbeddedEngineInputs.render(prompt, codec), codec.promptTokens(prompt).count)
        }
    }
}
