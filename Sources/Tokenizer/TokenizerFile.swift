import Foundation

/// A tokenizer file that cannot be read or used: names the file and what is wrong with it.
public struct TokenizerError: Error, CustomStringConvertible, LocalizedError {
    /// The file (or source, e.g. "GGUF metadata") that was being read.
    public var file: String
    /// What is wrong, and what was expected.
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "tokenizer \(file): \(problem)" }
    public var errorDescription: String? { description }
}

extension BPETokenizer {
    /// Writes a HF `tokenizer.json` (BPE model, vocab, merges, added tokens, pre-tokenizer) that HF
    /// `tokenizers` loads as is, and beside it the roles in HF's `tokenizer_config.json` form
    /// (`bos_token`, `eos_token`, `pad_token`, `unk_token`); both atomically.
    ///
    /// The companion is named after the file: `tokenizer.json` -> `tokenizer_config.json`, `x.json` -> `x_config.json`.
    public func save(to url: URL) throws {
        let spaced = merges.contains { $0.0.contains(" ") || $0.1.contains(" ") }
        let added: [[String: Any]] = specialTokens.sorted { $0.value < $1.value }.map {
            ["id": Int($0.value), "content": $0.key, "special": true, "single_word": false,
             "lstrip": false, "rstrip": false, "normalized": false]
        }
        var pre: [[String: Any]] = [["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]]
        if preTokenizer == .gpt2Digits { pre.insert(["type": "Digits", "individual_digits": true], at: 0) }
        var roles: [String: Any] = [:]
        for (key, id) in [("bos_token", bos), ("eos_token", eos), ("pad_token", pad), ("unk_token", unk)] {
            if let id, let t = token(of: id) { roles[key] = t }
        }
        // The small parts go through JSONSerialization; vocab and merges are written by hand, since
        // key-sorting a 50k-entry dictionary there takes seconds. Vocab is in id order, as HF writes it.
        let vocabJSON = vocab.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { "\(Self.jsonString($0.key)):\($0.value)" }  // specials included, as HF expects
        let mergesJSON = merges.map { spaced ? "[\(Self.jsonString($0.0)),\(Self.jsonString($0.1))]" : Self.jsonString("\($0.0) \($0.1)") }
        var text = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null"
        text += ",\"added_tokens\":" + (try Self.jsonText(added, url))
        text += ",\"normalizer\":null,\"pre_tokenizer\":" + (try Self.jsonText(["type": "Sequence", "pretokenizers": pre], url))
        text += ",\"post_processor\":null,\"decoder\":"
        text += try Self.jsonText(["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true], url)
        text += ",\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":null,\"continuing_subword_prefix\":null,"
        text += "\"end_of_word_suffix\":null,\"fuse_unk\":false,\"byte_fallback\":false,\n\"vocab\":{"
        text += vocabJSON.joined(separator: ",\n") + "},\n\"merges\":[" + mergesJSON.joined(separator: ",\n") + "]}}\n"
        try Self.write(Data(try Self.jsonText(roles, url).utf8), to: Self.companionURL(url))
        try Self.write(Data(text.utf8), to: url)
    }

    /// A JSON string literal.
    static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    private static func jsonText(_ object: Any, _ url: URL) throws -> String {
        do {
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        } catch {
            throw TokenizerError(file: url.path, problem: "cannot encode JSON: \(error.localizedDescription)")
        }
    }

    private static func write(_ data: Data, to url: URL) throws {
        do { try data.write(to: url, options: .atomic) } catch {
            throw TokenizerError(file: url.path, problem: "cannot write: \(error.localizedDescription)")
        }
    }

    /// The roles file beside a tokenizer file.
    public static func companionURL(_ url: URL) -> URL {
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent(stem + "_config.json")
    }

    /// Role names from the companion file (HF's `tokenizer_config.json`: a string or `{"content": ...}`),
    /// else from the `"preflab"` key of files written before the companion existed.
    private static func readRoles(_ url: URL, _ root: [String: Any]) throws -> [String: String] {
        var raw = root["preflab"] as? [String: Any] ?? [:]
        let companion = companionURL(url)
        if FileManager.default.fileExists(atPath: companion.path) {
            guard let data = try? Data(contentsOf: companion),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
                throw TokenizerError(file: companion.path, problem: "not a JSON object")
            }
            raw = object
        }
        var roles: [String: String] = [:]
        for key in ["bos_token", "eos_token", "pad_token", "unk_token"] {
            if let s = raw[key] as? String { roles[key] = s }
            if let d = raw[key] as? [String: Any], let s = d["content"] as? String { roles[key] = s }
        }
        return roles
    }

    /// Reads a `tokenizer.json` written by `save` or by HF `tokenizers` (byte-level BPE models only),
    /// with the roles from its companion `*_config.json` when present (else bos/eos/pad are nil).
    public static func load(from url: URL) throws -> BPETokenizer {
        let fail = { (problem: String) in TokenizerError(file: url.path, problem: problem) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw fail("cannot read: \(error.localizedDescription)") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw fail("not a JSON object")
        }
        guard let model = root["model"] as? [String: Any] else { throw fail("missing \"model\" object") }
        if let type = model["type"] as? String, type != "BPE" { throw fail("model type \"\(type)\" is not BPE") }
        guard let rawVocab = model["vocab"] as? [String: Any] else { throw fail("missing \"model.vocab\" object") }
        var vocab: [String: Int32] = [:]
        for (t, v) in rawVocab {
            guard let n = (v as? NSNumber)?.int32Value, n >= 0 else { throw fail("vocab entry \"\(t)\" has no non-negative integer id") }
            vocab[t] = n
        }
        let merges = try parseMerges(model["merges"], fail)
        var specials: [String: Int32] = [:]
        for entry in root["added_tokens"] as? [[String: Any]] ?? [] {
            guard let content = entry["content"] as? String, let id = (entry["id"] as? NSNumber)?.int32Value else {
                throw fail("an added_tokens entry lacks \"content\" or \"id\"")
            }
            specials[content] = id
        }
        let roles = try readRoles(url, root)
        let pre: PreTokenizer = describesIndividualDigits(root["pre_tokenizer"]) ? .gpt2Digits : .gpt2
        func role(_ key: String) -> Int32? { roles[key].flatMap { specials[$0] ?? vocab[$0] } }
        let tokenizer = BPETokenizer(vocab: vocab, merges: merges, specialTokens: specials,
                                     bos: role("bos_token"), eos: role("eos_token"), pad: role("pad_token"),
                                     unk: role("unk_token") ?? (model["unk_token"] as? String).flatMap { vocab[$0] },
                                     preTokenizer: pre)
        try tokenizer.validate(source: url.path)
        return tokenizer
    }

    /// Throws when a merge names an unknown token.
    ///
    /// Bytes without a single-byte token are allowed (SmolLM2 lacks 0xC0, 0xC1 and a few control
    /// bytes): like HF `tokenizers` and llama.cpp, `encode` drops them (or maps them to `unk`).
    func validate(source: String) throws {
        if let first = invalidMerges.first {
            let (a, b) = merges[first]
            throw TokenizerError(file: source, problem: "\(invalidMerges.count) merge(s) name tokens not in the vocabulary, first at rank \(first): \"\(a)\" + \"\(b)\"")
        }
    }

    private static func parseMerges(_ raw: Any?, _ fail: (String) -> TokenizerError) throws -> [(String, String)] {
        guard let list = raw as? [Any] else { throw fail("missing \"model.merges\" list") }
        return try list.enumerated().map { (rank, item) in
            if let s = item as? String, let pair = splitMerge(s) { return pair }
            if let p = item as? [String], p.count == 2 { return (p[0], p[1]) }
            throw fail("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]")
        }
    }

    /// Splits a "left right" merge string at its single separating space.
    static func splitMerge(_ s: String) -> (String, String)? {
        let parts = s.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        return (String(parts[0]), String(parts[1]))
    }

    private static func describesIndividualDigits(_ node: Any?) -> Bool {
        if let dict = node as? [String: Any] {
            if dict["type"] as? String == "Digits", dict["individual_digits"] as? Bool == true { return true }
            return dict.values.contains { describesIndividualDigits($0) }
        }
        if let list = node as? [Any] { return list.contains { describesIndividualDigits($0) } }
        return false
    }

    /// Builds a tokenizer from GGUF metadata (`tokenizer.ggml.*`), e.g. SmolLM2's.
    ///
    /// - Parameters:
    ///   - tokens: `tokenizer.ggml.tokens`, indexed by id.
    ///   - tokenTypes: `tokenizer.ggml.token_type`; types 3 (control) and 4 (user-defined) become special tokens.
    ///   - merges: `tokenizer.ggml.merges` as "left right" strings.
    ///   - model: `tokenizer.ggml.model`; only "gpt2" (byte-level BPE) is supported.
    ///   - pre: `tokenizer.ggml.pre`; "smollm", "starcoder", "refact" split digits individually,
    ///     "gpt-2" and "default" do not.
    public static func fromGGUF(tokens: [String], tokenTypes: [Int32], merges: [String], model: String = "gpt2",
                                pre: String?, bos: Int32?, eos: Int32?, pad: Int32?, unk: Int32? = nil) throws -> BPETokenizer {
        let source = "GGUF metadata"
        guard model == "gpt2" else { throw TokenizerError(file: source, problem: "tokenizer.ggml.model \"\(model)\" is not byte-level BPE (\"gpt2\")") }
        guard tokenTypes.isEmpty || tokenTypes.count == tokens.count else {
            throw TokenizerError(file: source, problem: "\(tokenTypes.count) token types for \(tokens.count) tokens")
        }
        let preTokenizer: PreTokenizer
        switch pre ?? "default" {
        case "smollm", "starcoder", "refact": preTokenizer = .gpt2Digits
        case "gpt-2", "gpt2", "default": preTokenizer = .gpt2
        case let other: throw TokenizerError(file: source, problem: "tokenizer.ggml.pre \"\(other)\" is not supported (smollm, starcoder, refact, gpt-2, default)")
        }
        var vocab: [String: Int32] = [:]
        var specials: [String: Int32] = [:]
        for (i, t) in tokens.enumerated() {
            let type = tokenTypes.isEmpty ? 1 : tokenTypes[i]
            if type == 3 || type == 4 { specials[t] = Int32(i) } else if vocab[t] == nil { vocab[t] = Int32(i) }
        }
        var pairs: [(String, String)] = []
        pairs.reserveCapacity(merges.count)
        for (rank, m) in merges.enumerated() {
            guard let p = splitMerge(m) else { throw TokenizerError(file: source, problem: "merge \(rank) \"\(m)\" is not \"left right\"") }
            pairs.append(p)
        }
        let tokenizer = BPETokenizer(vocab: vocab, merges: pairs, specialTokens: specials,
                                     bos: bos, eos: eos, pad: pad, unk: unk, preTokenizer: preTokenizer)
        try tokenizer.validate(source: source)
        return tokenizer
    }
}
