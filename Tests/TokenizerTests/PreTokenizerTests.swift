import XCTest
@testable import Tokenizer

/// The hand-written scanner against Python `regex` running GPT-2's pattern
/// (`'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`; for `gpt2Digits`
/// the text is first split on `(\p{N})`). Expected pieces were printed by that script.
final class PreTokenizerTests: XCTestCase {
    func pieces(_ text: String, _ p: PreTokenizer) -> [String] {
        let bytes = Array(text.utf8)
        return p.split(bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    func testMatchesGPT2Regex() {
        let cases: [(String, [String])] = [
            ("Hello world", ["Hello", " world"]),
            ("I'm here, they'll see  it's\tok\n\nnew",
             ["I", "'m", " here", ",", " they", "'ll", " see", " ", " it", "'s", "\t", "ok", "\n", "\n", "new"]),
            ("x = 12345 + 3.14;", ["x", " =", " 12345", " +", " 3", ".", "14", ";"]),
            ("  leading and trailing  ", [" ", " leading", " and", " trailing", "  "]),
            ("naïve café — 東京タワー ٣٤", ["naïve", " café", " —", " 東京タワー", " ٣٤"]),
            ("a\n b\r\n\tc", ["a", "\n", " b", "\r\n", "\t", "c"]),
            ("Don'T 's 'S", ["Don", "'", "T", " '", "s", " '", "S"]),
            ("won't!!! ?? ...", ["won", "'t", "!!!", " ??", " ..."]),
            ("  \n  x", ["  \n ", " x"]),
            ("¼½ Ⅻ 2²", ["¼½", " Ⅻ", " 2²"]),
        ]
        for (text, expected) in cases { XCTAssertEqual(pieces(text, .gpt2), expected, text) }
    }

    func testIndividualDigitsMatchHFDigitsThenRegex() {
        let cases: [(String, [String])] = [
            ("x = 12345 + 3.14;", ["x", " =", " ", "1", "2", "3", "4", "5", " +", " ", "3", ".", "1", "4", ";"]),
            ("naïve café — 東京タワー ٣٤", ["naïve", " café", " —", " 東京タワー", " ", "٣", "٤"]),
            ("¼½ Ⅻ 2²", ["¼", "½", " ", "Ⅻ", " ", "2", "²"]),
            ("I'm here", ["I", "'m", " here"]),
        ]
        for (text, expected) in cases { XCTAssertEqual(pieces(text, .gpt2Digits), expected, text) }
    }

    func testInvalidUTF8BytesArePunctuationAndEveryByteIsCovered() {
        let bytes: [UInt8] = [0x61, 0xFF, 0xC3, 0x20, 0x62, 0xE2, 0x82]  // a, bad, truncated é, " b", truncated €
        let ranges = PreTokenizer.gpt2.split(bytes)
        XCTAssertEqual(ranges, [0..<1, 1..<3, 3..<5, 5..<7])
        XCTAssertEqual(ranges.map(\.count).reduce(0, +), bytes.count)
    }
}
