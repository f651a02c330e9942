import Checkpoint
import Foundation
import Llama
import Tensor
import Tokenizer
import XCTest
@testable import Preference

/// Hugging Face model folders without Python: the committed folder `transformers` made
/// (Fixtures/hf-tiny: random tiny LlamaForCausalLM in BF16, three shards, a 300-token byte-level BPE
/// trained with `tokenizers`, ChatML in chat_template.jinja; reference.json holds what transformers
/// computed from it), PrefLab's own write/read round trip, chat templates, and broken folders.
final class HFFolderTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/hf-tiny")

    struct Reference: Decodable {
        struct Message: Decodable { var role: String; var content: String }
        struct Dialogue: Decodable { var messages: [Message]; var response: String }
        struct Rendered: Decodable { var prompt: [Int32]; var response: [Int32] }
        var dialogues: [Dialogue]
        var chat: [Rendered]
        var token_logprobs: [[Double]]
    }

    /// Per-token log-probs of `response` after `prompt` (one row, no padding).
    static func tokenLogProbs(_ model: LlamaModel, prompt: [Int32], response: [Int32]) -> [Double] {
        let row = prompt + response
        let lp = model.tokenLogProbs(TokenBatch(sequences: [row], pad: 0), keepActivations: false)
        return (prompt.count..<row.count).map { Double(lp[$0]) }
    }

    func testTransformersFolderLoadsAndMatchesItsLogProbs() throws {
        let ref = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: Self.fixture.appendingPathComponent("reference.json")))
        try HFModelFolder.check(Self.fixture)
        let (model, codec) = try HFModelFolder.read(from: Self.fixture)
        XCTAssertEqual(codec.template, .chatML, "chat_template.jinja is the documented ChatML template")
        XCTAssertEqual(model.config.vocabSize, 300)
        XCTAssertFalse(model.config.tiedEmbeddings)
        XCTAssertEqual(codec.tokenizer.token(of: codec.eos), "<|im_end|>")
        var worst = 0.0
        for (i, d) in ref.dialogues.enumerated() {
            let prompt = codec.promptTokens(Prompt(messages: d.messages.map { ChatMessage(role: $0.role, content: $0.content) }))
            XCTAssertEqual(prompt, ref.chat[i].prompt, "dialogue \(i): PrefLab renders what apply_chat_template renders")
            XCTAssertEqual(codec.encode(d.response), ref.chat[i].response, "dialogue \(i)")
            let ours = Self.tokenLogProbs(model, prompt: prompt, response: codec.encode(d.response) + [codec.eos])
            XCTAssertEqual(ours.count, ref.token_logprobs[i].count)
            for (a, b) in zip(ours, ref.token_logprobs[i]) { worst = max(worst, abs(a - b)) }
        }
        XCTAssertLessThan(worst, 1e-4, "largest per-token log-prob difference from transformers")
    }

    private func codec(_ template: ChatTemplate) throws -> TokenizerCodec {
        let tok = BPETokenizer.train(corpus: ["hello world, how are you?", "the cat sat on the mat"], vocabSize: 300,
                                     specialTokens: ["<|endoftext|>", "<|pad|>"] + template.specialTokens,
                                     eos: "<|endoftext|>", pad: "<|pad|>")
        return try TokenizerCodec(tokenizer: tok, template: template)
    }

    private func model(_ codec: TokenizerCodec, head: HeadKind, tied: Bool = false) -> LlamaModel {
        let config = LlamaConfig(vocabSize: codec.tokenizer.vocabSize, dModel: 16, nLayers: 1, nHeads: 2, nKVHeads: 1,
                                 hidden: 24, maxSeqLen: 32, ropeBase: 500, normEps: 1e-5, tiedEmbeddings: tied)
        return LlamaModel(config: config, head: head, seed: 3)
    }

    func testWriteThenReadKeepsEveryWeightAndTheCodec() throws {
        for (head, tied) in [(HeadKind.lm, false), (.lm, true), (.scalar, true)] {
            let dir = try makeTempDir()
            defer { try? FileManager.default.removeItem(at: dir) }
            let c = try codec(.simple), m = model(c, head: head, tied: tied)
            try HFModelFolder.write(model: m, codec: c, to: dir)
            let (back, backCodec) = try HFModelFolder.read(from: dir)
            XCTAssertEqual(back.config, m.config)
            XCTAssertEqual(back.head, head)
            XCTAssertEqual(back.namedTensors(), m.namedTensors())
            XCTAssertEqual(backCodec.template, c.template)
            XCTAssertEqual(backCodec.eos, c.eos)
            XCTAssertEqual(backCodec.pad, c.pad)
            XCTAssertEqual(backCodec.tokenizer.vocab, c.tokenizer.vocab)
            let names = try Safetensors.describe(dir.appendingPathComponent("model.safetensors")).keys
            XCTAssertFalse(names.contains("score.bias"), "a zero bias is left out (HF's score layer has none)")
            XCTAssertEqual(names.contains("lm_head.weight"), head == .lm && !tied)
            let config = try ConfigJSON.read(HFLlamaConfig.self, from: dir.appendingPathComponent("config.json"))
            XCTAssertEqual(config.architecture, head == .lm ? .causalLM : .sequenceClassification)
            XCTAssertEqual(config.rmsNormEps, 1e-5, "the Float's shortest decimal, not 9.99999974e-06")
            let tokConfig = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent("tokenizer_config.json"))) as? [String: Any]
            XCTAssertEqual(tokConfig?["eos_token"] as? String, "<|end|>", "eos is the end-of-turn token generation stops on")
            XCTAssertEqual(tokConfig?["chat_template"] as? String, HFChatTemplate.jinja(.simple))
        }
    }

    func testNonzeroScoreBiasIsKeptForPrefLab() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let c = try codec(.simple), m = model(c, head: .scalar)
        var named = m.namedTensors()
        named["score.bias"] = Tensor(shape: [1], data: [0.25])
        try m.load(named)
        try HFModelFolder.write(model: m, codec: c, to: dir)
        XCTAssertEqual(try HFModelFolder.read(from: dir).model.scoreBias, 0.25)
    }

    func testEveryKnownTemplateIsRecognisedFromItsJinja() throws {
        for (name, t) in ChatTemplate.builtIn {
            XCTAssertEqual(HFChatTemplate.recognise(HFChatTemplate.jinja(t), eosToken: nil), t, name)
        }
        for known in HFChatTemplate.released {
            let t = try XCTUnwrap(HFChatTemplate.recognise(known.source, eosToken: "</s>"), known.format)
            XCTAssertEqual(t.name, known.format)
        }
        // Whitespace inside tags does not matter; outside them it is output, so it does.
        let spaced = HFChatTemplate.released[1].source.replacingOccurrences(of: "{{'", with: "{{  '")
        XCTAssertEqual(HFChatTemplate.recognise(spaced, eosToken: nil), .chatML)
        XCTAssertEqual(HFChatTemplate.recognise(HFChatTemplate.released[1].source + "\n", eosToken: nil), .chatML,
                       "surrounding whitespace is trimmed")
        XCTAssertNil(HFChatTemplate.recognise(HFChatTemplate.released[1].source.replacingOccurrences(of: "}}{% endfor", with: "}} {% endfor"), eosToken: nil))
        // The SmolLM2 template renders its default system prompt, as ChatTemplate.smolLM2 does.
        XCTAssertEqual(HFChatTemplate.recognise(HFChatTemplate.released[0].source, eosToken: nil), .smolLM2)
    }

    func testBrokenFoldersNameTheFile() throws {
        let dir = try makeTempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fm = FileManager.default
        for name in try fm.contentsOfDirectory(atPath: Self.fixture.path) {
            try fm.copyItem(at: Self.fixture.appendingPathComponent(name), to: dir.appendingPathComponent(name))
        }
        func expect(_ file: String, _ fragment: String, chatFormat: String? = nil, line: UInt = #line) {
            XCTAssertThrowsError(try HFModelFolder.check(dir, chatFormat: chatFormat), line: line) { error in
                XCTAssertTrue("\(error)".contains(file) && "\(error)".contains(fragment), "\(error)", line: line)
            }
            XCTAssertThrowsError(try HFModelFolder.read(from: dir, chatFormat: chatFormat), line: line)
        }
        func edit(_ file: String, _ change: (String) -> String) throws {
            let url = dir.appendingPathComponent(file)
            try change(try String(contentsOf: url, encoding: .utf8)).write(to: url, atomically: true, encoding: .utf8)
        }
        try HFModelFolder.check(dir)

        try edit("chat_template.jinja") { $0.replacingOccurrences(of: "assistant", with: "bot") }
        expect("chat_template.jinja", "not one PrefLab knows")
        XCTAssertEqual(try HFModelFolder.read(from: dir, chatFormat: "chatml").codec.template, .chatML, "chat_format: overrides")
        expect(dir.path, "chat_format \"tulu\" is not one of", chatFormat: "tulu")
        try fm.removeItem(at: dir.appendingPathComponent("chat_template.jinja"))
        expect("tokenizer_config.json", "no chat template")

        try edit("tokenizer.json") { $0.replacingOccurrences(of: "\"add_prefix_space\": false", with: "\"add_prefix_space\": true") }
        expect("tokenizer.json", "add_prefix_space false", chatFormat: "chatml")
        try fm.removeItem(at: dir.appendingPathComponent("tokenizer.json"))
        expect("tokenizer.json", "missing", chatFormat: "chatml")

        try edit("config.json") { $0.replacingOccurrences(of: "\"intermediate_size\": 128", with: "\"intermediate_size\": 96") }
        expect("model-0000", "config.json implies [96, 64]", chatFormat: "chatml")
        try edit("model.safetensors.index.json") { $0.replacingOccurrences(of: "model-00003-of-00003", with: "model-00004-of-00003") }
        expect("model.safetensors.index.json", "shard model-00004-of-00003.safetensors does not exist")
        try fm.removeItem(at: dir.appendingPathComponent("config.json"))
        expect("config.json", "missing")
    }

    private func makeTempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-hf-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}
