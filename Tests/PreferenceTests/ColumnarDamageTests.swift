import Foundation
import XCTest
@testable import Columnar
@testable import Preference

/// Damaged Parquet and Arrow files: each fails the load with the file, and the row group / message and
/// column, named; fuzzed bytes never crash.
final class ColumnarDamageTests: XCTestCase {
    /// Loads `bytes` as a catalogue entry's only file and returns the error text.
    func loadError(_ bytes: [UInt8], name: String) throws -> String {
        let c = try TempCatalog()
        try c.entry("e", pairEntry(try c.data(name, bytes)))
        do {
            _ = try c.load("e")
        } catch let e as DatasetError {
            return "\(e)"
        }
        XCTFail("\(name) loaded")
        return ""
    }

    /// Where the first page of row group `group`, column `column` starts, and where its body starts.
    func page(_ bytes: [UInt8], group: Int, column: Int) throws -> (header: Int, body: Int) {
        let meta = try ParquetFile.footer(bytes).rowGroups[group].columns[column]
        let start = meta.dictionaryPageOffset ?? meta.dataPageOffset
        var thrift = ThriftCompactReader(ByteCursor(bytes, from: start))
        _ = try thrift.readStruct()
        return (start, thrift.cursor.position)
    }

    func testTruncatedParquetNamesTheFile() throws {
        let bytes = try ColumnarTests.bytes("p_snappy_dict_v1.parquet")
        let text = try loadError(Array(bytes.dropLast(100)), name: "cut.parquet")
        XCTAssertTrue(text.contains("cut.parquet: Parquet: truncated: the file does not end with the PAR1 magic"), text)
    }

    func testAFooterLengthPastTheFileIsAnError() throws {
        var bytes = try ColumnarTests.bytes("p_zstd_plain_v2.parquet")
        bytes.replaceSubrange(bytes.count - 8..<bytes.count - 4, with: [0xFF, 0xFF, 0xFF, 0x0F])
        let text = try loadError(bytes, name: "footer.parquet")
        XCTAssertTrue(text.contains("footer.parquet: Parquet: the footer length 268435455 does not fit"), text)
    }

    /// A page header overwritten, and a ZSTD page body whose frame is destroyed: the row group and column named.
    func testDamagedPagesNameTheRowGroupAndColumn() throws {
        var bytes = try ColumnarTests.bytes("p_zstd_plain_v1.parquet")
        let (header, _) = try page(bytes, group: 2, column: 0)
        bytes.replaceSubrange(header..<header + 4, with: [0xFF, 0xFF, 0xFF, 0xFF])
        var text = try loadError(bytes, name: "header.parquet")
        XCTAssertTrue(text.contains("header.parquet: Parquet: row group 2, column 'prompt': page 0: unknown Thrift type 15"), text)

        bytes = try ColumnarTests.bytes("p_zstd_plain_v1.parquet")
        let (_, body) = try page(bytes, group: 1, column: 2)
        bytes.replaceSubrange(body..<body + 4, with: [0, 0, 0, 0])
        text = try loadError(bytes, name: "body.parquet")
        XCTAssertTrue(text.contains("body.parquet: Parquet: row group 1, column 'chosen.list.element.content': page 0: "
                                    + "Zstandard data is corrupt"), text)
    }

    /// A footer whose column chunk claims more values than its pages hold.
    func testAChunkEndingEarlyIsAnError() throws {
        var bytes = try ColumnarTests.bytes("p_none_plain_v1.parquet")
        let (header, _) = try page(bytes, group: 0, column: 5)
        let meta = try ParquetFile.footer(bytes).rowGroups[0].columns[5]
        // Cut the chunk's pages out by zeroing them: a page header of zeros is an empty struct.
        bytes.replaceSubrange(header..<header + meta.totalCompressedSize, with: [UInt8](repeating: 0, count: meta.totalCompressedSize))
        let text = try loadError(bytes, name: "zeros.parquet")
        XCTAssertTrue(text.contains("zeros.parquet: Parquet: row group 0, column 'score': page 0: PageHeader.type is missing"), text)
    }

    func testTruncatedAndGarbledArrowNameTheMessage() throws {
        let bytes = try ColumnarTests.bytes("save_to_disk/data-00000-of-00001.arrow")
        var text = try loadError(Array(bytes.prefix(bytes.count / 2)), name: "half.arrow")
        XCTAssertTrue(text.contains("half.arrow: Arrow IPC: message 1: truncated: the message body needs"), text)
        var garbled = bytes
        for i in 8..<40 { garbled[i] = 0xEE }
        text = try loadError(garbled, name: "garbled.arrow")
        XCTAssertTrue(text.contains("garbled.arrow: Arrow IPC: message 0: "), text)
    }

    /// Seeded mutations of every columnar fixture: each reads or throws `ColumnarError`, never crashes.
    /// Bounded by `PREFLAB_FUZZ_SECONDS` (default 10).
    func testMutatedColumnarFilesNeverCrash() throws {
        let names = ColumnarTests.parquetFiles + ["save_to_disk/data-00000-of-00001.arrow", "stream_zstd.arrow", "dictionary.arrow", "file.arrow"]
        let seeds = try names.map { try ColumnarTests.bytes($0) }
        let tokens = ["PAR1", "\u{FF}\u{FF}\u{FF}\u{FF}", "\u{0}\u{0}\u{0}\u{0}", "\u{7F}\u{7F}\u{7F}\u{7F}", "\u{19}", "\u{1C}"]
        let seconds = Double(ProcessInfo.processInfo.environment["PREFLAB_FUZZ_SECONDS"] ?? "") ?? 10
        var fuzz = DataMutator(seed: 18)
        let start = Date()
        var runs = 0, read = 0
        while Date().timeIntervalSince(start) < seconds {
            let k = fuzz.next(seeds.count)
            let input = [UInt8](fuzz.mutate(Data(seeds[k]), tokens))
            if let dump = ProcessInfo.processInfo.environment["PREFLAB_FUZZ_DUMP"] {
                // Each input is written before it is read, so that a crashing one is left behind.
                try Data(input).write(to: URL(fileURLWithPath: dump + (names[k].hasSuffix(".arrow") ? ".arrow" : ".parquet")))
            }
            do {
                _ = names[k].hasSuffix(".arrow") ? try ArrowIPCFile.rows(input) : try ParquetFile.rows(input)
                read += 1
            } catch is ColumnarError {
            } catch {
                XCTFail("run \(runs) (\(names[k])): \(type(of: error)): \(error)")
            }
            runs += 1
        }
        print("columnar fuzz: \(runs) inputs in \(String(format: "%.1f", Date().timeIntervalSince(start))) s, \(read) read, 0 crashes")
        XCTAssertGreaterThan(runs, 50)
    }
}
