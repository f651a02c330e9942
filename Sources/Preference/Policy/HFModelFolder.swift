import Checkpoint
import Foundation
import Llama
import Tokenizer

/// A model as a Hugging Face folder that `transformers` loads with a plain `from_pretrained(dir)`:
///
/// * `config.json` — `LlamaForCausalLM` (a policy) or `LlamaForSequenceClassification` with one label
///   and no bias (a reward model), every Llama key, bos/eos/pad ids;
/// * `model.safetensors` (F32; a folder read may also be sharded, F16 or BF16);
/// * `generation_config.json` — eos is the end-of-turn token PrefLab's generation stops on;
/// * `tokenizer.json`, `tokenizer_config.json` (roles, eos = end of turn, and a Jinja `chat_template`
///   rendering exactly PrefLab's prompts), `special_tokens_map.json`;
/// * `preflab_chat_template.json` — PrefLab's own `ChatTemplate`, read first when present.
public enum HFModelFolder {
    /// PrefLab's chat-template file.
    public static let templateFile = "preflab_chat_template.json"
    /// The chat-template file of PrefLab nodes written before the folders were Hugging Face ones.
    public static let legacyTemplateFile = "chat_template.json"

    /// Writes `model` and `codec` into `dir` (which must exist).
    public static func write(model: LlamaModel, codec: TokenizerCodec, to dir: URL) throws {
        try HFWeights.write(model.hfTensors(), to: dir)
        try ConfigJSON.write(config(of: model, codec: codec), to: dir.appendingPathComponent("config.json"))
        try ConfigJSON.write(GenerationConfig(bos: codec.tokenizer.bos.map(Int.init), eos: Int(codec.eos), pad: Int(codec.pad)),
                             to: dir.appendingPathComponent("generation_config.json"))
        try writeTokenizer(codec, maxLength: model.config.maxSeqLen, to: dir)
    }

    /// The HF configuration of an engine model. A reward model gets a pad id only when it differs from
    /// the end-of-turn id its scored sequences end with (HF reads the score at the last non-pad token).
    public static func config(of model: LlamaModel, codec: TokenizerCodec) -> HFLlamaConfig {
        let c = model.config
        let pad: Int32? = model.head == .scalar && codec.pad == codec.eos ? nil : codec.pad
        return HFLlamaConfig(architecture: model.head == .lm ? .causalLM : .sequenceClassification,
                             hiddenSize: c.dModel, numHiddenLayers: c.nLayers, numAttentionHeads: c.nHeads,
                             numKeyValueHeads: c.nKVHeads, intermediateSize: c.hidden, vocabSize: c.vocabSize,
                             maxPositionEmbeddings: c.maxSeqLen, ropeTheta: shortest(c.ropeBase), rmsNormEps: shortest(c.normEps),
                             tieWordEmbeddings: c.tiedEmbeddings, bosTokenId: codec.tokenizer.bos.map(Int.init),
                             eosTokenId: Int(codec.eos), padTokenId: pad.map(Int.init))
    }

    /// The Double written for a Float: its shortest decimal (1e-05, not 9.999999747378752e-06), which
    /// reads back as the same Float.
    static func shortest(_ x: Float) -> Double { Double("\(x)") ?? Double(x) }

    /// Writes `tokenizer.json`, HF's `tokenizer_config.json` and `special_tokens_map.json`, and
    /// PrefLab's template file.
    public static func writeTokenizer(_ codec: TokenizerCodec, maxLength: Int? = nil, to dir: URL) throws {
        let tok = codec.tokenizer
        try tok.save(to: dir.appendingPathComponent("tokenizer.json"))  // also writes a roles-only tokenizer_config.json, replaced below
        var roles: [String: String] = [:]
        for (key, id) in [("bos_token", tok.bos), ("eos_token", codec.eos), ("pad_token", codec.pad), ("unk_token", tok.unk)] {
            if let id, let t = tok.token(of: id) { roles[key] = t }
        }
        let extra = codec.template.specialTokens.filter { tok.specialTokens[$0] != nil }
        let config = TokenizerConfig(roles: roles, chatTemplate: HFChatTemplate.jinja(codec.template),
                                     modelMaxLength: maxLength, extraSpecialTokens: extra)
        try ConfigJSON.write(config, to: dir.appendingPathComponent("tokenizer_config.json"))
        try ConfigJSON.write(SpecialTokensMap(roles: roles, additional: extra), to: dir.appendingPathComponent("special_tokens_map.json"))
        try ConfigJSON.write(codec.template, to: dir.appendingPathComponent(templateFile))
    }

    private struct GenerationConfig: Encodable {
        var bos: Int?, eos: Int, pad: Int
        enum CodingKeys: String, CodingKey { case bos = "bos_token_id", eos = "eos_token_id", pad = "pad_token_id" }
    }

    /// HF's `tokenizer_config.json` for a fast tokenizer: no BOS/EOS added on encode (PrefLab adds none;
    /// the chat template writes every marker).
    private struct TokenizerConfig: Encodable {
        var roles: [String: String]
        var chatTemplate: String
        var modelMaxLength: Int?
        var extraSpecialTokens: [String]
        enum CodingKeys: String, CodingKey {
            case chatTemplate = "chat_template", modelMaxLength = "model_max_length", tokenizerClass = "tokenizer_class"
            case addBOS = "add_bos_token", addEOS = "add_eos_token", cleanUp = "clean_up_tokenization_spaces"
            case additional = "additional_special_tokens"
        }
        func encode(to encoder: any Encoder) throws {
            var roleContainer = encoder.container(keyedBy: RoleKey.self)
            for (k, v) in roles { try roleContainer.encode(v, forKey: RoleKey(k)) }
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(chatTemplate, forKey: .chatTemplate)
            try c.encodeIfPresent(modelMaxLength, forKey: .modelMaxLength)
            try c.encode("PreTrainedTokenizerFast", forKey: .tokenizerClass)
            try c.encode(false, forKey: .addBOS)
            try c.encode(false, forKey: .addEOS)
            try c.encode(false, forKey: .cleanUp)
            try c.encode(extraSpecialTokens, forKey: .additional)
        }
    }

    private struct SpecialTokensMap: Encodable {
        var roles: [String: String]
        var additional: [String]
        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: RoleKey.self)
            for (k, v) in roles { try c.encode(v, forKey: RoleKey(k)) }
            try c.encode(additional, forKey: RoleKey("additional_special_tokens"))
        }
    }

    private struct RoleKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(_ s: String) { stringValue = s }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
