import XCTest
@testable import Preference

/// Broken input: each bad row is reported with file and line and skipped (or fails the load under
/// `on_error: fail`), and no valid row around it is lost.
final class DataTestsMalformed: XCTestCase {
    let good1 = #"{"prompt": "p1", "chosen": "c1", "rejected": "r1"}"#
    let good2 = #"{"prompt": "p2", "chosen": "c2", "rejected": "r2"}"#

    /// Loads `bytes` as file `name` through a pair entry and checks: kept pairs, the one skip reason,
    /// and that its first example ends with `suffix` (`name:line: message`).
    func check(_ name: String, _ bytes: [UInt8], kept: Int, _ reason: SkipReason, _ suffix: String,
               extra: String = "", source: String = "", file: StaticString = #filePath, line: UInt = #line) throws {
        let t = try TempCatalog()
        let path = try t.data(name, bytes)
        try t.entry("e", pairEntry(path, extra, source: source))
        let d = try t.load("e")
        XCTAssertEqual(d.train.count, kept, "kept", file: file, line: line)
        XCTAssertEqual(d.report.skipped.map(\.reason), [reason], file: file, line: line)
        let example = d.report.skipped.first?.examples.first ?? ""
        XCTAssertTrue(example.contains("\(name):\(suffix)"), "got: \(example)", file: file, line: line)
        // Under on_error: fail the same file stops the load with the same place and message.
        if reason.isMalformed {
            try t.entry("f", pairEntry(path, extra + "\non_error: fail", source: source))
            XCTAssertThrowsError(try t.load("f"), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains("\(name):\(suffix)"), "\(error)", file: file, line: line)
                XCTAssertTrue("\(error)".hasSuffix("[\(reason.rawValue); on_error: fail]"), "\(error)", file: file, line: line)
            }
        }
    }

    func lines(_ ls: String...) -> [UInt8] { Array(ls.joined(separator: "\n").utf8) + [0x0A] }

    func testBadJSON() throws {
        try check("bad.jsonl", lines(good1, #"{"prompt": "p", "chosen": "c","#, good2), kept: 2, .badJSON, "2: not valid JSON")
    }

    func testBadJSONMessageNamesTheProblem() throws {
        let t = try TempCatalog()
        try t.entry("e", pairEntry(try t.data("bad.jsonl", lines(good1, "{nope}", good2))))
        let msg = try t.load("e").report.skipped[0].examples[0]
        XCTAssertTrue(msg.contains("bad.jsonl:2: not valid JSON: "), msg)
    }

    func testMissingField() throws {
        try check("missing.jsonl", lines(good1, #"{"prompt": "p", "chosen": "c"}"#, good2), kept: 2, .missingField,
                  "2: missing field 'rejected'")
    }

    func testWrongType() throws {
        try check("type.jsonl", lines(good1, #"{"prompt": "p", "chosen": 3, "rejected": "r"}"#, good2), kept: 2, .wrongType,
                  "2: field 'chosen' should be a string or a list of messages, found a number")
    }

    func testRowThatIsNotAnObject() throws {
        try check("list.jsonl", lines(good1, good2, #"["p", "c", "r"]"#), kept: 2, .wrongType,
                  "3: expected a JSON object per record, found a list")
    }

    func testInvalidUTF8() throws {
        let bad = Array(#"{"prompt": "p", "chosen": "c"#.utf8) + [0xFF, 0xFE] + Array(#"", "rejected": "r"}"#.utf8)
        try check("utf8.jsonl", Array(good1.utf8) + [0x0A] + bad + [0x0A] + Array(good2.utf8), kept: 2, .invalidUTF8,
                  "2: invalid UTF-8 at byte 29 of the record")
    }

    func testEmptyResponse() throws {
        try check("empty.jsonl", lines(good1, #"{"prompt": "p", "chosen": "  ", "rejected": "r"}"#, good2), kept: 2,
                  .emptyResponse, "2: chosen response is empty")
    }

    func testEmptyPromptTurn() throws {
        let row = #"{"prompt": [{"role": "user", "content": ""}], "chosen": "c", "rejected": "r"}"#
        try check("turn.jsonl", lines(good1, good2, row), kept: 2, .emptyTurn, "3: prompt turn 1 (user) is empty")
    }

    func testBadMessage() throws {
        let row = #"{"prompt": [{"role": "user"}], "chosen": "c", "rejected": "r"}"#
        try check("msg.jsonl", lines(row, good1, good2), kept: 2, .wrongType, "1: message 0 of 'prompt' needs string 'role' and 'content'")
    }

    func testHugeLine() throws {
        let huge = #"{"prompt": "p", "chosen": ""# + String(repeating: "x", count: 5000) + #"", "rejected": "r"}"#
        try check("huge.jsonl", lines(good1, huge, good2), kept: 2, .lineTooLong,
                  "2: record of 5046 bytes exceeds max_line_bytes 1000", source: "max_line_bytes: 1000")
    }

    func testTruncatedGzipKeepsTheRowsBeforeTheCut() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TempCatalog.fixture("truncated.jsonl.gz"))))
        let t = try TempCatalog()
        let path = try t.data("cut.jsonl.gz", bytes)
        try t.entry("e", "source: {path: \"\(path)\"}\nlayout: pair\nfields: {chosen: chosen, rejected: rejected}\n")
        let d = try t.load("e")
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.report.rowsRead, 2)
        XCTAssertEqual(d.report.skipped.map(\.reason), [.truncatedGzip])
        XCTAssertTrue(d.report.skipped[0].examples[0].contains("cut.jsonl.gz:3: truncated gzip stream"), d.report.skipped[0].examples[0])
    }

    /// Nothing survives this damage: the entry keeps no rows, which is an error naming the gzip problem.
    func testCorruptGzip() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: TempCatalog.fixture("corrupt.jsonl.gz"))))
        let t = try TempCatalog()
        try t.entry("e", pairEntry(try t.data("corrupt.jsonl.gz", bytes)))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".contains("keeps no rows"), "\(error)")
            XCTAssertTrue("\(error)".contains("1 truncated_gzip"), "\(error)")
        }
    }

    func testCSVUnbalancedQuoteResumesOnTheNextLine() throws {
        let csv = "prompt,chosen,rejected\np1,c1,r1\n\"p2,c2,r2\np3,c3,r3\n"
        try check("quotes.csv", Array(csv.utf8), kept: 2, .badCSV,
                  "3: unbalanced quotes: the quoted field opened on line 3 never closes")
    }

    func testCSVWrongFieldCount() throws {
        try check("count.csv", Array("prompt,chosen,rejected\np1,c1\np2,c2,r2\np3,c3,r3\n".utf8), kept: 2, .badCSV,
                  "2: expected 3 fields as in the header, found 2")
    }

    func testCSVStrayQuote() throws {
        try check("stray.csv", Array("prompt,chosen,rejected\np1,c\"1,r1\np2,c2,r2\np3,c3,r3\n".utf8), kept: 2, .badCSV,
                  "2: stray quote inside unquoted field 2")
    }

    func testCSVInvalidUTF8() throws {
        let csv = Array("prompt,chosen,rejected\np1,c1,r1\np2,".utf8) + [0xC3, 0x28] + Array(",r2\np3,c3,r3\n".utf8)
        try check("utf8.csv", csv, kept: 2, .invalidUTF8, "3: invalid UTF-8 in field 2")
    }

    func testJSONArrayWithOneBrokenElement() throws {
        let json = "[\n  \(good1),\n  {\"prompt\": \"p\", \"chosen\": tru, \"rejected\": \"r\"},\n  \(good2)\n]\n"
        try check("arr.json", Array(json.utf8), kept: 2, .badJSON, "3: not valid JSON")
    }

    func testJSONArrayCutOff() throws {
        let json = "[\n  \(good1),\n  \(good2),\n  {\"prompt\": \"p\", \"cho"
        try check("cut.json", Array(json.utf8), kept: 2, .badJSON, "4: the element starting here is cut off: the file ends inside it")
    }

    func testDialogueWithoutAssistantTurn() throws {
        let row = #"{"chosen": "\n\nHuman: hi there", "rejected": "\n\nHuman: hi you"}"#
        let t = try TempCatalog()
        try t.entry("e", "source: {path: \"\(try t.data("d.jsonl", lines(row)))\"}\nlayout: pair\nfields: {chosen: chosen, rejected: rejected}\n")
        // The only row is skipped, so the entry keeps nothing: an error that names the reason and the row.
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".contains("skipped: 1 bad_dialogue"), "\(error)")
            XCTAssertTrue("\(error)".contains("d.jsonl:1: chosen and rejected share no '\\n\\nAssistant:' turn; expected HH-style dialogues"), "\(error)")
        }
    }

    func testScoreNotInScoreMapAndNonNumericScore() throws {
        let t = try TempCatalog()
        let rows = lines(#"{"q": "a", "r": "x", "s": 2}"#, #"{"q": "a", "r": "y", "s": 7}"#, #"{"q": "a", "r": "z", "s": 1}"#,
                         #"{"q": "b", "r": "x", "s": "high"}"#)
        let path = try t.data("judged.jsonl", rows)
        try t.entry("mapped", "source: {path: \"\(path)\"}\nlayout: rated_rows\nfields: {prompt: q, response: r, overall: s}\nscore_map: {\"1\": 0, \"2\": 1}\n")
        let d = try t.load("mapped")
        XCTAssertEqual(d.train.map(\.chosen), ["x"])
        XCTAssertEqual(d.report.count(.badScore), 2)
        XCTAssertTrue(d.report.skipped[0].examples[0].hasSuffix("judged.jsonl:2: score '7' in 's' is not in score_map (1, 2)"))
        try t.entry("raw", "source: {path: \"\(path)\"}\nlayout: rated_rows\nfields: {prompt: q, response: r, overall: s}\n")
        let raw = try t.load("raw")
        XCTAssertEqual(raw.train.map(\.chosen), ["y"])
        XCTAssertEqual(raw.report.skipped.map(\.reason), [.badScore])
        XCTAssertTrue(raw.report.skipped[0].examples[0].hasSuffix("judged.jsonl:4: score 'high' in 's' is not a number"))
    }

    func testEmptyFolderSource() throws {
        let t = try TempCatalog()
        try t.entry("e", pairEntry(TempCatalog.fixture("judged"), source: "pattern: \"*.csv\""))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".hasPrefix("e.yaml:1:16: no files in folder"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("match pattern '*.csv'"), "\(error)")
        }
    }

    func testMissingSourceFileIsAnErrorNotACrash() throws {
        let t = try TempCatalog()
        try t.entry("e", pairEntry("no/such/file.jsonl"))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".hasPrefix("e.yaml:1:16: source path 'no/such/file.jsonl' does not exist"), "\(error)")
        }
    }
}
