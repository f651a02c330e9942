import Engines
import Foundation
import Pipeline
import Preference
import StageSpecs

/// Where a node's samples come from: PrefLab's own sampler, or vLLM given the same prompt ids, window fitting and
/// settings. The stages that only sample (`gold_reward`, `best_of_n`, `category_scores`, `task_preferences`) draw
/// through one, so the embedded runner and the vLLM bridge share everything but the sampler.
public struct Sampler {
    /// `samplesPerPrompt` samples per prompt, in prompt order.
    let draw: (_ model: SampledModel, _ prompts: [Prompt], _ samplesPerPrompt: Int, _ options: SamplingOptions) throws -> [Sample]

    /// Text mode: Σ log p of each pair's response under the model of input `field` (`policy` or `reference`), in the
    /// pairs' own ids (the model's vocabulary). Nil where the sampler has no engine to ask (PrefLab's own sampler).
    let logProbs: ((_ field: String, _ pairs: [SequencePair]) throws -> [Double])?

    /// Text mode: the reward model's (`reward_model`, a folder) scores of the samples' pairs, in their own ids. Nil
    /// where the sampler has no engine to ask.
    let rewardScores: ((_ pairs: [SequencePair]) throws -> [Double])?

    /// Text mode: Contrastive Distillation's mean log-likelihood of each item's response under the model of input
    /// `field` (`scorer_large` or `scorer_small`, a folder), by the rule of trl_text.py's `response_logprob_ids`.
    /// Nil where the sampler has no engine to ask.
    let textScores: ((_ field: String, _ items: [EngineLogLikelihoods.Item]) throws -> [Double])?

    /// PrefLab's sampler (`Evaluation.sample`).
    static let embedded = Sampler { try Evaluation.sample(policy: $0.policy(), prompts: $1, samplesPerPrompt: $2, options: $3) }

    /// vLLM: each draw is one batch (`batch-0`, `batch-1`, … in draw order, so a rerun finds the batches an
    /// interrupted one finished) of `VLLMBatches.requests`, or of `textRequests` for a model PrefLab does not read.
    static func vllm(_ generate: @escaping (GenerationBatch) throws -> [VLLMCompletion],
                     score: (([ScoreItem]) throws -> [Double])? = nil) -> Sampler {
        let counter = BatchCounter()
        let logProbs = { (field: String, pairs: [SequencePair]) throws -> [Double] in
            let completions = try generate(GenerationBatch(name: counter.next(), requests: VLLMBatches.scoring(pairs), model: field))
            return try completions.enumerated().map { i, c in
                guard let lp = c.promptLogprob else { throw EngineLaunchError("vLLM's scoring completion \(i + 1) has no `prompt_logprob`") }
                return lp
            }
        }
        let rewardScores = score.map { score in
            { (pairs: [SequencePair]) in try score(pairs.map { ScoreItem(promptIds: $0.prompt.map(Int.init), responseIds: $0.response.map(Int.init)) }) }
        }
        let textScores = { (field: String, items: [EngineLogLikelihoods.Item]) throws -> [Double] in
            let completions = try generate(GenerationBatch(name: counter.next(), requests: VLLMBatches.textScoring(items), model: field))
            return try completions.enumerated().map { i, c in
                guard let mean = c.meanLogprob else { throw EngineLaunchError("vLLM's text scoring completion \(i + 1) has no `mean_logprob`") }
                return mean
            }
        }
        return Sampler(logProbs: logProbs, rewardScores: rewardScores, textScores: textScores) { model, prompts, k, options in
            guard case .policy(let policy) = model else {
                let requests = VLLMBatches.textRequests(prompts: prompts, samplesPerPrompt: k, options: options)
                return try VLLMBatches.textSamples(try generate(GenerationBatch(name: counter.next(), requests: requests)))
            }
            let (ids, newTokens) = policy.fitted(Evaluation.promptIds(policy: policy, prompts: prompts, samplesPerPrompt: k),
                                                 maxNewTokens: options.maxNewTokens)
            let requests = VLLMBatches.requests(policy: policy, prompts: ids, maxTokens: newTokens, options: options)
            let completions = try generate(GenerationBatch(name: counter.next(), requests: requests))
            return VLLMBatches.samples(policy: policy, prompts: ids, completions: completions)
        }
    }

    init(logProbs: ((String, [SequencePair]) throws -> [Double])? = nil, rewardScores: (([SequencePair]) throws -> [Double])? = nil,
         textScores: ((String, [EngineLogLikelihoods.Item]) throws -> [Double])? = nil,
         draw: @escaping (SampledModel, [Prompt], Int, SamplingOptions) throws -> [Sample]) {
        self.draw = draw
        self.logProbs = logProbs
        self.rewardScores = rewardScores
        self.textScores = textScores
    }

    /// The samples' KL to the reference, estimated as PrefLab's `Evaluation.klToReference` does (mean over samples of
    /// log π − log π_ref of the sampled response), for a model PrefLab does not read: both log-probs from vLLM's
    /// prompt_logprobs, the policy's folder then the reference's. A reference that is the policy's own folder is the
    /// same model on the same ids: every term is 0, and nothing is launched.
    func klToReference(policy: URL, reference: URL, samples: [Sample], stage: String) throws -> Double {
        guard let logProbs else { throw StageError(stage, "the KL of a model PrefLab does not read needs vLLM (`engine: vllm`)") }
        if samples.isEmpty || policy.standardizedFileURL == reference.standardizedFileURL { return 0 }
        let pairs = samples.map(\.pair)
        let lp = try logProbs("policy", pairs), ref = try logProbs("reference", pairs)
        return zip(lp, ref).reduce(0) { $0 + $1.0 - $1.1 } / Double(samples.count)
    }

    /// The plan's samples.
    func callAsFunction(_ plan: GoldRewardStage.Plan) throws -> [Sample] {
        try draw(plan.policy, plan.prompts, plan.perPrompt, plan.options)
    }
}

/// The model a sampling node draws from: a policy PrefLab reads, or the folder of one it does not (`EngineModel`: a
/// site-named OPT, or what TRL trained from one), which only vLLM's text mode samples.
enum SampledModel {
    case policy(Policy)
    case folder(URL)

    static func load(_ dir: URL) throws -> SampledModel {
        try EngineModel.read(dir) != nil ? .folder(dir) : .policy(try ModelArtifact.loadPolicy(from: dir))
    }

    /// PrefLab's policy; a folder is refused with the model reader's reason.
    func policy() throws -> Policy {
        switch self {
        case .policy(let policy): return policy
        case .folder(let dir): return try ModelArtifact.loadPolicy(from: dir)
        }
    }
}

/// Names a node's vLLM batches in the order it asks for them.
final class BatchCounter {
    private var count = 0

    func next() -> String {
        defer { count += 1 }
        return "batch-\(count)"
    }
}

/// PrefLab's prompts as vLLM requests, and vLLM's completions as PrefLab's samples.
enum VLLMBatches {
    /// One request per prompt (already fitted to the window): the node's temperature and top-p, PrefLab's end-of-turn
    /// token as the stop, and a seed per request, the batch's sampling seed + the request's index (PrefLab seeds one
    /// stream per batch from that seed; vLLM seeds each request, so the settings are the same and the draws are not).
    static func requests(policy: Policy, prompts: [[Int32]], maxTokens: Int, options: SamplingOptions) -> [VLLMRequest] {
        prompts.enumerated().map { i, ids in
            VLLMRequest(promptTokenIds: ids.map(Int.init), maxTokens: maxTokens, temperature: options.temperature,
                        topP: options.topP, seed: options.seed &+ UInt64(i), stopTokenIds: [Int(policy.codec.eos)])
        }
    }

    /// Text mode: one request per sample, each prompt's messages `samplesPerPrompt` times in a row, the node's
    /// `max_new_tokens` (the script fits it beside the batch's longest prompt as `Policy.fitted` does) and the same
    /// settings and per-request seeds as `requests`; the model's own EOS is the stop.
    static func textRequests(prompts: [Prompt], samplesPerPrompt: Int, options: SamplingOptions) -> [VLLMRequest] {
        prompts.flatMap { Array(repeating: $0.engineMessages, count: max(1, samplesPerPrompt)) }.enumerated().map { i, messages in
            VLLMRequest(messages: messages, maxTokens: options.maxNewTokens, temperature: options.temperature,
                        topP: options.topP, seed: options.seed &+ UInt64(i))
        }
    }

    /// Scoring requests for `pairs` (prompt + response, the model's own ids): the response's summed log-prob, as the
    /// benchmarks' TruthfulQA requests score a continuation.
    static func scoring(_ pairs: [SequencePair]) -> [VLLMRequest] {
        pairs.map { p in
            VLLMRequest(promptTokenIds: (p.prompt + p.response).map(Int.init), maxTokens: 1, temperature: 0, topP: 1, seed: 0,
                        stopTokenIds: [], scoreTokens: p.response.count)
        }
    }

    /// Text-mode scoring requests: each item's messages and response, scored by Contrastive Distillation's rule in the
    /// model's own tokenizer (vllm_generate.py); nothing is sampled.
    static func textScoring(_ items: [EngineLogLikelihoods.Item]) -> [VLLMRequest] {
        items.map { VLLMRequest(messages: Prompt(messages: $0.messages).engineMessages, response: $0.response) }
    }

    /// Text-mode completions as samples: vLLM's text, and the ids (prompt as fitted, response with the EOS a finished
    /// sample ended with) in the model's own vocabulary — their count is the response length; PrefLab reads no id.
    static func textSamples(_ completions: [VLLMCompletion]) throws -> [Sample] {
        try completions.enumerated().map { i, c in
            guard let text = c.text, let prompt = c.promptTokenIds else {
                throw EngineLaunchError("vLLM's text-mode completion \(i + 1) has no `text` or `prompt_token_ids`: vllm_generate.py answered another mode")
            }
            return Sample(pair: SequencePair(prompt: prompt.map(Int32.init), response: c.tokenIds.map(Int32.init)),
                          text: text, hitLengthLimit: c.finishReason != "stop")
        }
    }

    /// The completions as samples of `prompts` (the fitted ids they answer), decoded as PrefLab decodes its own.
    static func samples(policy: Policy, prompts: [[Int32]], completions: [VLLMCompletion]) -> [Sample] {
        let eos = policy.codec.eos
        return zip(prompts, completions).map { prompt, c in
            // PrefLab keeps the end-of-turn token of a finished sample (its pair scores as sampled).
            var ids = c.tokenIds.map(Int32.init)
            if c.finishReason == "stop", ids.last != eos { ids.append(eos) }
            return policy.sample(prompt: prompt, generated: ids)
        }
    }
}

/// PrefLab's side of a sampling node generated by vLLM: the embedded runner's own body with the vLLM sampler.
public struct SampledGeneration: GenerationInputs {
    let body: @Sendable (NodeContext, Sampler) throws -> [String: Double]

    public static let goldReward = SampledGeneration(body: GoldRewardStage.evaluate)
    public static let bestOfN = SampledGeneration(body: BestOfNStage.evaluate)
    public static let categoryScores = SampledGeneration(body: CategoryScoresStage.evaluate)
    public static let taskPreferences = SampledGeneration(body: TaskPreferencesStage.evaluate)

    /// Every sampling kind the vLLM bridge runs, by kind.
    public static let all: [String: SampledGeneration] = [
        "gold_reward": goldReward, "best_of_n": bestOfN, "category_scores": categoryScores, "task_preferences": taskPreferences,
    ]

    public func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion]) throws -> [String: Double] {
        try body(context, .vllm(generate))
    }

    public func run(_ context: NodeContext, generate: @escaping (GenerationBatch) throws -> [VLLMCompletion],
                    score: @escaping ([ScoreItem]) throws -> [Double]) throws -> [String: Double] {
        try body(context, .vllm(generate, score: score))
    }
}
