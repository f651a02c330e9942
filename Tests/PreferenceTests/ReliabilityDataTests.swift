import Foundation
import XCTest
@testable import Preference
import Randomness

/// Data that is not what its entry says (issue 16): each used to "validate" with zero or half the rows.
final class ReliabilityDataTests: XCTestCase {
    /// A Parquet file named as a dataset used to be read as CSV and load 0 rows without a word; a broken
    /// one now fails as Parquet, saying what is wrong.
    func testParquetIsNamedNotReadAsCSV() throws {
        let t = try TempCatalog()
        let path = try t.data("pairs.parquet", Array("PAR1".utf8) + [0x15, 0x04, 0x15, 0x00, 0x00] + Array("PAR1".utf8))
        try t.entry("e", pairEntry(path))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".contains("pairs.parquet: Parquet: the footer length 5380 does not fit in the file (13 bytes)"), "\(error)")
        }
        let binary = try t.data("blob.csv", [0x41, 0x42, 0x00, 0x01, 0x0A])
        try t.entry("b", pairEntry(binary))
        XCTAssertThrowsError(try t.load("b")) { error in XCTAssertTrue("\(error)".contains("binary content"), "\(error)") }
    }

    /// A stray '}' between array elements (found by DataFuzzTests) used to loop forever, piling up
    /// problems until memory ran out; now it is one problem and the elements around it load.
    func testStrayCloserInAJSONArrayIsOneProblem() throws {
        let t = try TempCatalog()
        let row = #"{"prompt": "p", "chosen": "c", "rejected": "r"}"#, other = #"{"prompt": "q", "chosen": "c", "rejected": "r"}"#
        try t.entry("e", pairEntry(try t.data("a.json", "[\n" + row + "},\n" + other + "]\n")))
        let d = try t.load("e")
        XCTAssertEqual(d.train.count, 2)
        XCTAssertEqual(d.report.count(.badJSON), 1)
        XCTAssertTrue(d.report.skipped.first?.examples.first?.contains("unexpected '}'") ?? false, "\(d.report.skipped)")
    }

    /// A CSV whose header does not match the mapping keeps no rows: an error, not an empty dataset.
    func testEntryThatKeepsNoRowsIsAnError() throws {
        let t = try TempCatalog()
        try t.entry("e", pairEntry(try t.data("x.csv", "question,answer\nq1,a1\nq2,a2\n")))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".contains("keeps no rows: 2 read"), "\(error)")
        }
    }

    /// A source outside the repository and the data root needs `allow_outside: true`.
    func testSourceOutsideTheRootsNeedsAllowOutside() throws {
        let outside = try TempCatalog()
        let path = try outside.data("p.jsonl", #"{"prompt": "p", "chosen": "c", "rejected": "r"}"# + "\n")
        let t = try TempCatalog()
        try t.entry("e", pairEntry(path))
        XCTAssertThrowsError(try t.load("e")) { error in
            XCTAssertTrue("\(error)".contains("allow_outside: true"), "\(error)")
        }
        try t.entry("ok", pairEntry(path, source: "allow_outside: true"))
        XCTAssertEqual(try t.load("ok").train.count, 1)
        try t.entry("up", pairEntry("../" + URL(fileURLWithPath: path).deletingLastPathComponent().lastPathComponent + "/p.jsonl"))
        XCTAssertThrowsError(try t.load("up"), "a relative path climbing out is refused too")
    }
}

/// Deterministic mutation fuzzing of the data readers (JSONL, JSON arrays, CSV, gzip): every fixture,
/// mutated by a seeded generator, must load or fail with `DatasetError` — never crash or hang.
/// Bounded by `PREFLAB_FUZZ_SECONDS` (default 20).
final class DataFuzzTests: XCTestCase {
    func testMutatedDataFilesNeverCrash() throws {
        let names = ["pairs.jsonl", "pairs.json", "pairs.csv", "messages.jsonl", "rated.jsonl", "hh_small.jsonl.gz", "truncated.jsonl.gz"]
        let seeds = try names.map { try Data(contentsOf: URL(fileURLWithPath: TempCatalog.fixture($0))) }
        let tokens = ["{", "}", "[", "]", "\"", "\\", ",", "\n", "\r\n", ":", "null", "1e999", "\"prompt\":", "\"chosen\": [",
                      "\u{1F}\u{8B}", "PAR1", "\"\"", "\\u0000", "\\ud800", "-", "9999999999999999999999"]
        let seconds = Double(ProcessInfo.processInfo.environment["PREFLAB_FUZZ_SECONDS"] ?? "") ?? 20
        var fuzz = DataMutator(seed: 16)
        let t = try TempCatalog()
        let start = Date()
        var runs = 0, loaded = 0
        while Date().timeIntervalSince(start) < seconds {
            let k = fuzz.next(seeds.count)
            let name = "f\(runs % 4)." + ["jsonl", "json", "csv", "jsonl.gz", "txt"][fuzz.next(5)]
            let path = try t.data(name, [UInt8](fuzz.mutate(seeds[k], tokens)))
            try t.entry("e", """
                source: {path: "\(path)"}
                layout: pair
                fields: {prompt: prompt, chosen: chosen, rejected: rejected}
                """)
            do {
                _ = try t.load("e")
                loaded += 1
            } catch is DatasetError {
            } catch {
                XCTFail("run \(runs) (\(names[k])): \(type(of: error)) instead of DatasetError: \(error)")
            }
            runs += 1
        }
        print("data fuzz: \(runs) inputs in \(String(format: "%.1f", Date().timeIntervalSince(start))) s, \(loaded) loaded, 0 crashes")
        XCTAssertGreaterThan(runs, 50)
    }
}

/// A seeded byte mutator over the engine's generator.
struct DataMutator {
    private var rng: SeededRandom
    init(seed: UInt64) { rng = SeededRandom(seed: seed) }

    mutating func next(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(rng.next() % UInt64(bound)) }

    /// One to four random edits.
    mutating func mutate(_ input: Data, _ tokens: [String]) -> Data {
        var b = [UInt8](input)
        for _ in 0...next(4) {
            let at = next(b.count + 1)
            switch next(6) {
            case 0 where !b.isEmpty: b[min(at, b.count - 1)] ^= UInt8(1 << next(8))
            case 1: b.insert(contentsOf: Array(tokens[next(tokens.count)].utf8), at: at)
            case 2 where !b.isEmpty: b.removeSubrange(at..<min(b.count, at + 1 + next(32)))
            case 3: b = Array(b.prefix(at))
            case 4 where !b.isEmpty:
                let from = next(b.count), length = min(b.count - from, 1 + next(128))
                b.insert(contentsOf: Array(b[from..<from + length]), at: at)
            default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at)
            }
        }
        return Data(b)
    }
}
