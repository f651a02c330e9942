import Checkpoint
import Foundation
import Llama
import Preference
import Randomness

/// A model to look at outside a recipe (`preflab generate`, `score`, `tokenize`): a model node's folder,
/// a Hugging Face folder or a GGUF file, with its tokenizer and chat template.
///
/// Text is used as given (`chat: false`, a raw continuation) or rendered as one user turn with the
/// model's chat template (`chat: true`, the response then closed with end-of-turn as the trainers score it).
public struct ModelProbe {
    let model: LlamaModel
    let codec: TokenizerCodec

    /// True for a scalar-head (reward or value) model.
    public var isRewardModel: Bool { model.head == .scalar }
    /// Longest sequence the loaded copy holds.
    public var window: Int { model.config.maxSeqLen }

    /// Loads `path`: a `.gguf` file, or a folder (a node's, in either layout, or an HF folder).
    /// `maxSeqLen` caps the window (GGUF default 512; folders default to what they declare).
    public static func load(_ path: URL, maxSeqLen: Int?) throws -> ModelProbe {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir) else {
            throw StageError("model", "\(path.path) does not exist (expected a .gguf file, an HF folder or a node)")
        }
        if !isDir.boolValue {
            let policy = try Pretrained.policy(gguf: path, maxSeqLen: maxSeqLen ?? 512)
            guard let codec = policy.codec as? TokenizerCodec else { throw StageError("model", "\(path.path) has no tokenizer") }
            return ModelProbe(model: policy.model, codec: codec)
        }
        if maxSeqLen == nil || FileManager.default.fileExists(atPath: path.appendingPathComponent(ModelArtifact.Legacy.headFile).path) {
            let (model, codec) = try ModelArtifact.load(from: path)
            return ModelProbe(model: model, codec: codec)
        }
        let (model, codec) = try HFModelFolder.read(from: path, maxSeqLen: maxSeqLen)
        return ModelProbe(model: model, codec: codec)
    }

    /// One token: its id, its vocabulary entry and the text it decodes to.
    public struct Token: Codable, Equatable {
        public var id: Int32
        public var piece: String
        public var text: String
        /// log p(token | everything before it); set by `score`.
        public var logprob: Double?
    }

    /// The ids `text` becomes (raw, or as a rendered one-turn chat prompt).
    public func tokenize(_ text: String, chat: Bool) -> [Token] {
        tokens(chat ? codec.promptTokens(Prompt(text)) : codec.encode(text))
    }

    private func tokens(_ ids: [Int32]) -> [Token] {
        ids.map { Token(id: $0, piece: codec.tokenizer.token(of: $0) ?? "", text: codec.tokenizer.decode([$0]), logprob: nil) }
    }

    /// A continuation of `prompt`.
    public struct Generation: Codable {
        public var promptTokens: Int
        public var ids: [Int32]
        /// The decoded continuation (end-of-sequence left out).
        public var text: String
        /// True when the model ended its text; false when `maxNewTokens` (or the window) stopped it.
        public var ended: Bool
    }

    /// Generates up to `maxNewTokens` (greedy at temperature 0), with draws from `seed` otherwise.
    public func generate(prompt: String, chat: Bool, maxNewTokens: Int, temperature: Float, topP: Float,
                         seed: UInt64) throws -> Generation {
        guard model.head == .lm else { throw StageError("generate", "a reward model has no language-model head; use `preflab score`") }
        let ids = try promptIDs(prompt, chat: chat)
        guard ids.count < window else { throw StageError("generate", "the prompt is \(ids.count) tokens; the window holds \(window) (--max-seq-len)") }
        var rng = SeededRandom(seed: seed)
        let new = model.generate(prompts: [ids], maxNewTokens: min(maxNewTokens, window - ids.count),
                                 temperature: temperature, topP: topP, eos: codec.eos, rng: &rng)[0]
        return Generation(promptTokens: ids.count, ids: new, text: codec.decode(new), ended: new.last == codec.eos)
    }

    /// How a model rates a response to a prompt.
    public struct Score: Codable {
        public var promptTokens: Int
        /// The response's tokens with their log-probs (policies), or without (reward models).
        public var tokens: [Token]
        /// Σ log p over the response (policies).
        public var total: Double?
        /// The scalar head's output at the last token (reward models).
        public var reward: Double?
    }

    /// Log-probs of `response` after `prompt` (a policy), or the reward (a reward model). In chat mode the
    /// response is closed with end-of-turn, as the trainers score it.
    public func score(prompt: String, response: String, chat: Bool) throws -> Score {
        let pair = SequencePair(prompt: try promptIDs(prompt, chat: chat), response: codec.encode(response) + (chat ? [codec.eos] : []))
        guard pair.prompt.count + pair.response.count <= window else {
            throw StageError("score", "prompt and response are \(pair.prompt.count + pair.response.count) tokens; the window holds \(window) (--max-seq-len)")
        }
        var result = Score(promptTokens: pair.prompt.count, tokens: tokens(pair.response), total: nil, reward: nil)
        if isRewardModel {
            result.reward = try RewardModel(model: model, codec: codec).scores([pair])[0]
            return result
        }
        let enc = try EncodedBatch([pair], pad: codec.pad, maxSeqLen: window)
        let perToken = model.tokenLogProbs(enc.batch, keepActivations: false)  // (1, T): log p(x_t | x_<t)
        for i in result.tokens.indices { result.tokens[i].logprob = Double(perToken[enc.responseStart[0] + i]) }
        result.total = result.tokens.reduce(0) { $0 + ($1.logprob ?? 0) }
        return result
    }

    private func promptIDs(_ prompt: String, chat: Bool) throws -> [Int32] {
        let ids = chat ? codec.promptTokens(Prompt(prompt)) : codec.encode(prompt)
        guard !ids.isEmpty else { throw StageError("model", "the prompt is empty; give some text (or --chat)") }
        return ids
    }
}
