import Foundation

/// Splits a JSON array file into its top-level elements, each parsed on its own, so that one broken
/// element costs one record and every element keeps the line where it starts.
enum JSONArraySplitter {
    static func read(_ bytes: [UInt8], _ file: String, _ maxBytes: Int)
        -> (records: [RawRecord], problems: [RecordProblem]) {
        var records: [RawRecord] = []
        var problems: [RecordProblem] = []
        var i = 0
        var line = 1
        skipSpace(bytes, &i, &line)
        guard i < bytes.count else {
            problems.append(RecordProblem(reason: .badJSON, line: line, message: "empty JSON file"))
            return (records, problems)
        }
        if bytes[i] == UInt8(ascii: "{") {
            // A single object is a one-record file.
            add(bytes[i...], line, file, maxBytes, &records, &problems)
            return (records, problems)
        }
        guard bytes[i] == UInt8(ascii: "[") else {
            problems.append(RecordProblem(reason: .badJSON, line: line,
                                          message: "expected a JSON array '[' or object '{' at the start of the file"))
            return (records, problems)
        }
        i += 1
        while true {
            skipSpace(bytes, &i, &line)
            if i >= bytes.count {
                problems.append(RecordProblem(reason: .badJSON, line: line,
                                              message: "the JSON array is not closed: the file ends before ']'"))
                return (records, problems)
            }
            if bytes[i] == UInt8(ascii: "]") { return (records, problems) }
            let startLine = line
            let start = i
            let closed = scanElement(bytes, &i, &line)
            guard closed else {
                problems.append(RecordProblem(reason: .badJSON, line: startLine,
                                              message: "the element starting here is cut off: the file ends inside it"))
                return (records, problems)
            }
            add(bytes[start..<i], startLine, file, maxBytes, &records, &problems)
            skipSpace(bytes, &i, &line)
            if i < bytes.count && bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    private static func add(_ slice: ArraySlice<UInt8>, _ line: Int, _ file: String, _ maxBytes: Int,
                            _ records: inout [RawRecord], _ problems: inout [RecordProblem]) {
        switch RecordReader.parseObject(slice, maxBytes) {
        case .success(let obj): records.append(RawRecord(file: file, line: line, fields: obj))
        case .failure(let p): problems.append(RecordProblem(reason: p.reason, line: line, message: p.message))
        }
    }

    private static func skipSpace(_ b: [UInt8], _ i: inout Int, _ line: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 {
            if b[i] == 0x0A { line += 1 }
            i += 1
        }
    }

    /// Advances past one element (to the ',' or ']' that ends it at depth 0); false at end of file.
    private static func scanElement(_ b: [UInt8], _ i: inout Int, _ line: inout Int) -> Bool {
        var depth = 0
        var inString = false
        var escaped = false
        while i < b.count {
            let c = b[i]
            if c == 0x0A { line += 1 }
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == 0x22 { inString = false }
            } else if c == 0x22 {
                inString = true
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                if depth == 0 { return true }  // the array's own ']'
                depth -= 1
            } else if c == UInt8(ascii: ","), depth == 0 {
                return true
            }
            i += 1
        }
        return false
    }
}
