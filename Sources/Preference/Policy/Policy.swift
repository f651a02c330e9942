import Llama
import Randomness

/// A prompt and a response as token ids: what every model in PrefLab scores.
public struct SequencePair: Hashable, Sendable {
    /// Rendered prompt (chat template and generation prompt applied).
    public var prompt: [Int32]
    /// Response ids; ends with EOS when the response finished naturally.
    public var response: [Int32]

    public init(prompt: [Int32], response: [Int32]) {
        self.prompt = prompt
        self.response = response
    }

    /// The pair as it is trained in a window of `maxSeqLen` tokens: the response cut on the right to
    /// `maxSeqLen - 1`, then the prompt cut on the left to what remains.
    public func fitted(maxSeqLen: Int) -> SequencePair {
        let response = Array(self.response.prefix(maxSeqLen - 1))
        return SequencePair(prompt: Array(prompt.suffix(maxSeqLen - response.count)), response: response)
    }
}

/// A padded batch plus where each row's response lies (the loss mask).
public struct EncodedBatch {
    /// (B, T) prompt ++ response, right-padded.
    public var batch: TokenBatch
    /// (B) position of the first response token in each row.
    public var responseStart: [Int]
    /// (B) number of response tokens kept in each row after fitting the model window.
    public var responseLength: [Int]

    /// `items` padded for `model`'s window, after checking that a forward of the batch fits in memory
    /// (`training`: one that keeps activations for backward) — the check `Policy` and `RewardModel` share.
    init(_ items: [SequencePair], pad: Int32, for model: LlamaModel, training: Bool) throws {
        try self.init(items, pad: pad, maxSeqLen: model.config.maxSeqLen)
        try model.checkActivationMemory(batch: batch.batchSize, seqLen: batch.seqLen, training: training)
    }

    /// Fits each pair into `maxSeqLen` tokens (response cut on the right, prompt on the left) and pads.
    public init(_ items: [SequencePair], pad: Int32, maxSeqLen: Int) throws {
        guard maxSeqLen >= 2 else { throw PolicyError.windowTooSmall(maxSeqLen: maxSeqLen, needed: 2) }
        var rows: [[Int32]] = []
        responseStart = []
        responseLength = []
        for (i, item) in items.enumerated() {
            guard !item.prompt.isEmpty else { throw PolicyError.emptyPrompt(index: i) }
            let fit = item.fitted(maxSeqLen: maxSeqLen)
            rows.append(fit.prompt + fit.response)
            responseStart.append(fit.prompt.count)
            responseLength.append(fit.response.count)
        }
        batch = TokenBatch(sequences: rows, pad: pad)
    }

    /// Sums (B, T) token values over each row's response positions, in Double.
    public func responseSums(_ perToken: [Float]) -> [Double] {
        (0..<batch.batchSize).map { b in
            var s = 0.0
            for t in responseStart[b]..<(responseStart[b] + responseLength[b]) { s += Double(perToken[b * batch.seqLen + t]) }
            return s
        }
    }

    /// Spreads one value per row over that row's response positions: the gradient of `responseSums`.
    public func spreadOverResponse(_ perRow: [Double]) -> [Float] {
        var out = [Float](repeating: 0, count: batch.batchSize * batch.seqLen)  // (B, T)
        for b in 0..<batch.batchSize {
            for t in responseStart[b]..<(responseStart[b] + responseLength[b]) { out[b * batch.seqLen + t] = Float(perRow[b]) }
        }
        return out
    }

    /// Index of each row's last real token (where a scalar head reads the reward).
    public var lastIndex: [Int] { (0..<batch.batchSize).map { $0 * batch.seqLen + batch.lengths[$0] - 1 } }
}

/// A sampled response.
public struct Sample: Sendable {
    /// The prompt and the generated ids (EOS kept when produced, so the pair scores as sampled).
    public var pair: SequencePair
    /// Decoded response text, without EOS.
    public var text: String
    /// True when generation stopped at the length limit without producing EOS.
    public var hitLengthLimit: Bool

    /// A sample drawn elsewhere: vLLM's text mode gives the ids in its model's own vocabulary, not PrefLab's.
    public init(pair: SequencePair, text: String, hitLengthLimit: Bool) {
        self.pair = pair
        self.text = text
        self.hitLengthLimit = hitLengthLimit
    }
}

/// What a policy and a reward model share: a model read through its codec, pairs closed with EOS, batches checked
/// for memory before a forward, and gradient-free forwards in chunks of `inferenceChunk` rows.
public protocol CodecModel: AnyObject {
    var model: LlamaModel { get }
    var codec: any TextCodec { get }
    /// Rows per forward pass when no gradient is needed (bounds activation memory).
    var inferenceChunk: Int { get }
}

extension CodecModel {
    /// Prompt and text response as ids; the response is closed with EOS, as a policy should emit it.
    public func pair(_ prompt: Prompt, _ response: String) -> SequencePair {
        SequencePair(prompt: codec.promptTokens(prompt), response: codec.encode(response) + [codec.eos])
    }

    /// Pads `items` for this model's window, after checking that a forward of that batch fits in memory
    /// (`training`: one that keeps activations for backward): an oversized batch fails its node, not the run.
    public func encode(_ items: [SequencePair], training: Bool = false) throws -> EncodedBatch {
        try EncodedBatch(items, pad: codec.pad, for: model, training: training)
    }

    /// `body`'s values for `items` encoded `inferenceChunk` rows at a time, in order.
    func inChunks<T>(_ items: [SequencePair], _ body: (EncodedBatch) throws -> [T]) throws -> [T] {
        var out: [T] = []
        for start in stride(from: 0, to: items.count, by: max(1, inferenceChunk)) {
            out += try body(try encode(Array(items[start..<min(items.count, start + max(1, inferenceChunk))])))
        }
        return out
    }
}

/// A language model with an LM head plus its codec: log-probs of responses, and sampling.
public final class Policy: CodecModel {
    public let model: LlamaModel
    public let codec: any TextCodec
    /// Rows per forward pass when no gradient is needed (bounds activation memory).
    public var inferenceChunk: Int = 16
    /// Prompts per `generate` call (bounds KV-cache memory).
    public var generationChunk: Int = 64

    public init(model: LlamaModel, codec: any TextCodec) throws {
        guard model.head == .lm else { throw PolicyError.wrongHead(role: "policy", expected: "language-model") }
        self.model = model
        self.codec = codec
    }

    /// A copy of this policy with its own weights, frozen (a reference) unless `trainable`.
    public func copy(trainable: Bool = false) -> Policy {
        // The head is checked at init, so the copy's cannot fail.
        Policy(unchecked: model.copy(trainable: trainable), codec: codec)
    }

    private init(unchecked model: LlamaModel, codec: any TextCodec) {
        self.model = model
        self.codec = codec
    }

    /// log π(response | prompt) summed over response tokens, without keeping activations.
    public func sequenceLogProbs(_ items: [SequencePair]) throws -> [Double] {
        try inChunks(items) { enc in enc.responseSums(model.tokenLogProbs(enc.batch, keepActivations: false)) }
    }

    /// Per-token log-probs (B, T) of an encoded batch, keeping activations for `backward`.
    public func tokenLogProbsForTraining(_ enc: EncodedBatch) -> [Float] {
        model.tokenLogProbs(enc.batch, keepActivations: true)
    }

    /// Accumulates gradients of Σ_b dSequence[b] · log π(response_b | prompt_b) (after a training forward).
    public func backward(_ enc: EncodedBatch, dSequence: [Double]) throws {
        try model.backwardTokenLogProbs(enc.spreadOverResponse(dSequence))
    }

    /// Response tokens `sample` allows beside prompts of at most `longestPrompt` tokens; prompts longer
    /// than the window minus this lose their beginning.
    public func responseBudget(longestPrompt: Int, maxNewTokens: Int) -> Int {
        Self.responseBudget(window: model.config.maxSeqLen, longestPrompt: longestPrompt, maxNewTokens: maxNewTokens)
    }

    /// `responseBudget` in a window of `window` tokens; vllm_generate.py's `response_budget` states it for models
    /// PrefLab does not read (VLLMTextModeTests checks the two agree).
    public static func responseBudget(window: Int, longestPrompt: Int, maxNewTokens: Int) -> Int {
        max(1, min(maxNewTokens, max(window - longestPrompt, window / 2), window - 1))
    }

    /// Samples one response per prompt; `rng` is the only randomness.
    ///
    /// Prompt and response share the model window: the response gets `maxNewTokens` when that fits beside
    /// the longest prompt, and never less than half the window; prompts are cut on the left to fit.
    public func sample(_ prompts: [[Int32]], maxNewTokens: Int, temperature: Float, topP: Float,
                       rng: inout SeededRandom) throws -> [Sample] {
        let (fitted, newTokens) = fitted(prompts, maxNewTokens: maxNewTokens)
        var generated: [[Int32]] = []
        // Chunks bound the KV-cache memory; the one generator runs through them in order.
        for lo in stride(from: 0, to: fitted.count, by: max(1, generationChunk)) {
            let chunk = Array(fitted[lo..<min(fitted.count, lo + max(1, generationChunk))])
            try model.checkGenerationMemory(prompts: chunk, maxNewTokens: newTokens)
            generated += model.generate(prompts: chunk, maxNewTokens: newTokens, temperature: temperature, topP: topP,
                                        eos: codec.eos, rng: &rng)
        }
        return zip(fitted, generated).map { sample(prompt: $0, generated: $1) }
    }

    /// The prompts as `sample` feeds them to the model (cut on the left to fit beside the response) and the
    /// response budget: what an outside generator (vLLM) is given to sample under the same settings.
    public func fitted(_ prompts: [[Int32]], maxNewTokens: Int) -> (prompts: [[Int32]], newTokens: Int) {
        let window = model.config.maxSeqLen
        let newTokens = responseBudget(longestPrompt: prompts.map(\.count).max() ?? 0, maxNewTokens: maxNewTokens)
        return (prompts.map { Array($0.suffix(window - newTokens)) }, newTokens)
    }

    /// A sample from the ids generated after `prompt` (EOS kept when produced, so the pair scores as sampled).
    public func sample(prompt: [Int32], generated new: [Int32]) -> Sample {
        let ended = new.last == codec.eos
        let body = ended ? Array(new.dropLast()) : new
        return Sample(pair: SequencePair(prompt: prompt, response: new), text: codec.decode(body), hitLengthLimit: !ended)
    }
}

/// A scalar-head model read at the last token: a Bradley–Terry reward model or a PPO value model.
public final class RewardModel: CodecModel {
    public let model: LlamaModel
    public let codec: any TextCodec
    /// Rows per forward pass when no gradient is needed.
    public var inferenceChunk: Int = 16

    public init(model: LlamaModel, codec: any TextCodec) throws {
        guard model.head == .scalar else { throw PolicyError.wrongHead(role: "reward", expected: "scalar") }
        self.model = model
        self.codec = codec
    }

    /// R(x, y) for each pair, without keeping activations.
    public func scores(_ items: [SequencePair]) throws -> [Double] {
        try inChunks(items) { enc in
            let s = model.scalarOutputs(enc.batch, keepActivations: false)
            return enc.lastIndex.map { Double(s[$0]) }
        }
    }

    /// Scores at the last token, keeping activations for `backward`.
    public func scoresForTraining(_ enc: EncodedBatch) -> [Double] {
        let s = model.scalarOutputs(enc.batch, keepActivations: true)
        return enc.lastIndex.map { Double(s[$0]) }
    }

    /// Accumulates gradients of Σ_b dScores[b] · R(x_b, y_b) (after a training forward).
    public func backward(_ enc: EncodedBatch, dScores: [Double]) throws {
        var d = [Float](repeating: 0, count: enc.batch.batchSize * enc.batch.seqLen)  // (B, T)
        for (b, i) in enc.lastIndex.enumerated() { d[i] = Float(dScores[b]) }
        try model.backwardScalarOutputs(d)
    }

    /// Sets the head bias's gradient to zero, the exact Bradley–Terry gradient there: that loss sees only
    /// score differences. The float sum of a batch's ±dScores left rounding residue (~1e-9) in it, which
    /// Adam's normalisation turned into real steps (two reward-model nodes had drifted to 1.8e-5 and
    /// 3.6e-5); with it zeroed the bias keeps its initial 0, as HF's bias-free score layer expects.
    public func clearBiasGradient() {
        for p in model.parameters where p.name == "score.bias" { p.grad.update(repeating: 0) }
    }
}
