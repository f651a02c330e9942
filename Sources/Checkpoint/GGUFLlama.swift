import Foundation
import Tensor

/// The tokenizer a GGUF file carries (`tokenizer.ggml.*`, `tokenizer.chat_template`).
///
/// Checkpoint cannot import Tokenizer; pass these fields to `BPETokenizer.fromGGUF`.
public struct GGUFTokenizerMetadata: Sendable, Equatable {
    /// `tokenizer.ggml.model` ("gpt2" for byte-level BPE).
    public var model: String
    /// `tokenizer.ggml.pre`, the pre-tokenizer name ("smollm"), if given.
    public var pre: String?
    /// Token strings by id.
    public var tokens: [String]
    /// Token types by id (1 normal, 3 control, 4 user-defined, ...); empty when absent.
    public var tokenTypes: [Int32]
    /// Merge rules "left right", highest priority first.
    public var merges: [String]
    /// Role ids, when given.
    public var bos: Int32?, eos: Int32?, pad: Int32?, unk: Int32?
    /// Whether llama.cpp prepends BOS when encoding (`tokenizer.ggml.add_bos_token`, default false here).
    public var addBOS: Bool
    /// The Jinja chat template, if any.
    public var chatTemplate: String?
}

/// llama.cpp <-> Hugging Face `LlamaForCausalLM` tensor names and the RoPE row order of Q and K.
public enum LlamaTensorNames {
    private static let global: [String: String] = [
        "token_embd.weight": "model.embed_tokens.weight",
        "output_norm.weight": "model.norm.weight",
        "output.weight": "lm_head.weight",
    ]
    private static let perLayer: [String: String] = [
        "attn_norm.weight": "input_layernorm.weight",
        "ffn_norm.weight": "post_attention_layernorm.weight",
        "attn_q.weight": "self_attn.q_proj.weight",
        "attn_k.weight": "self_attn.k_proj.weight",
        "attn_v.weight": "self_attn.v_proj.weight",
        "attn_output.weight": "self_attn.o_proj.weight",
        "ffn_gate.weight": "mlp.gate_proj.weight",
        "ffn_up.weight": "mlp.up_proj.weight",
        "ffn_down.weight": "mlp.down_proj.weight",
    ]

    /// The HF name of a llama.cpp tensor name (`blk.3.attn_q.weight` -> `model.layers.3.self_attn.q_proj.weight`), or nil.
    public static func hfName(gguf name: String) -> String? {
        if let g = global[name] { return g }
        let parts = name.split(separator: ".", maxSplits: 2)
        guard parts.count == 3, parts[0] == "blk", let layer = Int(parts[1]), layer >= 0,
              let suffix = perLayer[String(parts[2])] else { return nil }
        return "model.layers.\(layer).\(suffix)"
    }

    /// The llama.cpp name of a HF tensor name, or nil.
    public static func ggufName(hf name: String) -> String? {
        if let g = global.first(where: { $0.value == name }) { return g.key }
        let prefix = "model.layers."
        guard name.hasPrefix(prefix) else { return nil }
        let rest = name.dropFirst(prefix.count).split(separator: ".", maxSplits: 1)
        guard rest.count == 2, let layer = Int(rest[0]), layer >= 0,
              let g = perLayer.first(where: { $0.value == String(rest[1]) }) else { return nil }
        return "blk.\(layer).\(g.key)"
    }

    /// Undoes convert_hf_to_gguf's Q/K row permutation: GGUF row h·hd + 2i + j becomes HF row h·hd + j·hd/2 + i.
    ///
    /// llama.cpp rotates adjacent pairs (2i, 2i+1); HF rotates halves (i, i + hd/2). The converter
    /// permutes rows with `reshape(heads, 2, hd/2, in).swapaxes(1, 2)`; this is its inverse.
    public static func unpermuteRoPERows(_ w: Tensor, heads: Int) -> Tensor {
        reorderRows(w, heads: heads) { h, hd, r in h * hd + (r % 2) * (hd / 2) + r / 2 }
    }

    /// The converter's permutation itself (HF -> GGUF row order), for writers and tests.
    public static func permuteRoPERows(_ w: Tensor, heads: Int) -> Tensor {
        reorderRows(w, heads: heads) { h, hd, r in h * hd + (r % (hd / 2)) * 2 + r / (hd / 2) }
    }

    /// Moves source row `h·hd + r` to row `target(h, hd, r)`.
    private static func reorderRows(_ w: Tensor, heads: Int, _ target: (Int, Int, Int) -> Int) -> Tensor {
        let rows = w.shape.first ?? 0
        let cols = rows == 0 ? 0 : w.count / rows
        let hd = rows / heads
        var out = [Float](repeating: 0, count: w.count)  // (rows, cols)
        w.data.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for h in 0..<heads {
                    for r in 0..<hd {
                        let from = (h * hd + r) * cols, to = target(h, hd, r) * cols
                        for c in 0..<cols { dst[to + c] = src[from + c] }
                    }
                }
            }
        }
        return Tensor(shape: w.shape, data: out)
    }
}

extension GGUFFile {
    /// `general.architecture`, if given.
    public var architecture: String? { metadata["general.architecture"]?.string }

    /// The model shape from `llama.*` metadata; tied embeddings when the file has no `output.weight`.
    public func llamaConfig() throws -> HFLlamaConfig {
        guard let arch = architecture else { throw fail("metadata lacks general.architecture") }
        guard arch == "llama" else { throw fail("architecture \"\(arch)\" is not llama") }
        func int(_ key: String) throws -> Int {
            guard let v = metadata["llama." + key]?.int else { throw fail("metadata lacks integer llama.\(key)") }
            return v
        }
        let heads = try int("attention.head_count")
        let config = HFLlamaConfig(
            hiddenSize: try int("embedding_length"), numHiddenLayers: try int("block_count"),
            numAttentionHeads: heads, numKeyValueHeads: metadata["llama.attention.head_count_kv"]?.int ?? heads,
            intermediateSize: try int("feed_forward_length"),
            vocabSize: try metadata["llama.vocab_size"]?.int ?? tokenizerMetadata().tokens.count,
            maxPositionEmbeddings: try int("context_length"),
            ropeTheta: metadata["llama.rope.freq_base"]?.double ?? 10_000,
            rmsNormEps: metadata["llama.attention.layer_norm_rms_epsilon"]?.double ?? 1e-5,
            tieWordEmbeddings: info(named: "output.weight") == nil,
            bosTokenId: metadata["tokenizer.ggml.bos_token_id"]?.int, eosTokenId: metadata["tokenizer.ggml.eos_token_id"]?.int)
        if let problem = config.problems.first { throw fail("llama metadata: \(problem)") }
        if let ropeDims = metadata["llama.rope.dimension_count"]?.int, ropeDims != config.headDim {
            throw fail("llama.rope.dimension_count \(ropeDims) differs from the head size \(config.headDim): partial RoPE is not supported")
        }
        return config
    }

    /// The byte-level BPE tokenizer fields.
    public func tokenizerMetadata() throws -> GGUFTokenizerMetadata {
        func id(_ key: String) -> Int32? { metadata["tokenizer.ggml.\(key)"]?.int.flatMap(Int32.init(exactly:)) }
        guard let model = metadata["tokenizer.ggml.model"]?.string else { throw fail("metadata lacks tokenizer.ggml.model") }
        guard let tokens = metadata["tokenizer.ggml.tokens"]?.strings else { throw fail("metadata lacks tokenizer.ggml.tokens (array of strings)") }
        let types = metadata["tokenizer.ggml.token_type"].map { $0.int32s } ?? []
        guard let tokenTypes = types else { throw fail("tokenizer.ggml.token_type is not an array of integers") }
        let merges = metadata["tokenizer.ggml.merges"].map { $0.strings } ?? []
        guard let mergeList = merges else { throw fail("tokenizer.ggml.merges is not an array of strings") }
        return GGUFTokenizerMetadata(
            model: model, pre: metadata["tokenizer.ggml.pre"]?.string, tokens: tokens, tokenTypes: tokenTypes,
            merges: mergeList, bos: id("bos_token_id"), eos: id("eos_token_id"), pad: id("padding_token_id"),
            unk: id("unknown_token_id"), addBOS: metadata["tokenizer.ggml.add_bos_token"]?.bool ?? false,
            chatTemplate: metadata["tokenizer.chat_template"]?.string)
    }

    /// Every tensor dequantised, under its HF `LlamaForCausalLM` name, `[out, in]` row-major, with
    /// Q and K rows put back in HF's rotate-half order. Refuses tensors with no HF counterpart.
    public func llamaTensors() throws -> [String: Tensor] {
        let config = try llamaConfig()
        var out: [String: Tensor] = [:]
        for t in tensorInfos {
            guard let hf = LlamaTensorNames.hfName(gguf: t.name) else {
                throw fail("tensor \"\(t.name)\" has no Hugging Face LlamaForCausalLM counterpart")
            }
            var w = try tensor(named: t.name)
            if t.name.hasSuffix(".attn_q.weight") {
                try checkRows(t, w, config.numAttentionHeads * config.headDim)
                w = LlamaTensorNames.unpermuteRoPERows(w, heads: config.numAttentionHeads)
            } else if t.name.hasSuffix(".attn_k.weight") {
                try checkRows(t, w, config.numKeyValueHeads * config.headDim)
                w = LlamaTensorNames.unpermuteRoPERows(w, heads: config.numKeyValueHeads)
            }
            out[hf] = w
        }
        return out
    }

    private func checkRows(_ t: GGUFTensorInfo, _ w: Tensor, _ rows: Int) throws {
        guard w.shape.count == 2, w.shape[0] == rows else {
            throw fail("tensor \"\(t.name)\" has shape \(w.shape), expected \(rows) rows (heads x head size)")
        }
    }
}
