import Foundation

/// Contrastive Distillation's log-likelihoods computed by an engine from the scorers' own folders (models PrefLab does
/// not read: a site-named OPT), by the rule `LlamaSequenceScorer` and `CodecScorers` apply to PrefLab's models, stated
/// once on the engines' side (trl_text.py's `response_logprob_ids`, `summed_logprob`): the prompt formatted and tokenised by the scorer's
/// own tokenizer, the response's plain tokens after it, the last `window` tokens kept, the mean log-probability of the
/// response's tokens (0 for none).
///
/// `GoldTask.reward` cannot wait on an engine, so the scores of a batch are asked for before its rewards are read:
/// `prepare` sends every (prompt, response) not yet scored to `score` (one engine call per scorer for the batch), and
/// `meanLogLikelihoods` reads them back. Reading one that was never prepared is a programming error.
public final class EngineLogLikelihoods: ContrastiveScorers, @unchecked Sendable {
    /// One text to score: the prompt's turns and the response.
    public struct Item: Hashable, Sendable {
        public var messages: [ChatMessage]
        public var response: String

        public init(prompt: Prompt, response: String) {
            self.messages = prompt.messages
            self.response = response
        }
    }

    /// Mean log-likelihoods of the items under the large and the small scorer, in item order.
    public typealias Score = ([Item]) throws -> (large: [Double], small: [Double])

    private let score: Score
    private let lock = NSLock()
    private var known: [Item: (large: Double, small: Double)] = [:]

    public init(score: @escaping Score) {
        self.score = score
    }

    /// Scores the items not scored yet (each once, in first-seen order).
    public func prepare(_ items: [Item]) throws {
        var seen = Set<Item>()
        let fresh = lock.withLock { items.filter { known[$0] == nil && seen.insert($0).inserted } }
        guard !fresh.isEmpty else { return }
        let (large, small) = try score(fresh)
        guard large.count == fresh.count, small.count == fresh.count else {
            throw TaskError("contrastive_distillation: the engine scored \(large.count) and \(small.count) of \(fresh.count) responses")
        }
        lock.withLock { for (i, item) in fresh.enumerated() { known[item] = (large[i], small[i]) } }
    }

    /// Adds scores computed elsewhere (an engine's script that scored the item itself: `preflab annotate`).
    public func insert(_ item: Item, large: Double, small: Double) {
        lock.withLock { known[item] = (large, small) }
    }

    public func meanLogLikelihoods(prompt: Prompt, response: String) -> (large: Double, small: Double) {
        guard let scores = lock.withLock({ known[Item(prompt: prompt, response: response)] }) else {
            preconditionFailure("contrastive_distillation: a response's reward was read before its engine scores were prepared")
        }
        return scores
    }
}

extension ContrastiveDistillationTask {
    /// Has the engine score `items` before their rewards are read; nothing to do with PrefLab's own scorers.
    public func prepare(_ items: [EngineLogLikelihoods.Item]) throws {
        try (scorers as? EngineLogLikelihoods)?.prepare(items)
    }
}

/// Readies a task's rewards of `items` before they are read: Contrastive Distillation scored by an engine asks it
/// here (one batch); every other task computes its reward when asked.
public func prepareRewards(_ task: any GoldTask, _ items: [EngineLogLikelihoods.Item]) throws {
    try (task as? ContrastiveDistillationTask)?.prepare(items)
}
