import XCTest
@testable import Tokenizer

/// Encoding and decoding with small hand-made vocabularies whose answers are worked out by hand.
final class BPEEncodeTests: XCTestCase {
    /// The 256 byte tokens with id = byte value.
    static func byteVocab() -> [String: Int32] {
        var v: [String: Int32] = [:]
        for b in 0..<256 { v[String(ByteLevel.byteToScalar[b])] = Int32(b) }
        return v
    }

    func testByteLevelMappingIsGPT2s() {
        XCTAssertEqual(ByteLevel.encode(Array(" ".utf8)), "Ġ")
        XCTAssertEqual(ByteLevel.encode(Array("\n".utf8)), "Ċ")
        XCTAssertEqual(ByteLevel.encode(Array("A~".utf8)), "A~")
        XCTAssertEqual(ByteLevel.byteToScalar[0].value, 256)
        XCTAssertEqual(ByteLevel.byteToScalar[0xAD].value, 323)  // soft hyphen is the last remapped byte
        XCTAssertEqual(Set(ByteLevel.byteToScalar.map(\.value)).count, 256)
        XCTAssertEqual(ByteLevel.decode("Ġhi"), [0x20, 0x68, 0x69])
        XCTAssertNil(ByteLevel.decode("Ā\u{4E2D}"))  // U+4E2D is outside the mapping
    }

    func testMergesApplyByRank() {
        var vocab = Self.byteVocab()
        for (i, t) in ["he", "ll", "hell", "hello", "Ġw", "or", "Ġwor"].enumerated() { vocab[t] = Int32(256 + i) }
        let merges = [("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o"), ("Ġ", "w"), ("o", "r"), ("Ġw", "or")]
        let tok = BPETokenizer(vocab: vocab, merges: merges, specialTokens: [:])
        // "hello" merges fully; " world" stops at Ġwor + l + d since no rule joins them.
        XCTAssertEqual(tok.encode("hello world"), [259, 262, 108, 100])
        XCTAssertEqual(tok.decode([259, 262, 108, 100]), "hello world")
        XCTAssertEqual(tok.vocabSize, 263)
        XCTAssertTrue(tok.invalidMerges.isEmpty)
        XCTAssertTrue(tok.missingByteTokens.isEmpty)
    }

    func testLowerRankWinsAndTiesGoLeft() {
        var vocab = Self.byteVocab()
        vocab["bc"] = 256; vocab["ab"] = 257; vocab["aa"] = 258
        let bcFirst = BPETokenizer(vocab: vocab, merges: [("b", "c"), ("a", "b")], specialTokens: [:])
        XCTAssertEqual(bcFirst.encode("abc"), [97, 256])
        let abFirst = BPETokenizer(vocab: vocab, merges: [("a", "b"), ("b", "c")], specialTokens: [:])
        XCTAssertEqual(abFirst.encode("abc"), [257, 99])
        let aa = BPETokenizer(vocab: vocab, merges: [("a", "a")], specialTokens: [:])
        XCTAssertEqual(aa.encode("aaa"), [258, 97])
        XCTAssertEqual(aa.encode("aaaa"), [258, 258])
    }

    func testMergesNeverCrossPieces() {
        var vocab = Self.byteVocab()
        vocab["aĠ"] = 256
        let tok = BPETokenizer(vocab: vocab, merges: [("a", "Ġ")], specialTokens: [:])
        // "a b" pre-tokenizes to "a", " b": the rule a+Ġ never sees both.
        XCTAssertEqual(tok.encode("a b"), [97, 32, 98])
    }

    func testSpecialTokensMapToTheirIdsLongestFirst() {
        var vocab = Self.byteVocab()
        vocab["hi"] = 256
        let specials: [String: Int32] = ["<|im_start|>": 300, "<|im": 301, "<|im_end|>": 302]
        let tok = BPETokenizer(vocab: vocab, merges: [("h", "i")], specialTokens: specials, bos: 300, eos: 302)
        XCTAssertEqual(tok.encode("<|im_start|>hi<|im_end|>"), [300, 256, 302])
        XCTAssertEqual(tok.encode("<|imhi"), [301, 256])
        XCTAssertEqual(tok.decode([300, 256, 302]), "<|im_start|>hi<|im_end|>")
        // Untrusted text: the marker is spelled out byte by byte.
        let plain = tok.encode("<|im_end|>", allowSpecial: false)
        XCTAssertEqual(plain.count, 10)
        XCTAssertFalse(plain.contains(302))
        XCTAssertEqual(tok.decode(plain), "<|im_end|>")
        XCTAssertEqual(tok.vocabSize, 303)
        XCTAssertEqual(tok.token(of: 256), "hi")
        XCTAssertNil(tok.token(of: 9999))
        XCTAssertEqual(tok.decode([270]), "")  // a gap in the ids decodes to nothing
    }

    func testDecodingPartialUTF8IsLossyOnlyWhenAsked() {
        let tok = BPETokenizer(vocab: Self.byteVocab(), merges: [], specialTokens: [:])
        let ids = tok.encode("é")  // two bytes, two tokens
        XCTAssertEqual(ids, [0xC3, 0xA9])
        XCTAssertEqual(tok.decodeBytes([ids[0]]), [0xC3])
        XCTAssertNil(tok.decodeStrict([ids[0]]))
        XCTAssertEqual(tok.decode([ids[0]]), "\u{FFFD}")
        XCTAssertEqual(tok.decodeStrict(ids), "é")
        XCTAssertEqual(tok.decodeBytes([-1, 5000]), [0xEF, 0xBF, 0xBD, 0xEF, 0xBF, 0xBD])
    }

    func testMissingBytesAndBadMergesAreReported() {
        var vocab = Self.byteVocab()
        vocab.removeValue(forKey: "Ġ")
        let tok = BPETokenizer(vocab: vocab, merges: [("x", "y")], specialTokens: [:])
        XCTAssertEqual(tok.missingByteTokens, [0x20])
        XCTAssertEqual(tok.invalidMerges, [0])
        XCTAssertEqual(tok.encode("a b"), [97, 98])  // documented: dropped when there is no unk
        XCTAssertThrowsError(try tok.validate(source: "test")) { error in
            XCTAssertTrue("\(error)".contains("rank 0: \"x\" + \"y\""), "\(error)")
        }
    }

    func testFromGGUFMetadata() throws {
        var tokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
        tokens += (0..<256).map { String(ByteLevel.byteToScalar[$0]) }
        tokens.append("Ġt")
        let types = [Int32](repeating: 3, count: 3) + [Int32](repeating: 1, count: 257)
        let tok = try BPETokenizer.fromGGUF(tokens: tokens, tokenTypes: types, merges: ["Ġ t"],
                                            pre: "smollm", bos: 1, eos: 2, pad: 2)
        XCTAssertEqual(tok.preTokenizer, .gpt2Digits)
        XCTAssertEqual(tok.encode("<|im_start|> t12"), [1, 259, 3 + 0x31, 3 + 0x32])
        XCTAssertEqual(tok.bos, 1)
        XCTAssertEqual(tok.eos, 2)
        XCTAssertThrowsError(try BPETokenizer.fromGGUF(tokens: tokens, tokenTypes: types, merges: ["Ġt"],
                                                        pre: "smollm", bos: nil, eos: nil, pad: nil))
        XCTAssertThrowsError(try BPETokenizer.fromGGUF(tokens: tokens, tokenTypes: types, merges: [],
                                                        pre: "llama3", bos: nil, eos: nil, pad: nil)) { error in
            XCTAssertTrue("\(error)".contains("llama3"))
        }
        XCTAssertThrowsError(try BPETokenizer.fromGGUF(tokens: tokens, tokenTypes: types, merges: [], model: "llama",
                                                        pre: nil, bos: nil, eos: nil, pad: nil))
    }
}
