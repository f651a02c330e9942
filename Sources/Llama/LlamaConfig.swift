/// Shape of a Llama-layout decoder-only transformer.
public struct LlamaConfig: Codable, Hashable, Sendable {
    /// Number of token ids.
    public var vocabSize: Int
    /// Width of the residual stream (C).
    public var dModel: Int
    /// Number of transformer blocks.
    public var nLayers: Int
    /// Number of query heads; dModel must be a multiple of it.
    public var nHeads: Int
    /// Number of key/value heads (grouped-query attention); nHeads must be a multiple of it.
    public var nKVHeads: Int
    /// Inner width of the SwiGLU MLP.
    public var hidden: Int
    /// Longest sequence the model accepts (rotary tables are built for it).
    public var maxSeqLen: Int
    /// Rotary embedding base (theta).
    public var ropeBase: Float
    /// Epsilon inside RMSNorm's square root.
    public var normEps: Float
    /// Whether the LM head reuses the token embedding matrix.
    public var tiedEmbeddings: Bool

    public init(vocabSize: Int, dModel: Int, nLayers: Int, nHeads: Int, nKVHeads: Int, hidden: Int,
                maxSeqLen: Int, ropeBase: Float = 10_000, normEps: Float = 1e-5, tiedEmbeddings: Bool = false) {
        self.vocabSize = vocabSize
        self.dModel = dModel
        self.nLayers = nLayers
        self.nHeads = nHeads
        self.nKVHeads = nKVHeads
        self.hidden = hidden
        self.maxSeqLen = maxSeqLen
        self.ropeBase = ropeBase
        self.normEps = normEps
        self.tiedEmbeddings = tiedEmbeddings
    }

    /// Width of one attention head.
    public var headDim: Int { dModel / nHeads }
    /// Width of the key (and value) projections: nKVHeads * headDim.
    public var kvDim: Int { nKVHeads * headDim }

    /// Problems with this configuration, empty when it is valid.
    public var problems: [String] {
        var p: [String] = []
        for (name, v) in [("vocabSize", vocabSize), ("dModel", dModel), ("nLayers", nLayers), ("nHeads", nHeads),
                          ("nKVHeads", nKVHeads), ("hidden", hidden), ("maxSeqLen", maxSeqLen)] where v < 1 {
            p.append("\(name) must be at least 1, found \(v)")
        }
        if p.isEmpty {
            if dModel % nHeads != 0 { p.append("dModel (\(dModel)) must be a multiple of nHeads (\(nHeads))") }
            if nHeads % nKVHeads != 0 { p.append("nHeads (\(nHeads)) must be a multiple of nKVHeads (\(nKVHeads))") }
            if dModel % nHeads == 0 && (dModel / nHeads) % 2 != 0 {
                p.append("head dimension dModel/nHeads (\(dModel / nHeads)) must be even for rotary embeddings")
            }
        }
        if !(ropeBase > 1) { p.append("ropeBase must be greater than 1, found \(ropeBase)") }
        if !(normEps > 0) { p.append("normEps must be positive, found \(normEps)") }
        return p
    }

    /// Throws `LlamaError.invalidConfig` listing every problem.
    public func validate() throws {
        let p = problems
        if !p.isEmpty { throw LlamaError.invalidConfig(p) }
    }

    private enum CodingKeys: String, CodingKey {
        case vocabSize, dModel, nLayers, nHeads, nKVHeads, hidden, maxSeqLen, ropeBase, normEps, tiedEmbeddings
    }

    /// Decodes and validates; ropeBase, normEps and tiedEmbeddings may be omitted (10000, 1e-5, false).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        dModel = try c.decode(Int.self, forKey: .dModel)
        nLayers = try c.decode(Int.self, forKey: .nLayers)
        nHeads = try c.decode(Int.self, forKey: .nHeads)
        nKVHeads = try c.decodeIfPresent(Int.self, forKey: .nKVHeads) ?? nHeads
        hidden = try c.decode(Int.self, forKey: .hidden)
        maxSeqLen = try c.decode(Int.self, forKey: .maxSeqLen)
        ropeBase = try c.decodeIfPresent(Float.self, forKey: .ropeBase) ?? 10_000
        normEps = try c.decodeIfPresent(Float.self, forKey: .normEps) ?? 1e-5
        tiedEmbeddings = try c.decodeIfPresent(Bool.self, forKey: .tiedEmbeddings) ?? false
        let p = problems
        if !p.isEmpty {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath,
                                                    debugDescription: "invalid LlamaConfig: " + p.joined(separator: "; ")))
        }
    }
}

/// Which output head a model carries.
public enum HeadKind: String, Codable, Sendable {
    /// Next-token logits over the vocabulary.
    case lm
    /// One scalar per position (reward or value).
    case scalar
}

/// Errors from building or loading models.
public enum LlamaError: Error, CustomStringConvertible, Equatable {
    case invalidConfig([String])
    case missingTensor(String)
    case unexpectedTensor(String)
    case shapeMismatch(name: String, expected: [Int], found: [Int])
    case precisionUnavailable(String)

    public var description: String {
        switch self {
        case .invalidConfig(let p): return "invalid Llama configuration: " + p.joined(separator: "; ")
        case .missingTensor(let n): return "missing tensor '\(n)' when loading model weights"
        case .unexpectedTensor(let n): return "unexpected tensor '\(n)': the model has no parameter of that name"
        case let .shapeMismatch(n, e, f): return "tensor '\(n)': expected shape \(e), found \(f)"
        case .precisionUnavailable(let why): return "precision bf16 cannot run here: \(why)"
        }
    }
}

/// A right-padded batch of token sequences.
public struct TokenBatch: Sendable {
    /// (B, T) token ids, row-major, right-padded.
    public var tokens: [Int32]
    /// (B) number of real tokens in each row.
    public var lengths: [Int]
    /// B.
    public var batchSize: Int
    /// T: the longest sequence.
    public var seqLen: Int

    /// Pads every sequence on the right with `pad` to the longest length.
    public init(sequences: [[Int32]], pad: Int32) {
        batchSize = sequences.count
        seqLen = sequences.map(\.count).max() ?? 0
        lengths = sequences.map(\.count)
        tokens = []
        tokens.reserveCapacity(batchSize * seqLen)
        for s in sequences {
            tokens += s
            tokens += [Int32](repeating: pad, count: seqLen - s.count)
        }
    }
}
