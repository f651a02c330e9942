import Foundation
import XCTest
@testable import Columnar
@testable import Preference

/// Pairs without their prompts' source (each entry names its prompts after itself).
func unsourced(_ pairs: [PreferencePair]) -> [PreferencePair] {
    pairs.map { p in
        var q = p
        q.prompt.source = nil
        return q
    }
}

/// Parquet and Arrow IPC files written by pyarrow and `datasets` (scripts/make_parquet_fixtures.py)
/// read back row for row as pyarrow reads them (`rows.jsonl`), and map like JSONL in the catalogue.
final class ColumnarTests: XCTestCase {
    static let dir = TempCatalog.fixtures.appendingPathComponent("columnar")

    static func bytes(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
    }

    /// A row as canonical JSON (sorted keys), so values compare by content whatever their Swift types.
    static func canonical(_ row: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self)
    }

    static func expected() throws -> [String] {
        let text = try String(contentsOf: dir.appendingPathComponent("rows.jsonl"), encoding: .utf8)
        return try text.split(separator: "\n").map {
            try canonical(try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]))
        }
    }

    static var parquetFiles: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".parquet") }.sorted()
    }

    func testEveryParquetFixtureReadsBackAsPyarrowDoes() throws {
        let want = try Self.expected()
        XCTAssertEqual(want.count, 40)
        // 4 codecs x dictionary on/off x page v1/v2, the DELTA / BYTE_STREAM_SPLIT file, datasets.to_parquet.
        XCTAssertEqual(Self.parquetFiles.count, 18)
        for name in Self.parquetFiles {
            let rows = try ParquetFile.rows(try Self.bytes(name))
            XCTAssertEqual(try rows.map(Self.canonical), want, name)
        }
    }

    func testArrowStreamsAndFilesReadBackAsPyarrowDoes() throws {
        let want = try Self.expected()
        for name in ["save_to_disk/data-00000-of-00001.arrow", "stream_zstd.arrow", "dictionary.arrow", "file.arrow"] {
            let rows = try ArrowIPCFile.rows(try Self.bytes(name))
            XCTAssertEqual(try rows.map(Self.canonical), want, name)
        }
    }

    /// The nested chat column keeps its shape: a list of `{role, content}`, an empty list, a null list.
    func testNestedColumnsKeepTheirShape() throws {
        let rows = try ParquetFile.rows(try Self.bytes("p_snappy_dict_v2.parquet"))
        let chosen = try XCTUnwrap(rows[0]["chosen"] as? [[String: Any]])
        XCTAssertEqual(chosen.map { $0["role"] as? String }, ["user", "assistant"])
        XCTAssertEqual(rows[4]["chosen"] as? [Any] as? [String], [])
        XCTAssertTrue(rows[3]["rejected"] is NSNull)
        XCTAssertEqual(rows[1]["tags"] as? [Any] as? [NSObject], ["bikes" as NSString, NSNull(), "x" as NSString])
        XCTAssertEqual(String(cString: try XCTUnwrap(rows[0]["flag"] as? NSNumber).objCType), "c", "booleans stay booleans")
    }

    /// The same entry over the JSONL of the expected rows and over each columnar file: the same pairs,
    /// the same skipped rows (null prompts, a null rejected, an empty chosen).
    func testCatalogueEntriesMapColumnsLikeJSONL() throws {
        let c = try TempCatalog()
        func entry(_ path: String, _ extra: String = "") -> String {
            """
            source: {path: "\(path)"\(extra)}
            layout: pair
            fields: {prompt: prompt, chosen: chosen, rejected: rejected, margin: score}
            """
        }
        try c.entry("jsonl", entry(Self.dir.appendingPathComponent("rows.jsonl").path))
        let reference = try c.load("jsonl")
        XCTAssertGreaterThan(reference.train.count, 20)
        XCTAssertGreaterThan(reference.report.rowsRead - reference.report.kept, 3)
        let sources = [
            ("parquet", entry(Self.dir.appendingPathComponent("p_gzip_plain_v1.parquet").path)),
            ("named", entry(try c.data("rows.bin", try Self.bytes("p_zstd_dict_v2.parquet")), ", format: parquet")),
            ("folder", entry(Self.dir.appendingPathComponent("save_to_disk").path, ", pattern: \"data-*.arrow\"")),
        ]
        for (name, yaml) in sources {
            try c.entry(name, yaml)
            let d = try c.load(name)
            XCTAssertEqual(unsourced(d.train), unsourced(reference.train), name)
            XCTAssertEqual(d.report.rowsRead, reference.report.rowsRead, name)
            XCTAssertEqual(d.report.kept, reference.report.kept, name)
            XCTAssertEqual(d.report.skipped.map(\.reason), reference.report.skipped.map(\.reason), name)
        }
    }

    /// Content wins over a misleading name; a Parquet file under a text format is refused with the way
    /// out; `format: arrow` on Parquet fails clearly.
    func testFormatDetectionAndMismatches() throws {
        let c = try TempCatalog()
        let path = try c.data("rows.jsonl", try Self.bytes("p_none_plain_v1.parquet"))
        try c.entry("sniffed", pairEntry(path))
        XCTAssertEqual(try c.load("sniffed").report.rowsRead, 40)
        try c.entry("text", pairEntry(path, source: "format: jsonl"))
        XCTAssertThrowsError(try c.load("text")) { XCTAssert("\($0)".contains("set 'format: parquet'"), "\($0)") }
        try c.entry("arrow", pairEntry(path, source: "format: arrow"))
        XCTAssertThrowsError(try c.load("arrow")) { XCTAssert("\($0)".contains("rows.jsonl: Arrow IPC"), "\($0)") }
    }
}

/// Reader speed: rows/s of `ParquetFile.rows`, best of 5, file in memory. Runs only with
/// `PREFLAB_COLUMNAR_BENCH=1` (the HH-RLHF export in examples/data) or `=FILE`; pyarrow on the same file:
/// scripts/bench_parquet_read.py.
final class ColumnarBenchmarkTests: XCTestCase {
    func testReadSpeed() throws {
        guard let setting = ProcessInfo.processInfo.environment["PREFLAB_COLUMNAR_BENCH"], !setting.isEmpty else {
            throw XCTSkip("set PREFLAB_COLUMNAR_BENCH=1 (or a Parquet file) to time the Parquet reader")
        }
        let file = setting == "1" ? DataTestsRealData.repoRoot.appendingPathComponent("examples/data/hh-rlhf-helpful-base-test.parquet")
                                  : URL(fileURLWithPath: setting)
        let bytes = [UInt8](try Data(contentsOf: file))
        var best = Double.infinity
        var count = 0
        for _ in 0..<5 {
            let t0 = Date()
            count = try ParquetFile.rows(bytes).count
            best = min(best, Date().timeIntervalSince(t0))
        }
        print(String(format: "parquet read %@: %d rows in %.4f s = %.0f rows/s (best of 5, file in memory)",
                     file.lastPathComponent, count, best, Double(count) / best))
        XCTAssertGreaterThan(count, 0)
    }
}
