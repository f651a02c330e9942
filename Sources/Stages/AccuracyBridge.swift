import Engines
import Foundation
import Pipeline
import Preference

/// PrefLab's side of an `rm_accuracy` node on TRL (`TRLScoreRunner`): the same held-out pairs, prompts and sampling
/// settings as the embedded stage (`RewardAccuracyStage`), and the accuracy computed from the engine's scores by the
/// same evaluation code. A judge PrefLab reads gets its own ids (the pairs encoded as `Evaluation.pairItems` encodes
/// them); one it does not read gets the text, which the scoring job tokenises with the model's own tokenizer.
public struct EmbeddedAccuracyInputs: AccuracyInputs {
    public init() {}

    public func accuracyItems(_ context: NodeContext, text: Bool) throws -> AccuracyItems {
        let codec = text ? nil : try RewardAccuracyStage.judgeCodec(context)
        if context.inputs["policy"] != nil {
            let plan = try RewardAccuracyStage.onPolicyPlan(context)
            let items = plan.prompts.map { p in
                codec.map { ScoreItem(promptIds: $0.promptTokens(p).map(Int.init)) } ?? ScoreItem(messages: p.engineMessages)
            }
            let o = plan.options
            return AccuracyItems(items: items, sampling: .init(samples: 2, temperature: o.temperature, topP: o.topP, maxNewTokens: o.maxNewTokens,
                                                               seed: o.seed, eosTokenId: codec.map { Int($0.eos) }))
        }
        let pairs = try RewardAccuracyStage.heldOutPairs(context)
        if let codec {
            return AccuracyItems(items: Evaluation.pairItems(pairs, codec: codec).map {
                ScoreItem(promptIds: $0.prompt.map(Int.init), responseIds: $0.response.map(Int.init))
            })
        }
        let item = { (p: PreferencePair, response: String) in ScoreItem(messages: p.prompt.engineMessages, response: response) }
        return AccuracyItems(items: pairs.map { item($0, $0.chosen) } + pairs.map { item($0, $0.rejected) })
    }

    public func accuracySummary(_ context: NodeContext, items: AccuracyItems, lines: [ScoreLine]) throws -> [String: Double] {
        let scores = try Self.scores(context, lines)
        guard items.sampling != nil else {
            let n = items.items.count / 2
            return ["accuracy": Evaluation.pairAccuracy(chosen: Array(scores[..<n]), rejected: Array(scores[n...])), "pairs": Double(n)]
        }
        let plan = try RewardAccuracyStage.onPolicyPlan(context)
        let codec = lines.contains { $0.text == nil } ? try RewardAccuracyStage.judgeCodec(context) : nil
        let responses = try lines.map { line in
            if let text = line.text { return text }
            guard let codec, let ids = line.responseIds else { throw StageError(context.stage.name, "a sampled line has neither text nor ids") }
            // Decoded as PrefLab's sampler decodes its own: the stop (end of turn) dropped.
            return codec.decode((ids.last.map(Int32.init) == codec.eos ? ids.dropLast() : ids[...]).map(Int32.init))
        }
        return RewardAccuracyStage.summary(Evaluation.accuracyOnPolicy(scores: scores, responses: responses, task: plan.task, prompts: plan.prompts))
    }

    /// The judge's score of each line: the reward model's, or the implicit reward from the two log-probs.
    static func scores(_ context: NodeContext, _ lines: [ScoreLine]) throws -> [Double] {
        if context.inputs["reward_model"] != nil {
            return try lines.map { try $0.score ?? { throw StageError(context.stage.name, "a line without the reward model's score") }() }
        }
        let lp = lines.compactMap(\.logp), ref = lines.compactMap(\.refLogp)
        guard lp.count == lines.count, ref.count == lines.count else { throw StageError(context.stage.name, "a line without both log-probabilities") }
        return Evaluation.implicitRewards(logProbs: lp, referenceLogProbs: ref, beta: RewardAccuracyStage.implicitBeta)
    }
}
