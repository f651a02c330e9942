import Foundation

/// Reads and writes any `Codable` value as a JSON file (e.g. a model's `config.json`).
public enum ConfigJSON {
    /// Writes `value` as pretty, key-sorted JSON, atomically.
    public static func write<T: Encodable>(_ value: T, to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data: Data
        do { data = try encoder.encode(value) } catch {
            throw CheckpointError(file: url.path, problem: "cannot encode \(T.self): \(error)")
        }
        try AtomicFile.write(data + Data("\n".utf8), to: url)
    }

    /// Reads a `T` from a JSON file; errors name the file and the offending key path.
    public static func read<T: Decodable>(_ type: T.Type, from url: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError(file: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw CheckpointError(file: url.path, problem: "not a valid \(T.self): \(describe(error))")
        } catch {
            throw CheckpointError(file: url.path, problem: "not a valid \(T.self): \(error)")
        }
    }

    /// A one-line account of a decoding error: the key path and what was wrong there.
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.isEmpty ? "top level" : keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, ctx): return "missing key \"\(key.stringValue)\" at \(path(ctx.codingPath))"
        case let .typeMismatch(type, ctx): return "expected \(type) at \(path(ctx.codingPath)): \(ctx.debugDescription)"
        case let .valueNotFound(type, ctx): return "expected \(type) at \(path(ctx.codingPath)), found null"
        case let .dataCorrupted(ctx): return "\(ctx.debugDescription) at \(path(ctx.codingPath))"
        @unknown default: return "\(error)"
        }
    }
}

/// The fields of a Hugging Face `LlamaForCausalLM` `config.json` that shape the model.
///
/// Decoding follows `transformers.LlamaConfig` defaults for absent keys (num_key_value_heads =
/// num_attention_heads, max_position_embeddings 2048, rope_theta 10000, rms_norm_eps 1e-6,
/// tie_word_embeddings false) and refuses `rope_scaling`, which the engine does not implement.
/// Encoding adds `architectures`, `model_type`, `hidden_act` so HF tools accept the file.
public struct HFLlamaConfig: Codable, Equatable, Sendable {
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
    /// Rotary base (`rope_theta`).
    public var ropeTheta: Double
    /// RMSNorm epsilon (`rms_norm_eps`).
    public var rmsNormEps: Double
    /// Whether `lm_head` shares the embedding matrix (`tie_word_embeddings`).
    public var tieWordEmbeddings: Bool
    /// Begin-of-sequence id (`bos_token_id`), if given.
    public var bosTokenId: Int?
    /// End-of-sequence id (`eos_token_id`), if given.
    public var eosTokenId: Int?

    public init(hiddenSize: Int, numHiddenLayers: Int, numAttentionHeads: Int, numKeyValueHeads: Int,
                intermediateSize: Int, vocabSize: Int, maxPositionEmbeddings: Int, ropeTheta: Double,
                rmsNormEps: Double, tieWordEmbeddings: Bool, bosTokenId: Int? = nil, eosTokenId: Int? = nil) {
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
        case bosTokenId = "bos_token_id", eosTokenId = "eos_token_id"
        case architectures, modelType = "model_type", hiddenAct = "hidden_act", ropeScaling = "rope_scaling"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        numKeyValueHeads = try c.decodeIfPresent(Int.self, forKey: .numKeyValueHeads) ?? numAttentionHeads
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 2048
        ropeTheta = try c.decodeIfPresent(Double.self, forKey: .ropeTheta) ?? 10_000
        rmsNormEps = try c.decodeIfPresent(Double.self, forKey: .rmsNormEps) ?? 1e-6
        tieWordEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tieWordEmbeddings) ?? false
        bosTokenId = try? c.decodeIfPresent(Int.self, forKey: .bosTokenId)  // HF allows a list here; only an int is kept
        eosTokenId = try? c.decodeIfPresent(Int.self, forKey: .eosTokenId)
        if let act = try c.decodeIfPresent(String.self, forKey: .hiddenAct), act != "silu" {
            throw DecodingError.dataCorruptedError(forKey: .hiddenAct, in: c, debugDescription: "hidden_act \"\(act)\" is not supported (only silu)")
        }
        if (try? c.decodeNil(forKey: .ropeScaling)) == false {
            throw DecodingError.dataCorruptedError(forKey: .ropeScaling, in: c, debugDescription: "rope_scaling is not supported (must be null or absent)")
        }
        let p = problems
        if !p.isEmpty {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: p.joined(separator: "; ")))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(["LlamaForCausalLM"], forKey: .architectures)
        try c.encode("llama", forKey: .modelType)
        try c.encode("silu", forKey: .hiddenAct)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(numHiddenLayers, forKey: .numHiddenLayers)
        try c.encode(numAttentionHeads, forKey: .numAttentionHeads)
        try c.encode(numKeyValueHeads, forKey: .numKeyValueHeads)
        try c.encode(intermediateSize, forKey: .intermediateSize)
        try c.encode(vocabSize, forKey: .vocabSize)
        try c.encode(maxPositionEmbeddings, forKey: .maxPositionEmbeddings)
        try c.encode(ropeTheta, forKey: .ropeTheta)
        try c.encode(rmsNormEps, forKey: .rmsNormEps)
        try c.encode(tieWordEmbeddings, forKey: .tieWordEmbeddings)
        try c.encodeIfPresent(bosTokenId, forKey: .bosTokenId)
        try c.encodeIfPresent(eosTokenId, forKey: .eosTokenId)
    }
}
