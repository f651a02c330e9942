import Randomness

/// Scores a response given a prompt under a language model: what Contrastive Distillation compares.
public protocol SequenceScorer: Sendable {
    /// Mean over the response's tokens of log p(token | prompt, earlier response tokens).
    func meanLogLikelihood(prompt: [Int32], response: [Int32]) -> Double
}

/// The UTF-8 bytes of the text as ids 0...255: a tokenizer-free codec for byte-level models.
public struct UTF8ByteCodec: TextCodec {
    public init() {}
    public func encode(_ text: String) -> [Int32] { text.utf8.map { Int32($0) } }
    public func decode(_ ids: [Int32]) -> String {
        String(decoding: ids.compactMap { (0...255).contains($0) ? UInt8($0) : nil }, as: UTF8.self)
    }
    /// Id 256 closes a response; 257 pads (byte models have a 258-token vocabulary).
    public var eos: Int32 { 256 }
    public var pad: Int32 { 257 }
    /// The last user turn's bytes: byte models score plain continuations, with no chat template.
    public func promptTokens(_ p: Prompt) -> [Int32] { encode(p.lastUserText) }
}

/// Contrastive Distillation's two mean log-likelihoods of a response (`SequenceScorer`'s quantity): PrefLab's own
/// scoring models, or an engine's scores of the same quantity (`EngineLogLikelihoods`).
public protocol ContrastiveScorers: Sendable {
    /// The mean log-likelihood of `response` after `prompt` under the large and the small model.
    func meanLogLikelihoods(prompt: Prompt, response: String) -> (large: Double, small: Double)
}

/// PrefLab's own scorers over its codec: the prompt rendered with the chat template (`promptTokens`, as the scorers
/// saw it in training), the response's plain tokens (no end-of-turn); an empty response scores 0 under both.
public struct CodecScorers: ContrastiveScorers {
    let large: any SequenceScorer, small: any SequenceScorer, codec: any TextCodec

    public init(large: any SequenceScorer, small: any SequenceScorer, codec: any TextCodec) {
        (self.large, self.small, self.codec) = (large, small, codec)
    }

    public func meanLogLikelihoods(prompt: Prompt, response: String) -> (large: Double, small: Double) {
        let p = codec.promptTokens(prompt), r = codec.encode(response)
        guard !r.isEmpty else { return (0, 0) }
        return (large.meanLogLikelihood(prompt: p, response: r), small.meanLogLikelihood(prompt: p, response: r))
    }
}

/// Contrastive Distillation (D2PO §4): R* = mean log-likelihood of the response under a larger
/// model minus under a smaller one, so text the large model likes and the small one does not wins.
///
/// The paper uses sums of log-probabilities under OPT-1.3b and OPT-125m; we use per-token means
/// so that length alone is not rewarded. An empty response (no tokens) scores 0.
/// Prompts are sentence prefixes of 5–15 words; the demonstration for a prompt is the rest of
/// its sentence (the true continuation), which both models will find likely: fluent, not optimal.
/// The prompt is encoded with the codec's chat template (`promptTokens`), as the scorers saw it in training; models
/// PrefLab does not read are scored by the same rule in their engine (`EngineLogLikelihoods`).
///
/// A task made with `init(sentences:)` has prompts and demonstrations but no scorers (what
/// training the scorers themselves needs); calling `reward` on it is a programming error.
public struct ContrastiveDistillationTask: GoldTask {
    public let name = "contrastive_distillation"
    let scorers: (any ContrastiveScorers)?
    let sentences: [String]

    /// `sentences`: the source of prefixes (e.g. `Corpus.sentences`); those under 7 words are skipped.
    public init(large: any SequenceScorer, small: any SequenceScorer, codec: any TextCodec, sentences: [String]) {
        self.init(scorers: CodecScorers(large: large, small: small, codec: codec), sentences: sentences)
    }

    /// R* from `scorers`' log-likelihoods (PrefLab's models, or an engine's scores of them).
    public init(scorers: any ContrastiveScorers, sentences: [String]) {
        self.scorers = scorers
        self.sentences = sentences.filter { $0.split(separator: " ").count >= 7 }
    }

    /// The text side only: prompts and demonstrations, no reward.
    public init(sentences: [String]) {
        self.scorers = nil
        self.sentences = sentences.filter { $0.split(separator: " ").count >= 7 }
    }

    /// Whether `reward` can be called.
    public var hasScorers: Bool { scorers != nil }

    public func prompts(count: Int, split: TaskSplit, seed: UInt64) -> [Prompt] {
        splitPairs(count: count, split: split, seed: seed).map { Prompt($0.prefix, source: name) }
    }

    public func reward(prompt: Prompt, response: String) -> Double {
        guard let scorers else {
            preconditionFailure("contrastive_distillation: reward needs the large and small scoring models")
        }
        let l = scorers.meanLogLikelihoods(prompt: prompt, response: response)
        return l.large - l.small
    }

    public func demonstrations(count: Int, seed: UInt64) -> [(prompt: Prompt, response: String)] {
        splitPairs(count: count, split: .train, seed: seed).map { (Prompt($0.prefix, source: name), $0.rest) }
    }

    /// (prefix, continuation) pairs of `split`: sentences are assigned to a split by stable hash,
    /// then drawn in a seeded order, and cut after a seeded 5...min(15, words − 2) words.
    func splitPairs(count: Int, split: TaskSplit, seed: UInt64) -> [(prefix: String, rest: String)] {
        let pool = sentences.filter { TaskText.isHeldOut($0) == (split == .heldOut) }
        guard !pool.isEmpty, count > 0 else { return [] }
        var rng = SeededRandom(seed: seed).derived("contrastive/" + split.rawValue)
        let order = Array(pool.indices).shuffled(using: &rng)
        return (0..<count).map { i in
            let words = pool[order[i % order.count]].split(separator: " ")
            let cut = 5 + rng.nextInt(max(1, min(15, words.count - 2) - 4))
            return (words[..<cut].joined(separator: " "), words[cut...].joined(separator: " "))
        }
    }
}
