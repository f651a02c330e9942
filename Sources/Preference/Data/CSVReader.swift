import Foundation

/// RFC 4180 CSV with a header row: quoted fields may hold commas, doubled quotes and newlines.
/// A broken record is reported at the line where it starts and reading resumes on the next line.
enum DataCSVReader {
    static func read(_ b: [UInt8], _ file: String, _ maxBytes: Int)
        -> (records: [DataRecord], problems: [DataRecordProblem]) {
        var records: [DataRecord] = []
        var problems: [DataRecordProblem] = []
        var i = 0
        var line = 1
        var header: [String]?
        while i < b.count {
            let startLine = line
            let start = i
            switch parseRecord(b, &i, &line) {
            case .failure(let p):
                problems.append(DataRecordProblem(reason: .badCSV, line: startLine, message: p.message))
                // Resume after the physical line where the failing record began.
                i = start
                line = startLine
                while i < b.count && b[i] != 0x0A { i += 1 }
                i += 1
                line += 1
                if header == nil { return (records, problems) }
            case .success(let raw):
                if raw.count == 1 && raw[0].isEmpty { continue }  // blank line
                if i - start > maxBytes {
                    problems.append(DataRecordProblem(reason: .lineTooLong, line: startLine,
                                                  message: "record of \(i - start) bytes exceeds max_line_bytes \(maxBytes)"))
                    continue
                }
                switch decode(raw, header: header) {
                case .failure(let p): problems.append(DataRecordProblem(reason: p.reason, line: startLine, message: p.message))
                case .success(let fields):
                    guard let names = header else { header = fields; continue }
                    records.append(DataRecord(file: file, line: startLine,
                                             fields: Dictionary(zip(names, fields.map { $0 as Any }), uniquingKeysWith: { a, _ in a })))
                }
            }
        }
        return (records, problems)
    }

    struct Failure: Error { var message: String }

    /// A record's fields as text, checked for UTF-8 and, once the header is known, for its width.
    private static func decode(_ raw: [[UInt8]], header: [String]?) -> Result<[String], DataRecordReader.Failure> {
        var fields: [String] = []
        for (i, f) in raw.enumerated() {
            guard let s = String(validating: f, as: UTF8.self) else {
                return .failure(DataRecordReader.Failure(reason: .invalidUTF8, message: "invalid UTF-8 in field \(i + 1)"))
            }
            fields.append(s)
        }
        if let names = header, fields.count != names.count {
            return .failure(DataRecordReader.Failure(reason: .badCSV,
                                                 message: "expected \(names.count) fields as in the header, found \(fields.count)"))
        }
        return .success(fields)
    }

    /// Parses one record up to and including its line end; fields as raw bytes.
    private static func parseRecord(_ b: [UInt8], _ i: inout Int, _ line: inout Int) -> Result<[[UInt8]], Failure> {
        var fields: [[UInt8]] = []
        var field: [UInt8] = []
        let quote = UInt8(ascii: "\"")
        let comma = UInt8(ascii: ",")
        while true {
            if i < b.count && b[i] == quote && field.isEmpty {
                let openLine = line
                i += 1
                var closed = false
                while i < b.count {
                    if b[i] == quote {
                        if i + 1 < b.count && b[i + 1] == quote { field.append(quote); i += 2; continue }
                        i += 1
                        closed = true
                        break
                    }
                    if b[i] == 0x0A { line += 1 }
                    field.append(b[i])
                    i += 1
                }
                if !closed {
                    return .failure(Failure(message: "unbalanced quotes: the quoted field opened on line \(openLine) never closes"))
                }
                if i < b.count && b[i] != comma && b[i] != 0x0A && b[i] != 0x0D {
                    return .failure(Failure(message: "unexpected character after a closing quote in field \(fields.count + 1)"))
                }
            }
            while i < b.count && b[i] != comma && b[i] != 0x0A {
                if b[i] == quote { return .failure(Failure(message: "stray quote inside unquoted field \(fields.count + 1)")) }
                field.append(b[i])
                i += 1
            }
            if i >= b.count || b[i] == 0x0A {
                if field.last == 0x0D { field.removeLast() }
                fields.append(field)
                if i < b.count { i += 1; line += 1 }
                return .success(fields)
            }
            fields.append(field)  // at a comma
            field = []
            i += 1
        }
    }
}
