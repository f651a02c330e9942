import Checkpoint
import Foundation
import Llama
import Pipeline
import Preference
import RecipeSpec
import StageSpecs
import Tensor
import Tokenizer
import TestSupport
import XCTest
@testable import Stages

/// The Python with `transformers` that reference checks run (scripts/hf_reference.py):
/// `PREFLAB_ENGINES_PYTHON`, else the project's `.venv-engines/bin/python` (scripts/setup-engines.sh).
enum EnginesPython {
    static let script = QuickstartTests.root.appendingPathComponent("scripts/hf_reference.py").path

    /// The interpreter, or a skip that says why there is none.
    static func require() throws -> String {
        switch ReferencePython.lookup(importing: "transformers, tokenizers, torch", setup: "scripts/setup-engines.sh") {
        case .success(let path): return path
        case .failure(let missing):
            print("skipping: \(missing.reason)")
            throw XCTSkip(missing.reason)
        }
    }
}

/// Round trips with `transformers` as the reference: PrefLab's model nodes load there with the same
/// log-probs, scores and chat rendering; folders `transformers` made load in PrefLab with the same
/// log-probs. Skipped, saying why, without the engines' Python.
final class HFRoundTripTests: XCTestCase {
    /// One plain turn, a system turn, and a multi-turn dialogue with an earlier answer.
    static let dialogues: [(prompt: Prompt, response: String)] = [
        (Prompt("Collect words that start with b, please."), "bee bread blue"),
        (Prompt(messages: [ChatMessage(role: "system", content: "Answer in few words."),
                           ChatMessage(role: "user", content: "Name three colours.")]), "red, green and blue"),
        (Prompt(messages: [ChatMessage(role: "user", content: "What is 12 + 30?"), ChatMessage(role: "assistant", content: "It is 42."),
                           ChatMessage(role: "user", content: "And twice that?")]), "Twice 42 is 84."),
    ]

    struct Result: Decodable {
        struct Rendered: Decodable { var prompt: [Int32]; var response: [Int32] }
        var architecture: String?
        var loading: [String: [String]]?
        var eos_token: String?
        var generation_eos: Int32?
        var chat: [Rendered]
        var token_logprobs: [[Double]]?
        var scores: [Double]?
        var scores_batched: [Double]?
    }

    /// Asks transformers about each folder (one Python process), with the dialogues and, given a codec,
    /// PrefLab's pairs to score (else transformers scores its own rendering); a folder with `make`
    /// options is first made by transformers (hf_reference.py's make-fixture).
    private func transformers(_ python: String, _ folders: [(dir: URL, codec: TokenizerCodec?, make: [String: Any]?)]) throws -> [Result] {
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-hfref-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: work) }
        let request: [String: Any] = ["folders": folders.map { folder -> [String: Any] in
            var entry: [String: Any] = ["dir": folder.dir.path, "dialogues": Self.dialogues.map { d in
                ["messages": d.prompt.messages.map { ["role": $0.role, "content": $0.content] }, "response": d.response] }]
            if let codec = folder.codec {
                entry["sequences"] = Self.dialogues.map { d in
                    let pair = Self.pair(codec, d.prompt, d.response)
                    return ["prompt": pair.prompt.map(Int.init), "response": pair.response.map(Int.init)] }
            }
            if let make = folder.make { entry["make"] = make }
            return entry
        }]
        let requestURL = work.appendingPathComponent("request.json"), outURL = work.appendingPathComponent("out.json")
        try JSONSerialization.data(withJSONObject: request).write(to: requestURL)
        try ChildProcess.checked(python, [EnginesPython.script, "check", requestURL.path, outURL.path])
        struct Out: Decodable { var folders: [Result] }
        return try JSONDecoder().decode(Out.self, from: Data(contentsOf: outURL)).folders
    }

    static func pair(_ codec: TokenizerCodec, _ prompt: Prompt, _ response: String) -> SequencePair {
        SequencePair(prompt: codec.promptTokens(prompt), response: codec.encode(response) + [codec.eos])
    }

    /// Checks transformers' view of one folder against PrefLab's model and codec; returns the largest
    /// log-prob or score difference.
    private func compare(_ name: String, _ r: Result, _ model: LlamaModel?, _ codec: TokenizerCodec) throws -> Double {
        for (key, list) in r.loading ?? [:] {
            XCTAssertEqual(list, [], "\(name): transformers' loading report \(key)")
        }
        XCTAssertEqual(r.eos_token, codec.tokenizer.token(of: codec.eos), "\(name): tokenizer eos is the end-of-turn token")
        for (i, d) in Self.dialogues.enumerated() {
            XCTAssertEqual(r.chat[i].prompt, codec.promptTokens(d.prompt), "\(name): dialogue \(i) rendered by apply_chat_template")
            XCTAssertEqual(r.chat[i].response, codec.encode(d.response), "\(name): dialogue \(i) response")
        }
        guard let model else { return 0 }
        let pairs = Self.dialogues.map { Self.pair(codec, $0.prompt, $0.response) }
        var worst = 0.0
        if model.head == .lm {
            XCTAssertEqual(r.generation_eos, codec.eos, "\(name): generation stops on the end-of-turn token")
            let theirs = try XCTUnwrap(r.token_logprobs, name)
            for (i, p) in pairs.enumerated() {
                let lp = model.tokenLogProbs(TokenBatch(sequences: [p.prompt + p.response], pad: 0), keepActivations: false)
                let ours = (p.prompt.count..<(p.prompt.count + p.response.count)).map { Double(lp[$0]) }
                XCTAssertEqual(ours.count, theirs[i].count, name)
                for (a, b) in zip(ours, theirs[i]) { worst = max(worst, abs(a - b)) }
            }
        } else {
            XCTAssertEqual(r.architecture, "LlamaForSequenceClassification", name)
            let ours = try RewardModel(model: model, codec: codec).scores(pairs)
            for theirs in [try XCTUnwrap(r.scores, name), try XCTUnwrap(r.scores_batched, "\(name): batched (pad_token_id)")] {
                for (a, b) in zip(ours, theirs) { worst = max(worst, abs(a - b)) }
            }
        }
        XCTAssertLessThan(worst, 1e-4, "\(name): largest difference from transformers")
        return worst
    }

    func testEveryModelNodeOfATinyRunLoadsInTransformersAlike() throws {
        let python = try EnginesPython.require()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-hfrt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: """
            name: hf-round-trip
            stages:
              tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200 }
              chatml_tokenizer: { kind: tokenizer, task: word_collector, vocab_size: 300, documents: 200, template: chatml }
              sft: { kind: sft, task: word_collector, tokenizer: tokenizer, examples: 64, epochs: 1, batch_size: 16, d_model: 32,
                     layers: 1, heads: 2, kv_heads: 1, hidden: 64, max_seq_len: 96 }
              preferences: { kind: task_preferences, policy: sft, task: word_collector, size: 16, held_out: 4, max_new_tokens: 8, drop_ties: false }
              reward_model: { kind: reward_model, preferences: preferences, init: sft, batch_size: 8, micro_batch: 4, learning_rate: 1.0e-3 }
              dpo: { kind: dpo, policy: sft, preferences: preferences, batch_size: 8, micro_batch: 8, epochs: 1 }
            """, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir)
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        XCTAssertTrue(report.succeeded, "\(report.failures.map { "\($0.stage): \($0.outcome)" })")
        func folder(_ stage: String) throws -> URL {
            store.objectDirectory(for: try XCTUnwrap(graph.node(cellIndex: 0, stage: stage)).hash)
        }
        var folders: [(name: String, dir: URL, model: LlamaModel?, codec: TokenizerCodec)] = []
        for stage in ["sft", "dpo", "reward_model"] {
            let (model, codec) = try ModelArtifact.load(from: try folder(stage))
            folders.append((stage, try folder(stage), model, codec))
        }
        XCTAssertEqual(folders[2].model?.scoreBias, 0, "the Bradley–Terry head bias keeps its initial value")
        // The chat formats on their own: the ChatML tokenizer node, and the same tokenizer with SmolLM2's template.
        let chatml = try TokenizerArtifact.load(from: try folder("chatml_tokenizer"))
        let smol = try TokenizerCodec(tokenizer: chatml.tokenizer, template: .smolLM2)
        let smolDir = dir.appendingPathComponent("smollm2-tokenizer")
        try FileManager.default.createDirectory(at: smolDir, withIntermediateDirectories: true)
        try HFModelFolder.writeTokenizer(smol, to: smolDir)
        folders += [("chatml_tokenizer", try folder("chatml_tokenizer"), nil, chatml), ("smollm2", smolDir, nil, smol)]

        let results = try transformers(python, folders.map { ($0.dir, $0.codec, nil) })
        for (f, r) in zip(folders, results) {
            let worst = try compare(f.name, r, f.model, f.codec)
            print("\(f.name): largest difference from transformers \(worst)")
        }
    }

    func testFoldersMadeByTransformersGiveTheSameLogProbsInPrefLab() throws {
        let python = try EnginesPython.require()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-hfmk-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let variants: [(name: String, make: [String: Any])] = [
            ("f32-tied-single", ["dtype": "float32", "tied": true]),
            ("f16-untied-sharded", ["dtype": "float16", "max_shard_size": "60KB"]),
        ]
        let results = try transformers(python, variants.map { (dir.appendingPathComponent($0.name), nil, $0.make) })
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("f16-untied-sharded/model.safetensors.index.json").path))
        for (v, r) in zip(variants, results) {
            let out = dir.appendingPathComponent(v.name)
            try HFModelFolder.check(out)
            let (model, codec) = try HFModelFolder.read(from: out)
            XCTAssertEqual(model.config.tiedEmbeddings, v.make["tied"] != nil, v.name)
            let worst = try compare(v.name, r, model, codec)
            print("\(v.name): largest difference from transformers \(worst)")
        }
    }

    /// SmolLM2-135M-Instruct (models/, scripts/fetch-smollm2.sh) through the `pretrained` stage: its node
    /// (tied embeddings, 49k tokens with the digit-splitting pre-tokenizer, SmolLM2's own template with
    /// its default system prompt) loads in transformers alike.
    func testSmolLM2NodeLoadsInTransformersAlike() throws {
        let gguf = PretrainedStageTests.model
        guard FileManager.default.fileExists(atPath: gguf.path) else {
            throw XCTSkip("models/SmolLM2-135M-Instruct.Q4_1.gguf is absent: run scripts/fetch-smollm2.sh (CI does)")
        }
        let python = try EnginesPython.require()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-hfsmol-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let recipe = try RecipeLoader(catalog: StageSpecs.catalog).load(yaml: """
            name: smol
            stages:
              base: { kind: pretrained, file: \(gguf.path), max_seq_len: 128 }
            """, file: dir.appendingPathComponent("r.yaml").path)
        let graph = try StageSpecs.graph(recipe)
        let store = try ArtifactStore(root: dir)
        let report = try Executor(store: store, runners: EmbeddedRunners.all, jobs: 1, display: SilentProgressDisplay()).run(graph)
        XCTAssertTrue(report.succeeded, "\(report.failures.map { "\($0.stage): \($0.outcome)" })")
        let node = store.objectDirectory(for: try XCTUnwrap(graph.node(cellIndex: 0, stage: "base")).hash)
        let (model, codec) = try ModelArtifact.load(from: node)
        XCTAssertEqual(codec.template, .smolLM2)
        let result = try XCTUnwrap(try transformers(python, [(node, codec, nil)]).first)
        let worst = try compare("smollm2", result, model, codec)
        print("smollm2: largest difference from transformers \(worst)")
    }

    /// A node written before HF folders (camelCase engine config.json, head.json, chat_template.json)
    /// still loads, weights and codec intact.
    func testOlderNodeFoldersStillLoad() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-legacy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = BPETokenizer.train(corpus: ["hello world, how are you?", "the cat sat on the mat"], vocabSize: 300,
                                     specialTokens: ["<|endoftext|>", "<|pad|>"] + ChatTemplate.simple.specialTokens,
                                     eos: "<|endoftext|>", pad: "<|pad|>")
        let codec = try TokenizerCodec(tokenizer: tok, template: .simple)
        let config = LlamaConfig(vocabSize: tok.vocabSize, dModel: 16, nLayers: 1, nHeads: 2, nKVHeads: 1, hidden: 24, maxSeqLen: 32)
        for head in [HeadKind.lm, .scalar] {
            let model = LlamaModel(config: config, head: head, seed: 5)
            // The old layout, as ModelArtifact.save wrote it before.
            try Safetensors.write(model.namedTensors(), to: dir.appendingPathComponent("model.safetensors"))
            try ConfigJSON.write(model.config, to: dir.appendingPathComponent("config.json"))
            try ConfigJSON.write(ModelArtifact.Legacy.HeadFile(head: head), to: dir.appendingPathComponent("head.json"))
            try tok.save(to: dir.appendingPathComponent("tokenizer.json"))
            try ConfigJSON.write(ChatTemplate.simple, to: dir.appendingPathComponent("chat_template.json"))
            XCTAssertTrue(try String(contentsOf: dir.appendingPathComponent("config.json"), encoding: .utf8).contains("\"dModel\""))

            let (back, backCodec) = try ModelArtifact.load(from: dir)
            XCTAssertEqual(back.head, head)
            XCTAssertEqual(back.config, config)
            XCTAssertEqual(back.namedTensors(), model.namedTensors())
            XCTAssertEqual(backCodec.template, .simple)
            XCTAssertEqual(backCodec.eos, codec.eos)
            XCTAssertEqual(backCodec.pad, codec.pad)
            XCTAssertEqual(try TokenizerArtifact.load(from: dir).eos, codec.eos, "an old tokenizer node")
        }
    }
}
