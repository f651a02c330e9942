import Checkpoint
import Foundation
import Llama
import Tokenizer

/// A released model read from a GGUF file: weights dequantised to Float32, its own byte-level BPE
/// tokenizer and the chat template its metadata names (SmolLM2-135M-Instruct is the one the project fetches).
public enum Pretrained {
    /// The engine's configuration for a Hugging Face Llama configuration; `maxSeqLen` caps the positions
    /// (rotary tables, KV caches and activations scale with it).
    public static func engineConfig(_ hf: HFLlamaConfig, maxSeqLen: Int) -> LlamaConfig {
        LlamaConfig(vocabSize: hf.vocabSize, dModel: hf.hiddenSize, nLayers: hf.numHiddenLayers, nHeads: hf.numAttentionHeads,
                    nKVHeads: hf.numKeyValueHeads, hidden: hf.intermediateSize,
                    maxSeqLen: min(maxSeqLen, hf.maxPositionEmbeddings), ropeBase: Float(hf.ropeTheta),
                    normEps: Float(hf.rmsNormEps), tiedEmbeddings: hf.tieWordEmbeddings)
    }

    /// The model in `file` with an LM head, frozen (no gradients until a trainer makes it trainable).
    public static func model(_ file: GGUFFile, maxSeqLen: Int) throws -> LlamaModel {
        let config = engineConfig(try file.llamaConfig(), maxSeqLen: maxSeqLen)
        if let problem = config.problems.first { throw PretrainedError(problem: "the GGUF model does not fit the engine: \(problem)") }
        let model = LlamaModel(config: config, head: .lm, seed: nil, trainable: false)
        try model.load(try file.llamaTensors())
        return model
    }

    /// The file's tokenizer (`tokenizer.ggml.*`).
    public static func tokenizer(_ file: GGUFFile) throws -> BPETokenizer {
        try tokenizer(try file.tokenizerMetadata())
    }

    static func tokenizer(_ m: GGUFTokenizerMetadata) throws -> BPETokenizer {
        try BPETokenizer.fromGGUF(tokens: m.tokens, tokenTypes: m.tokenTypes, merges: m.merges, model: m.model,
                                  pre: m.pre, bos: m.bos, eos: m.eos, pad: m.pad)
    }

    /// The policy in a GGUF file: its model, tokenizer and chat template (ChatML-style templates are
    /// recognised; a file without one, or with another, gets `fallbackTemplate`).
    public static func policy(gguf url: URL, maxSeqLen: Int, fallbackTemplate: ChatTemplate = .chatML) throws -> Policy {
        let file = try GGUFFile(contentsOf: url)
        let meta = try file.tokenizerMetadata()  // 49k tokens and merges: read once for tokenizer and template
        let template = meta.chatTemplate.flatMap(ChatTemplate.matching(jinja:)) ?? fallbackTemplate
        return try Policy(model: try model(file, maxSeqLen: maxSeqLen),
                          codec: try TokenizerCodec(tokenizer: try tokenizer(meta), template: template))
    }
}

/// A GGUF model the engine cannot take.
public struct PretrainedError: Error, CustomStringConvertible {
    public var problem: String
    public var description: String { problem }
}
