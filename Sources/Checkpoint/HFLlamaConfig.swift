import Foundation

/// The fields of a Hugging Face Llama `config.json` that shape the model, for `LlamaForCausalLM`
/// (a policy) and `LlamaForSequenceClassification` with one label (a reward model).
///
/// Decoding follows `transformers.LlamaConfig` defaults for absent keys (num_key_value_heads =
/// num_attention_heads, max_position_embeddings 2048, rope_theta 10000, rms_norm_eps 1e-6,
/// tie_word_embeddings false, architecture `LlamaForCausalLM`), reads the rotary base from
/// `rope_parameters` (transformers 5) or `rope_theta` (4.x), and refuses what the engine does not
/// implement: other model types, rotary scaling, attention/MLP biases, a `head_dim` other than
/// hidden_size / num_attention_heads, activations other than SiLU. Encoding writes every key both
/// transformers 4.x and 5 read, so `AutoModelForCausalLM.from_pretrained` needs nothing else.
public struct HFLlamaConfig: Codable, Equatable, Sendable {
    /// The model classes PrefLab reads and writes (`architectures[0]`).
    public enum Architecture: String, Codable, Sendable, CaseIterable {
        /// A language model: the policy.
        case causalLM = "LlamaForCausalLM"
        /// A one-label scalar head on the last non-padding token, without bias: the reward model.
        case sequenceClassification = "LlamaForSequenceClassification"
    }

    /// Which head the weights carry (`architectures`).
    public var architecture: Architecture
    /// Width of the residual stream (`hidden_size`).
    public var hiddenSize: Int
    /// Number of decoder blocks (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Number of query heads (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Number of key/value heads (`num_key_value_heads`).
    public var numKeyValueHeads: Int
    /// Inner width of the SwiGLU MLP (`intermediate_size`).
    public var intermediateSize: Int
    /// Number of token ids (`vocab_size`).
    public var vocabSize: Int
    /// Longest sequence (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Rotary base (`rope_theta`, or `rope_parameters.rope_theta`).
    public var ropeTheta: Double
    /// RMSNorm epsilon (`rms_norm_eps`).
    public var rmsNormEps: Double
    /// Whether `lm_head` shares the embedding matrix (`tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// Begin-of-sequence id (`bos_token_id`), if given.
    public var bosTokenId: Int?
    /// End-of-sequence id (`eos_token_id`; the first when a list), if given.
    public var eosTokenId: Int?
    /// Padding id (`pad_token_id`): a sequence-classification model reads its score at the last token
    /// that is not this id, so it must differ from every id a scored sequence ends with.
    public var padTokenId: Int?

    public init(architecture: Architecture = .causalLM, hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int,
                numKeyValueHeads: Int, intermediateSize: Int, vocabSize: Int, maxPositionEmbeddings: Int, ropeTheta: Double,
                rmsNormEps: Double, tieWordEmbeddings: Bool, bosTokenId: Int? = nil, eosTokenId: Int? = nil,
                padTokenId: Int? = nil) {
        self.architecture = architecture
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.numKeyValueHeads = numKeyValueHeads
        self.intermediateSize = intermediateSize
        self.vocabSize = vocabSize
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.ropeTheta = ropeTheta
        self.rmsNormEps = rmsNormEps
        self.tieWordEmbeddings = tieWordEmbeddings
        self.bosTokenId = bosTokenId
        self.eosTokenId = eosTokenId
        self.padTokenId = padTokenId
    }

    /// Width of one attention head.
    public var headDim: Int { hiddenSize / max(1, numAttentionHeads) }

    /// Problems with the shape, empty when it is usable.
    public var problems: [String] {
        var p: [String] = []
        for (key, v) in [("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                         ("num_attention_heads", numAttentionHeads), ("num_key_value_heads", numKeyValueHeads),
                         ("intermediate_size", intermediateSize), ("vocab_size", vocabSize),
                         ("max_position_embeddings", maxPositionEmbeddings)] where v < 1 {
            p.append("\(key) must be at least 1, found \(v)")
        }
        if p.isEmpty && hiddenSize % numAttentionHeads != 0 {
            p.append("hidden_size \(hiddenSize) is not a multiple of num_attention_heads \(numAttentionHeads)")
        }
        if p.isEmpty && numAttentionHeads % numKeyValueHeads != 0 {
            p.append("num_attention_heads \(numAttentionHeads) is not a multiple of num_key_value_heads \(numKeyValueHeads)")
        }
        return p
    }

    enum CodingKeys: String, CodingKey {
        case hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", numKeyValueHeads = "num_key_value_heads"
        case intermediateSize = "intermediate_size", vocabSize = "vocab_size"
        case maxPositionEmbeddings = "max_position_embeddings", ropeTheta = "rope_theta"
        case rmsNormEps = "rms_norm_eps", tieWordEmbeddings = "tie_word_embeddings"
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id", padTokenId = "pad_token_id"
        case architectures, modelType = "model_type", hiddenAct = "hidden_act", ropeScaling = "rope_scaling"
        case ropeParameters = "rope_parameters", headDim = "head_dim", attentionBias = "attention_bias", mlpBias = "mlp_bias"
        case id2label, label2id, numLabels = "num_labels", torchDtype = "torch_dtype"
        case attentionDropout = "attention_dropout", initializerRange = "initializer_range", useCache = "use_cache"
        case pretrainingTP = "pretraining_tp"
    }

    /// transformers 5's rotary block; only the default rotary embedding is implemented.
    private struct RopeParameters: Codable {
        var ropeType: String?
        var type: String?
        var ropeTheta: Double?
        enum CodingKeys: String, CodingKey { case ropeType = "rope_type", type, ropeTheta = "rope_theta" }
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func refuse(_ key: CodingKeys, _ message: String) -> DecodingError {
            DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: message)
        }
        if let type = try c.decodeIfPresent(String.self, forKey: .modelType), type != "llama" {
            throw refuse(.modelType, "model_type \"\(type)\" is not supported (only llama)")
        }
        architecture = .causalLM
        if let names = try c.decodeIfPresent([String].self, forKey: .architectures), let first = names.first {
            guard let a = Architecture(rawValue: first) else {
                throw refuse(.architectures, "architecture \"\(first)\" is not supported (\(Architecture.allCases.map(\.rawValue).joined(separator: " or ")))")
            }
            architecture = a
        }
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        let rope = try c.decodeIfPresent(RopeParameters.self, forKey: .ropeParameters)
        if let kind = rope?.ropeType ?? rope?.type, kind != "default" {
            throw refuse(.ropeParameters, "rope_parameters.rope_type \"\(kind)\" is not supported (only default)")
        }
        ropeTheta = try rope?.ropeTheta ?? c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10_000
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        bosTokenId = Self.firstID(c, .bosTokenId)
        eosTokenId = Self.firstID(c, .eosTokenId)
        padTokenId = Self.firstID(c, .padTokenId)
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "silu" {
            throw refuse(.hiddenAct, "hidden_act \"\(act)\" is not supported (only silu)")
        }
        if (try? c.decodeNil(forKey: .ropeScaling)) == false {
            throw refuse(.ropeScaling, "rope_scaling is not supported (must be null or absent)")
        }
        for key in [CodingKeys.attentionBias, .mlpBias] where try c.decodeIfPresent(Bool.self, forKey: key) == true {
            throw refuse(key, "\(key.rawValue) true is not supported (the engine's projections have no bias)")
        }
        let p = problems
        if !p.isEmpty {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: p.joined(separator: "; ")))
        }
        if let hd = try c.decodeIfPresent(Int.self, forKey: .headDim), hd != headDim {
            throw refuse(.headDim, "head_dim \(hd) differs from hidden_size / num_attention_heads = \(headDim), which the engine requires")
        }
        if architecture == .sequenceClassification {
            let labels = try c.decodeIfPresent([String: String].self, forKey: .id2label)?.count
                ?? c.decodeIfPresent(Int.self, forKey: .numLabels) ?? 2  // transformers' default
            guard labels == 1 else {
                throw refuse(.id2label, "a LlamaForSequenceClassification reward model needs exactly one label, found \(labels)")
            }
        }
    }

    /// An id, or the first of a list of ids (HF allows both for bos/eos/pad); nil when absent or null.
    private static func firstID(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> Int? {
        if let id = try? c.decodeIfPresent(Int.self, forKey: key) { return id }
        return (try? c.decodeIfPresent([Int].self, forKey: key))?.first
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode([architecture.rawValue], forKey: .architectures)
        try c.encode("llama", forKey: .modelType)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(headDim, forKey: .headDim)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        // Both spellings: transformers 4.x reads rope_theta, 5 reads rope_parameters (and converts the other).
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(RopeParameters(ropeType: "default", type: nil, ropeTheta: ropeTheta), forKey: .ropeParameters)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encode(false, forKey: .attentionBias)
        try c.encode(false, forKey: .mlpBias)
        try c.encode(0.0, forKey: .attentionDropout)
        try c.encode(0.02, forKey: .initializerRange)
        try c.encode(1, forKey: .pretrainingTP)
        try c.encode(true, forKey: .useCache)
        try c.encode("float32", forKey: .torchDtype)  // the weights PrefLab writes; 5 reads it as `dtype`
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encodeIfPresent(eosTokenId, forKey: .eosTokenId)
        try c.encodeIfPresent(padTokenId, forKey: .padTokenId)
        if architecture == .sequenceClassification {
            try c.encode(["0": "LABEL_0"], forKey: .id2label)
            try c.encode(["LABEL_0": 0], forKey: .label2id)
        }
    }
}
