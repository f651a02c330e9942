import Columnar
import Foundation
#if canImport(Glibc)
import Glibc
import DataSpecs
#endif

/// One record read from a data file (a JSON object or a CSV row) with where it came from.
struct DataRecord {
    /// The file as shown in messages.
    var file: String
    /// 1-based line where the record starts (in the decompressed text).
    var line: Int
    /// The record's fields: JSON values, or strings for CSV.
    var fields: [String: Any]
    /// The generator named by the file (folder sources with `generator_from_filename`).
    var generator: String?

    /// `file:line` for messages.
    var origin: String { "\(file):\(line)" }
}

/// A record that could not be read, with its line.
struct DataRecordProblem {
    var reason: SkipReason
    var line: Int
    var message: String
}

/// File layouts the reader understands.
/// Reads JSONL, JSON arrays and CSV, gzip'd or not, into records; each broken record becomes a
/// problem with its line and the reader moves on, so that no valid record is lost.
enum DataRecordReader {
    /// The records and problems of one file, in file order.
    static func read(url: URL, display: String, format: DataFileFormat?, maxRecordBytes: Int)
        throws -> (records: [DataRecord], problems: [DataRecordProblem]) {
        let raw: Data
        do { raw = try Data(contentsOf: url) } catch {
            throw DatasetError(file: display, "cannot read the data file (\(error.localizedDescription))")
        }
        if format == .parquet || format == .arrow || (format == nil && isColumnar(url.lastPathComponent, raw)) {
            return (try readColumnar(raw.withUnsafeBytes { [UInt8]($0) }, display, format), [])
        }
        var data = raw
        var gzipProblem: String?
        if DataGzip.isGzip(raw) { (data, gzipProblem) = DataGzip.inflate(raw) }
        let bytes = data.withUnsafeBytes { [UInt8]($0) }
        try refuseBinary(bytes, display)
        let fmt = format ?? guessFormat(name: url.lastPathComponent, bytes: bytes)
        var result: (records: [DataRecord], problems: [DataRecordProblem])
        switch fmt {
        case .jsonl: result = readJSONL(bytes, display, maxRecordBytes, damaged: gzipProblem != nil)
        case .json: result = DataJSONArraySplitter.read(bytes, display, maxRecordBytes)
        case .csv: result = DataCSVReader.read(bytes, display, maxRecordBytes)
        case .parquet, .arrow: result = (try readColumnar(bytes, display, fmt), [])
        }
        if let gzipProblem {
            let lastLine = bytes.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            result.problems.append(DataRecordProblem(reason: .truncatedGzip, line: lastLine, message: gzipProblem))
        }
        return result
    }

    /// Parquet (`.parquet`, or the PAR1 magic) and Arrow IPC (`.arrow`, or its magic) files: columnar,
    /// read whole by `Columnar`, never gzip'd.
    static func isColumnar(_ name: String, _ raw: Data) -> Bool {
        let n = name.lowercased()
        if n.hasSuffix(".parquet") || n.hasSuffix(".arrow") { return true }
        let head = [UInt8](raw.prefix(8))
        return ParquetFile.isParquet(head) || ArrowIPCFile.isArrow(head)
    }

    /// A Parquet or Arrow file's rows as records; the line of a record is its 1-based row number.
    /// Damage anywhere fails the file with the row group / message and column named.
    static func readColumnar(_ bytes: [UInt8], _ file: String, _ format: DataFileFormat?) throws -> [DataRecord] {
        let parquet = format == .parquet || (format != .arrow && (ParquetFile.isParquet(bytes) || file.lowercased().hasSuffix(".parquet")))
        do {
            let rows = parquet ? try ParquetFile.rows(bytes) : try ArrowIPCFile.rows(bytes)
            return rows.enumerated().map { DataRecord(file: file, line: $0.offset + 1, fields: $0.element) }
        } catch let e as ColumnarError {
            throw DatasetError(file: file, "\(parquet ? "Parquet" : "Arrow IPC"): \(e.message)")
        }
    }

    /// Throws for content no text reader can take: read as CSV, a Parquet or other binary file would
    /// "validate" with zero rows instead of saying what it is.
    static func refuseBinary(_ bytes: [UInt8], _ file: String) throws {
        if ParquetFile.isParquet(bytes) {
            throw DatasetError(file: file, "this is a Parquet file (it starts with the PAR1 magic) but the source's format says "
                               + "text: set 'format: parquet' (or leave format out)")
        }
        if let zero = bytes.prefix(4096).firstIndex(of: 0) {
            throw DatasetError(file: file, "binary content (a NUL byte at offset \(zero)); expected JSONL, JSON or CSV text")
        }
    }

    /// The text format from the name (`.jsonl`, `.json`, `.csv`, each maybe `.gz`), else from the first byte.
    static func guessFormat(name: String, bytes: [UInt8]) -> DataFileFormat {
        var n = name.lowercased()
        if n.hasSuffix(".gz") { n.removeLast(3) }
        if n.hasSuffix(".jsonl") || n.hasSuffix(".ndjson") { return .jsonl }
        if n.hasSuffix(".json") { return .json }
        if n.hasSuffix(".csv") { return .csv }
        let first = bytes.first(where: { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 })
        if first == UInt8(ascii: "[") { return .json }
        if first == UInt8(ascii: "{") { return .jsonl }
        return .csv
    }

    /// Splits on newlines and parses each non-blank line as one JSON object.
    /// When the gzip stream was damaged, an unterminated last line is left to the truncation problem.
    static func readJSONL(_ bytes: [UInt8], _ file: String, _ maxBytes: Int, damaged: Bool)
        -> (records: [DataRecord], problems: [DataRecordProblem]) {
        var records: [DataRecord] = []
        var problems: [DataRecordProblem] = []
        var start = 0
        var line = 1
        while start < bytes.count {
            let end = nextNewline(bytes, from: start)
            let terminated = end < bytes.count
            if !terminated && damaged { break }  // a partial last line of a truncated stream
            var stop = end
            if stop > start && bytes[stop - 1] == 0x0D { stop -= 1 }
            let slice = bytes[start..<stop]
            if slice.contains(where: { $0 != 0x20 && $0 != 0x09 }) {
                switch parseObject(slice, maxBytes) {
                case .success(let obj): records.append(DataRecord(file: file, line: line, fields: obj))
                case .failure(let p): problems.append(DataRecordProblem(reason: p.reason, line: line, message: p.message))
                }
            }
            start = end + 1
            line += 1
        }
        return (records, problems)
    }

    /// The index of the next newline at or after `start`, or the end (memchr: fast even in debug builds).
    static func nextNewline(_ bytes: [UInt8], from start: Int) -> Int {
        bytes.withUnsafeBufferPointer { p in
            guard let base = p.baseAddress, start < p.count else { return p.count }
            guard let hit = memchr(base + start, 0x0A, p.count - start) else { return p.count }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    /// A record-level parse failure before the line is known.
    struct Failure: Error {
        var reason: SkipReason
        var message: String
    }

    /// Parses one JSON object from bytes: size, UTF-8 and syntax checked in that order.
    static func parseObject(_ slice: ArraySlice<UInt8>, _ maxBytes: Int) -> Result<[String: Any], Failure> {
        if slice.count > maxBytes {
            return .failure(Failure(reason: .lineTooLong,
                                    message: "record of \(slice.count) bytes exceeds max_line_bytes \(maxBytes)"))
        }
        if let bad = firstInvalidUTF8(slice) {
            return .failure(Failure(reason: .invalidUTF8, message: "invalid UTF-8 at byte \(bad + 1) of the record"))
        }
        let value: Any
        do { value = try JSONSerialization.jsonObject(with: Data(slice), options: [.fragmentsAllowed]) } catch {
            return .failure(Failure(reason: .badJSON, message: "not valid JSON: \(jsonErrorSummary(error))"))
        }
        guard let obj = value as? [String: Any] else {
            return .failure(Failure(reason: .wrongType,
                                    message: "expected a JSON object per record, found \(dataJSONTypeName(value))"))
        }
        return .success(obj)
    }

    /// The 0-based offset of the first byte that breaks UTF-8, or nil when the bytes are valid.
    static func firstInvalidUTF8(_ slice: ArraySlice<UInt8>) -> Int? {
        if String(validating: slice, as: UTF8.self) != nil { return nil }
        var decoder = UTF8()
        var it = slice.makeIterator()
        var offset = 0
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += UTF8.width(s)
            case .emptyInput: return nil
            case .error: return offset
            }
        }
    }

    /// A short reason from a Foundation JSON error (its debug description when present).
    static func jsonErrorSummary(_ error: any Error) -> String {
        let ns = error as NSError
        if let d = ns.userInfo[NSDebugDescriptionErrorKey] as? String { return d }
        return ns.localizedDescription
    }
}

/// A JSON value's type in words, for wrong-type messages.
func dataJSONTypeName(_ v: Any?) -> String {
    switch v {
    case nil: return "nothing"
    case is NSNull: return "null"
    case let n as NSNumber:
        return String(cString: n.objCType) == "c" ? "a boolean" : "a number"
    case is String: return "a string"
    case is [Any]: return "a list"
    case is [String: Any]: return "an object"
    default: return "\(type(of: v as Any))"
    }
}
