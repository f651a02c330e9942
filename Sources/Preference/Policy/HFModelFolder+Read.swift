import Checkpoint
import Foundation
import Llama
import Tokenizer

extension HFModelFolder {
    /// Reads the model and codec of a Hugging Face folder (one PrefLab wrote, or one from `transformers`):
    /// config.json, single or sharded safetensors, tokenizer.json with its tokenizer_config.json, and the
    /// chat template — `chatFormat` (a name in `HFChatTemplate.formats`) when given, else PrefLab's
    /// template file, else the Jinja template recognised by its source. `maxSeqLen` caps the positions
    /// (default: max_position_embeddings). Every error names the file concerned. The model is frozen: no
    /// gradients until a trainer makes it trainable.
    public static func read(from dir: URL, chatFormat: String? = nil, maxSeqLen: Int? = nil) throws -> (model: LlamaModel, codec: TokenizerCodec) {
        let (hf, config) = try engineConfig(dir, maxSeqLen: maxSeqLen)
        let codec = try readTokenizer(from: dir, chatFormat: chatFormat)
        try checkVocabulary(codec.tokenizer, fits: config, dir)
        let model = LlamaModel(config: config, head: hf.architecture == .causalLM ? .lm : .scalar, seed: nil, trainable: false)
        let weights = try HFWeights.read(from: dir)
        do { try model.loadHF(weights) } catch {
            throw CheckpointError(file: weightsPath(dir), problem: "\(error) (config.json describes a \(hf.architecture.rawValue))")
        }
        return (model, codec)
    }

    /// Checks a folder without reading its weights: config.json, the weight files' headers (every tensor
    /// the model needs, with its shape and a readable dtype), the tokenizer files and the chat template.
    public static func check(_ dir: URL, chatFormat: String? = nil) throws {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir.path, isDirectory: &isDir), isDir.boolValue else {
            throw CheckpointError(file: dir.path, problem: "not a folder (an HF model folder holds config.json, model.safetensors, tokenizer.json, ...)")
        }
        let (hf, config) = try engineConfig(dir, maxSeqLen: nil)
        var found: [String: (dtype: String, shape: [Int], file: URL)] = [:]
        for url in Set(try HFWeights.layout(of: dir).values) {
            for (name, d) in try Safetensors.describe(url) { found[name] = (d.dtype, d.shape, url) }
        }
        let head: HeadKind = hf.architecture == .causalLM ? .lm : .scalar
        for (name, shape) in LlamaModel.parameterSpecs(config: config, head: head) where name != "score.bias" {
            guard let t = found[name] else {
                throw CheckpointError(file: weightsPath(dir), problem: "missing tensor \"\(name)\" (config.json describes a \(hf.architecture.rawValue))")
            }
            if t.shape != shape { throw CheckpointError(file: t.file.path, problem: "tensor \"\(name)\" has shape \(t.shape), config.json implies \(shape)") }
            if !["F32", "F16", "BF16", "F64"].contains(t.dtype) {
                throw CheckpointError(file: t.file.path, problem: "tensor \"\(name)\" has dtype \(t.dtype) (readable: F32, F16, BF16, F64)")
            }
        }
        try checkTokenizerJSON(dir.appendingPathComponent("tokenizer.json"))
        _ = try template(in: dir, chatFormat: chatFormat, eosToken: try tokenizerRoles(dir)["eos_token"])
    }

    /// The folder's tokenizer and chat template as a codec.
    public static func readTokenizer(from dir: URL, chatFormat: String? = nil) throws -> TokenizerCodec {
        let url = dir.appendingPathComponent("tokenizer.json")
        try checkTokenizerJSON(url)
        let tokenizer = try BPETokenizer.load(from: url)
        let eosToken = tokenizer.eos.flatMap(tokenizer.token(of:))
        let template = try template(in: dir, chatFormat: chatFormat, eosToken: eosToken)
        do { return try TokenizerCodec(tokenizer: tokenizer, template: template) } catch {
            throw CheckpointError(file: url.path, problem: "\(error) (chat template \(template.name))")
        }
    }

    /// The parsed config.json and the engine configuration it gives.
    static func engineConfig(_ dir: URL, maxSeqLen: Int?) throws -> (HFLlamaConfig, LlamaConfig) {
        let url = dir.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw CheckpointError(file: url.path, problem: "missing: an HF model folder needs config.json")
        }
        let hf = try ConfigJSON.read(HFLlamaConfig.self, from: url)
        let config = Pretrained.engineConfig(hf, maxSeqLen: maxSeqLen ?? hf.maxPositionEmbeddings)
        if let problem = config.problems.first { throw CheckpointError(file: url.path, problem: "the engine cannot run this model: \(problem)") }
        return (hf, config)
    }

    private static func weightsPath(_ dir: URL) -> String {
        let index = dir.appendingPathComponent(HFWeights.indexFile)
        return FileManager.default.fileExists(atPath: index.path) ? index.path : dir.appendingPathComponent(HFWeights.singleFile).path
    }

    private static func checkVocabulary(_ tokenizer: BPETokenizer, fits config: LlamaConfig, _ dir: URL) throws {
        if tokenizer.vocabSize > config.vocabSize {
            throw CheckpointError(file: dir.appendingPathComponent("tokenizer.json").path,
                                  problem: "token ids reach \(tokenizer.vocabSize - 1), beyond config.json's vocab_size \(config.vocabSize)")
        }
    }

    /// Refuses tokenizer.json files whose text processing PrefLab's byte-level BPE would silently get
    /// wrong: a normalizer, a pre-tokenizer other than GPT-2's ByteLevel (optionally after
    /// Digits(individual_digits), as SmolLM2's), a prefix space, byte fallback.
    static func checkTokenizerJSON(_ url: URL) throws {
        let fail = { (problem: String) in CheckpointError(file: url.path, problem: problem) }
        guard let data = try? Data(contentsOf: url) else { throw fail("missing or unreadable: an HF model folder needs tokenizer.json") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else { throw fail("not a JSON object") }
        guard let model = root["model"] as? [String: Any], model["type"] as? String == "BPE" else {
            throw fail("model.type must be \"BPE\" (PrefLab reads byte-level BPE tokenizers only)")
        }
        if model["byte_fallback"] as? Bool == true { throw fail("model.byte_fallback true is not supported (byte-level BPE needs none)") }
        if let n = root["normalizer"], !(n is NSNull) { throw fail("a normalizer is not supported (PrefLab encodes raw text)") }
        var steps = [root["pre_tokenizer"] as? [String: Any] ?? [:]]
        if steps[0]["type"] as? String == "Sequence" { steps = steps[0]["pretokenizers"] as? [[String: Any]] ?? [] }
        let types = steps.map { $0["type"] as? String ?? "none" }
        guard types == ["ByteLevel"] || types == ["Digits", "ByteLevel"] else {
            throw fail("pre_tokenizer \(types.joined(separator: " + ")) is not supported (ByteLevel, or Digits + ByteLevel as SmolLM2)")
        }
        if let byteLevel = steps.last, byteLevel["add_prefix_space"] as? Bool == true || byteLevel["use_regex"] as? Bool == false {
            throw fail("pre_tokenizer ByteLevel must have add_prefix_space false and use_regex true (GPT-2's split)")
        }
        if types.first == "Digits", steps[0]["individual_digits"] as? Bool != true {
            throw fail("pre_tokenizer Digits must split individual digits")
        }
    }

    /// The folder's chat template: the format `chatFormat` names; else PrefLab's template file (or, in
    /// nodes older than HF folders, its `chat_template.json`); else the Jinja source of
    /// `chat_template.jinja` or tokenizer_config.json's `chat_template`, recognised by `HFChatTemplate`.
    static func template(in dir: URL, chatFormat: String?, eosToken: String?) throws -> ChatTemplate {
        if let name = chatFormat {
            guard let t = name == "zephyr" ? eosToken.map(HFChatTemplate.zephyr(eos:)) : HFChatTemplate.formats[name] else {
                throw CheckpointError(file: dir.path, problem: "chat_format \"\(name)\" is not one of \(HFChatTemplate.formats.keys.sorted().joined(separator: ", "))"
                                      + (name == "zephyr" ? " (zephyr needs an eos_token in tokenizer_config.json)" : ""))
            }
            return t
        }
        let own = dir.appendingPathComponent(templateFile), legacy = dir.appendingPathComponent(legacyTemplateFile)
        if FileManager.default.fileExists(atPath: own.path) { return try ConfigJSON.read(ChatTemplate.self, from: own) }
        var source: (text: String, file: URL)?
        if let data = FileManager.default.contents(atPath: legacy.path) {
            if let t = try? JSONDecoder().decode(ChatTemplate.self, from: data) { return t }
            if let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any], let text = object["chat_template"] as? String {
                source = (text, legacy)
            }
        }
        let jinjaFile = dir.appendingPathComponent("chat_template.jinja")
        if source == nil, let data = FileManager.default.contents(atPath: jinjaFile.path) { source = (String(decoding: data, as: UTF8.self), jinjaFile) }
        let configFile = dir.appendingPathComponent("tokenizer_config.json")
        if source == nil, let config = try tokenizerConfig(dir) {
            if let text = config["chat_template"] as? String { source = (text, configFile) }
            if let list = config["chat_template"] as? [[String: Any]],
               let text = list.first(where: { $0["name"] as? String == "default" })?["template"] as? String { source = (text, configFile) }
        }
        let names = HFChatTemplate.formats.keys.sorted().joined(separator: ", ")
        guard let source else {
            throw CheckpointError(file: configFile.path, problem: "no chat template (no chat_template here, no chat_template.jinja); set chat_format: to one of \(names)")
        }
        guard let t = HFChatTemplate.recognise(source.text, eosToken: eosToken) else {
            throw CheckpointError(file: source.file.path, problem: "the chat template is not one PrefLab knows; it recognises templates by their source"
                                  + " (it does not run Jinja): set chat_format: on the stage to the format it renders, one of \(names)")
        }
        return t
    }

    /// bos/eos/pad/unk names from tokenizer_config.json (a string, or `{"content": ...}`).
    static func tokenizerRoles(_ dir: URL) throws -> [String: String] {
        guard let object = try tokenizerConfig(dir) else { return [:] }
        var roles: [String: String] = [:]
        for key in ["bos_token", "eos_token", "pad_token", "unk_token"] {
            if let s = object[key] as? String { roles[key] = s }
            if let d = object[key] as? [String: Any], let s = d["content"] as? String { roles[key] = s }
        }
        return roles
    }

    private static func tokenizerConfig(_ dir: URL) throws -> [String: Any]? {
        let url = dir.appendingPathComponent("tokenizer_config.json")
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError(file: url.path, problem: "not a JSON object")
        }
        return object
    }
}
