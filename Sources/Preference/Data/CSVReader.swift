import Foundation

/// RFC 4180 CSV with a header row: quoted fields may hold commas, doubled quotes and newlines.
/// A broken record is reported at the line where it starts and reading resumes on the next line.
enum CSVReader {
    static func read(_ b: [UInt8], _ file: String, _ maxBytes: Int)
        -> (records: [RawRecord], problems: [RecordProblem]) {
        var records: [RawRecord] = []
        var problems: [RecordProblem] = []
        var i = 0
        var line = 1
        var header: [String]?
        while i < b.count {
            let startLine = line
            let start = i
            switch parseRecord(b, &i, &line) {
            case .failure(let p):
                problems.append(RecordProblem(reason: .badCSV, line: startLine, message: p.message))
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
                    problems.append(RecordProblem(reason: .lineTooLong, line: startLine,
                                                  message: "record of \(i - start) bytes exceeds max_line_bytes \(maxBytes)"))
                    continue
                }
                var fields: [String] = []
                var bad: Int?
                for f in raw {
                    if let s = String(validating: f, as: UTF8.self) { fields.append(s) } else { bad = fields.count }
                }
                if let bad {
                    problems.append(RecordProblem(reason: .invalidUTF8, line: startLine,
                                                  message: "invalid UTF-8 in field \(bad + 1)"))
                    continue
                }
                guard let names = header else { header = fields; continue }
                guard fields.count == names.count else {
                    problems.append(RecordProblem(reason: .badCSV, line: startLine,
                                                  message: "expected \(names.count) fields as in the header, found \(fields.count)"))
                    continue
                }
                records.append(RawRecord(file: file, line: startLine,
                                         fields: Dictionary(zip(names, fields.map { $0 as Any }), uniquingKeysWith: { a, _ in a })))
            }
        }
        return (records, problems)
    }

    struct Failure: Error { var message: String }

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
