import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Splits a JSON array file into its top-level elements, each parsed on its own, so that one broken
/// element costs one record and every element keeps the line where it starts.
enum DataJSONArraySplitter {
    static func read(_ bytes: [UInt8], _ file: String, _ maxBytes: Int)
        -> (records: [DataRecord], problems: [DataRecordProblem]) {
        var records: [DataRecord] = []
        var problems: [DataRecordProblem] = []
        var i = 0
        var line = 1
        skipSpace(bytes, &i, &line)
        guard i < bytes.count else {
            problems.append(DataRecordProblem(reason: .badJSON, line: line, message: "empty JSON file"))
            return (records, problems)
        }
        if bytes[i] == UInt8(ascii: "{") {
            // A single object is a one-record file.
            add(bytes[i...], line, file, maxBytes, &records, &problems)
            return (records, problems)
        }
        guard bytes[i] == UInt8(ascii: "[") else {
            problems.append(DataRecordProblem(reason: .badJSON, line: line,
                                          message: "expected a JSON array '[' or object '{' at the start of the file"))
            return (records, problems)
        }
        i += 1
        var terminated = bytes
        terminated.append(0)
        while true {
            skipSpace(bytes, &i, &line)
            if i >= bytes.count {
                problems.append(DataRecordProblem(reason: .badJSON, line: line,
                                              message: "the JSON array is not closed: the file ends before ']'"))
                return (records, problems)
            }
            if bytes[i] == UInt8(ascii: "]") { return (records, problems) }
            let startLine = line
            let start = i
            let closed = scanElement(terminated, &i, &line)
            guard closed else {
                problems.append(DataRecordProblem(reason: .badJSON, line: startLine,
                                              message: "the element starting here is cut off: the file ends inside it"))
                return (records, problems)
            }
            if i == start {
                // A stray ',' or '}' where an element should start: one problem, then past it (without
                // this step the loop stood still and piled up problems until memory ran out; found by
                // DataFuzzTests).
                problems.append(DataRecordProblem(reason: .badJSON, line: startLine,
                                              message: "unexpected '\(Character(Unicode.Scalar(bytes[i])))' where an array element should start"))
                i += 1
            } else {
                add(bytes[start..<i], startLine, file, maxBytes, &records, &problems)
            }
            skipSpace(bytes, &i, &line)
            if i < bytes.count && bytes[i] == UInt8(ascii: ",") { i += 1 }
        }
    }

    private static func add(_ slice: ArraySlice<UInt8>, _ line: Int, _ file: String, _ maxBytes: Int,
                            _ records: inout [DataRecord], _ problems: inout [DataRecordProblem]) {
        switch DataRecordReader.parseObject(slice, maxBytes) {
        case .success(let obj): records.append(DataRecord(file: file, line: line, fields: obj))
        case .failure(let p): problems.append(DataRecordProblem(reason: p.reason, line: line, message: p.message))
        }
    }

    private static func skipSpace(_ b: [UInt8], _ i: inout Int, _ line: inout Int) {
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 {
            if b[i] == 0x0A { line += 1 }
            i += 1
        }
    }

    /// Advances past one element (to the ',' or ']' that ends it at depth 0); false at end of file.
    ///
    /// This is the hot loop for big files, so it jumps between structural bytes with `strcspn`
    /// (optimized C even in debug builds) instead of visiting every byte in Swift. Raw newlines can
    /// only occur outside strings (JSON escapes them inside), so lines are counted there.
    /// `terminated` is the file's bytes plus one NUL, which `strcspn` needs to stop.
    private static func scanElement(_ terminated: [UInt8], _ i: inout Int, _ line: inout Int) -> Bool {
        let (end, lines, found) = terminated.withUnsafeBufferPointer { p -> (Int, Int, Bool) in
            guard let base = p.baseAddress else { return (i, 0, false) }
            let count = p.count - 1
            var depth = 0, j = i, lines = 0
            while j < count {
                j += base.advanced(by: j).withMemoryRebound(to: CChar.self, capacity: count - j + 1) {
                    Int(strcspn($0, "\"{}[],\n"))
                }
                if j >= count { break }
                switch p[j] {
                case 0x0A: lines += 1
                case 0x22: j = skipString(base, j + 1, count)
                case 0x7B, 0x5B: depth += 1
                case 0x7D, 0x5D:
                    if depth == 0 { return (j, lines, true) }  // the array's own ']'
                    depth -= 1
                case 0x2C: if depth == 0 { return (j, lines, true) }
                default: break  // an embedded NUL byte: an ordinary byte here
                }
                j += 1
            }
            return (count, lines, false)
        }
        i = end
        line += lines
        return found
    }

    /// The index of the quote closing the string whose body starts at `j` (or `count`).
    private static func skipString(_ base: UnsafePointer<UInt8>, _ start: Int, _ count: Int) -> Int {
        var j = start
        while j < count {
            j += base.advanced(by: j).withMemoryRebound(to: CChar.self, capacity: count - j + 1) {
                Int(strcspn($0, "\"\\"))
            }
            if j >= count { return count }
            if base[j] == 0x22 { return j }
            if base[j] == 0x5C { j += 2 } else { j += 1 }  // an escape skips the next byte; NUL is ordinary
        }
        return count
    }
}
