import Foundation
import XCTest
@testable import Tokenizer

/// Training, round trips of text and bytes, the tokenizer.json file and chat templates.
final class TrainingAndFileTests: XCTestCase {
    /// A deterministic pseudo-English corpus (an LCG picks words), so tests need no data files.
    static func corpus(documents: Int, seed: UInt64 = 7) -> [String] {
        let words = ["the", "cat", "sat", "on", "a", "mat", "and", "then", "ran", "to", "its", "home",
                     "42", "apples", "cost", "3.50", "dollars", "naïve", "café", "東京", "isn't", "we'll"]
        var state = seed
        func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        return (0..<documents).map { _ in
            (0..<(20 + next(30))).map { _ in words[next(words.count)] }.joined(separator: next(5) == 0 ? "\n" : " ")
        }
    }

    func testTrainingIsDeterministicAndReachesTheVocabSize() {
        let corpus = Self.corpus(documents: 300)
        let specials = ChatTemplate.simple.specialTokens + ["<|endoftext|>"]
        let a = BPETokenizer.train(corpus: corpus, vocabSize: 300, specialTokens: specials)
        let b = BPETokenizer.train(corpus: corpus, vocabSize: 300, specialTokens: specials)
        XCTAssertEqual(a.vocabSize, 300)
        XCTAssertEqual(a.merges.count, 300 - 256 - specials.count)
        XCTAssertTrue(a.merges.elementsEqual(b.merges, by: { $0 == $1 }))
        XCTAssertEqual(a.vocab, b.vocab)
        XCTAssertEqual(a.specialTokens["<|system|>"], 0)
        XCTAssertEqual(a.specialTokens["<|endoftext|>"], 4)
        XCTAssertEqual(a.bos, 4)  // inferred: <|endoftext|>
        XCTAssertEqual(a.eos, 3)  // inferred: <|end|>
        XCTAssertNil(a.pad)
        // The most frequent pair in this corpus is " " + a word start; the first merge must be a real pair.
        XCTAssertEqual(a.id(of: a.merges[0].0 + a.merges[0].1), Int32(256 + specials.count))
        // Merges compress: far fewer tokens than bytes.
        let text = corpus[0]
        XCTAssertLessThan(Double(a.encode(text).count), 0.5 * Double(text.utf8.count))
    }

    func testTrainingCountsMergesExactly() {
        // Words: "ab" x3, "abc" x2 -> pair (a,b) occurs 5 times, then (ab,c) twice.
        let tok = BPETokenizer.train(corpus: ["ab ab ab abc abc"], vocabSize: 259, specialTokens: [], preTokenizer: .gpt2)
        XCTAssertEqual(tok.merges.count, 3)
        XCTAssertTrue(tok.merges[0] == ("a", "b"), "\(tok.merges)")
        XCTAssertTrue(tok.merges[1] == ("Ġ", "ab"), "\(tok.merges)")  // " ab" x4
        XCTAssertTrue(tok.merges[2] == ("Ġab", "c"), "\(tok.merges)")
        XCTAssertEqual(tok.encode("ab abc"), [256, 258])
        // minFrequency 2: nothing left that occurs twice, so training stops short of a larger size.
        XCTAssertEqual(BPETokenizer.train(corpus: ["ab ab ab abc abc"], vocabSize: 400, specialTokens: []).vocabSize, 259)
    }

    func testRoundTripsAnyTextAndAnyBytes() {
        let tok = BPETokenizer.train(corpus: Self.corpus(documents: 200), vocabSize: 400, specialTokens: ["<|end|>"])
        let texts = ["", " ", "  \n\n\t x", "Hello, wörld! 123 😀 東京 <|end|> end", "<|end|><|end|>", "\u{0}\u{7F}\u{FEFF}"]
        for t in texts { XCTAssertEqual(tok.decode(tok.encode(t)), t) }
        var state: UInt64 = 1
        for length in [1, 7, 100, 1000] {
            let bytes: [UInt8] = (0..<length).map { _ in
                state = state &* 6364136223846793005 &+ 1442695040888963407
                return UInt8(truncatingIfNeeded: state >> 56)
            }
            XCTAssertEqual(tok.decodeBytes(tok.encode(bytes: bytes)), bytes)
        }
    }

    func testSaveLoadRoundTripAndBadFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let tok = BPETokenizer.train(corpus: Self.corpus(documents: 200), vocabSize: 350,
                                     specialTokens: ["<|endoftext|>", "<|pad|>"])
        let url = dir.appendingPathComponent("tokenizer.json")
        try tok.save(to: url)
        let back = try BPETokenizer.load(from: url)
        XCTAssertEqual(back.vocab, tok.vocab)
        XCTAssertTrue(back.merges.elementsEqual(tok.merges, by: { $0 == $1 }))
        XCTAssertEqual(back.specialTokens, tok.specialTokens)
        XCTAssertEqual([back.bos, back.eos, back.pad], [0, 0, 1])
        XCTAssertEqual(back.preTokenizer, .gpt2Digits)
        let text = "the cat <|endoftext|> 3.50 café"
        XCTAssertEqual(back.encode(text), tok.encode(text))

        XCTAssertEqual(BPETokenizer.jsonString("a\"b\\c\n\u{1}é"), #""a\"b\\c\n\u0001é""#)

        // Roles live in HF's tokenizer_config.json form beside the file; HF's {"content": ...} form reads too.
        let companion = dir.appendingPathComponent("tokenizer_config.json")
        XCTAssertEqual(BPETokenizer.companionURL(url), companion)
        let rolesJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: companion)) as? [String: String]
        XCTAssertEqual(rolesJSON, ["bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "pad_token": "<|pad|>"])
        try #"{"eos_token": {"content": "<|pad|>", "special": true}}"#.write(to: companion, atomically: true, encoding: .utf8)
        let hfStyle = try BPETokenizer.load(from: url)
        XCTAssertEqual([hfStyle.bos, hfStyle.eos, hfStyle.pad], [nil, 1, nil])
        try FileManager.default.removeItem(at: companion)
        XCTAssertNil(try BPETokenizer.load(from: url).eos)
        let root = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any]
        XCTAssertEqual((root?["model"] as? [String: Any]).flatMap { $0["vocab"] as? [String: Int] }?["<|pad|>"], 1)

        func expectError(_ json: String, _ fragment: String, line: UInt = #line) throws {
            let bad = dir.appendingPathComponent("bad.json")
            try json.write(to: bad, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try BPETokenizer.load(from: bad), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment) && "\(error)".contains("bad.json"), "\(error)", line: line)
            }
        }
        try expectError("[1, 2]", "not a JSON object")
        try expectError("{\"model\": {\"type\": \"WordPiece\"}}", "not BPE")
        try expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [\"a b\"]}}", "name tokens not in the vocabulary")
        try expectError("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": \"x\"}, \"merges\": []}}", "\"a\"")
        XCTAssertThrowsError(try BPETokenizer.load(from: dir.appendingPathComponent("absent.json")))
    }

    func testChatTemplatesRenderAndEncodeMarkersAsSpecialTokens() {
        let chat: [(role: String, content: String)] = [("user", "Hi"), ("assistant", "Hello"), ("user", "2+2?")]
        XCTAssertEqual(ChatTemplate.chatML.render(chat, addGenerationPrompt: true),
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHello<|im_end|>\n<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.smolLM2.render([("user", "Hi")], addGenerationPrompt: false),
                       "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        XCTAssertEqual(ChatTemplate.smolLM2.render([("system", "Be brief."), ("user", "Hi")], addGenerationPrompt: false),
                       "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n")
        let simple = ChatTemplate.simple.render([("user", "Hi")], addGenerationPrompt: true)
        XCTAssertEqual(simple, "<|user|>\nHi<|end|>\n<|assistant|>\n")

        let tok = BPETokenizer.train(corpus: ["Hi there"], vocabSize: 300, specialTokens: ChatTemplate.simple.specialTokens)
        let ids = tok.encode(simple)
        XCTAssertEqual(ids.first, tok.specialTokens["<|user|>"])
        XCTAssertEqual(ids.last, 14)  // "\n" is byte 10: id 4 + 10 after the four specials
        XCTAssertTrue(ids.contains(3))  // <|end|>
        XCTAssertEqual(tok.eos, tok.specialTokens[ChatTemplate.simple.endOfTurn])
        XCTAssertEqual(tok.decode(ids), simple)

        let jinja = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
        XCTAssertEqual(ChatTemplate.matching(jinja: jinja), .chatML)
        XCTAssertEqual(ChatTemplate.matching(jinja: jinja + "You are a helpful AI assistant named SmolLM, trained by Hugging Face"), .smolLM2)
        XCTAssertNil(ChatTemplate.matching(jinja: "[INST] {{ content }} [/INST]"))
    }
}
