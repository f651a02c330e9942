import Foundation

/// Parquet files to rows: the footer (Thrift compact), each row group's column chunks, then records
/// reassembled from repetition and definition levels (Dremel), so that a `chosen` list of
/// `{role, content}` structs becomes the same `[[String: Any]]` a JSONL line gives.
public enum ParquetFile {
    public static let magic: [UInt8] = Array("PAR1".utf8)

    public static func isParquet(_ bytes: [UInt8]) -> Bool { bytes.starts(with: magic) }

    /// Every row of the file, in order. Any damage throws a `ColumnarError` naming the row group and column.
    public static func rows(_ bytes: [UInt8]) throws -> [[String: Any]] {
        let meta = try footer(bytes)
        let schema = try ParquetSchema(meta.schema)
        guard !schema.leaves.isEmpty else { throw ColumnarError("the schema has no columns") }
        var rows: [[String: Any]] = []
        for (g, group) in meta.rowGroups.enumerated() {
            // Each row takes at least one entry in every column, so a row count past the cap is damage.
            guard group.numRows >= 0, group.numRows <= ParquetColumnReader.maxValues else {
                throw ColumnarError("row group \(g) claims \(group.numRows) rows")
            }
            guard group.columns.count == schema.leaves.count else {
                throw ColumnarError("row group \(g) has \(group.columns.count) column chunks for \(schema.leaves.count) schema columns")
            }
            var columns: [ParquetColumnData] = []
            for (leaf, chunk) in zip(schema.leaves, group.columns) {
                columns.append(try columnarContext("row group \(g), column '\(leaf.path)'") {
                    var reader = ParquetColumnReader(file: bytes, meta: chunk, leaf: leaf)
                    return try reader.read()
                })
            }
            var assembler = ParquetAssembler(schema: schema, columns: columns)
            try assembler.rows(count: group.numRows, into: &rows, group: g)
        }
        return rows
    }

    /// The footer: `PAR1`, …, FileMetaData, its 4-byte length, `PAR1`.
    static func footer(_ bytes: [UInt8]) throws -> ParquetFileMeta {
        guard bytes.count >= 12, isParquet(bytes) else {
            throw ColumnarError("not a Parquet file: \(bytes.count) bytes, no PAR1 magic and footer")
        }
        let tail = Array(bytes.suffix(4))
        if tail == Array("PARE".utf8) { throw ColumnarError("the footer is encrypted (PARE); encrypted Parquet is not supported") }
        guard tail == magic else { throw ColumnarError("truncated: the file does not end with the PAR1 magic (was it cut short?)") }
        var c = ByteCursor(bytes, from: bytes.count - 8)
        let length = Int(try c.int32())
        guard length > 0, length <= bytes.count - 12 else {
            throw ColumnarError("the footer length \(length) does not fit in the file (\(bytes.count) bytes)")
        }
        let start = bytes.count - 8 - length
        var thrift = ThriftCompactReader(ByteCursor(bytes, from: start, to: bytes.count - 8))
        return try columnarContext("the footer") { try ParquetFileMeta(try thrift.readStruct()) }
    }
}

/// Rebuilds records from decoded columns, walking the schema with one cursor per leaf column.
struct ParquetAssembler {
    let schema: ParquetSchema
    let columns: [ParquetColumnData]
    var entry: [Int]
    var value: [Int]

    init(schema: ParquetSchema, columns: [ParquetColumnData]) {
        self.schema = schema
        self.columns = columns
        entry = Array(repeating: 0, count: columns.count)
        value = Array(repeating: 0, count: columns.count)
    }

    mutating func rows(count: Int, into rows: inout [[String: Any]], group: Int) throws {
        for r in 0..<count {
            try columnarContext("row group \(group), row \(r)") {
                var row: [String: Any] = Dictionary(minimumCapacity: schema.root.children.count)
                for child in schema.root.children { row[child.name] = try self.value(child) }
                for l in columns.indices where entry[l] < columns[l].count && repetition(l) != 0 {
                    throw ColumnarError("column '\(schema.leaves[l].path)' has more entries in this row than its schema allows")
                }
                rows.append(row)
            }
        }
        for l in columns.indices where entry[l] != columns[l].count || value[l] != columns[l].values.count {
            throw ColumnarError("row group \(group), column '\(schema.leaves[l].path)': \(columns[l].count - entry[l]) levels and "
                                + "\(columns[l].values.count - value[l]) values left after \(count) rows")
        }
    }

    func repetition(_ l: Int) -> Int { columns[l].repetition.isEmpty ? 0 : Int(columns[l].repetition[entry[l]]) }
    func definition(_ l: Int) -> Int { columns[l].definition.isEmpty ? 0 : Int(columns[l].definition[entry[l]]) }

    /// The value of field `n` at the current position: a list for repeated fields, null when absent.
    mutating func value(_ n: ParquetNode, unwrapList: Bool = false) throws -> Any {
        let l = n.leaves.lowerBound
        guard n.leaves.count > 0 else { throw ColumnarError("group '\(n.path)' has no columns") }
        guard entry[l] < columns[l].count else { throw ColumnarError("column '\(schema.leaves[l].path)' ends early") }
        if n.repetition == .repeated {
            if definition(l) < n.maxDefinition {
                try skip(n)
                return [Any]()
            }
            var items: [Any] = []
            repeat {
                items.append(try unwrapList ? value(n.children[0]) : element(n))
            } while entry[l] < columns[l].count && repetition(l) == n.maxRepetition
            return items
        }
        if n.repetition == .optional && definition(l) < n.maxDefinition {
            try skip(n)
            return NSNull()
        }
        return try element(n)
    }

    /// Past one absent (null or empty) instance of `n`: one entry in each of its columns.
    mutating func skip(_ n: ParquetNode) throws {
        for l in n.leaves {
            guard entry[l] < columns[l].count else { throw ColumnarError("column '\(schema.leaves[l].path)' ends early") }
            entry[l] += 1
        }
    }

    /// One present instance of `n`: a leaf's value, a LIST or MAP's items, or a struct's fields.
    mutating func element(_ n: ParquetNode) throws -> Any {
        if n.isLeaf {
            let l = n.leaves.lowerBound
            guard value[l] < columns[l].values.count else { throw ColumnarError("column '\(n.path)' has fewer values than levels say") }
            defer { value[l] += 1; entry[l] += 1 }
            return columns[l].values[value[l]]
        }
        if n.isList || n.isMap, n.children.count == 1, let r = n.children.first, r.repetition == .repeated {
            // Standard three-level lists: `list (LIST) { repeated group list { element } }`; the legacy
            // two-level forms (`array`, `*_tuple`, a repeated field of several children) keep their group.
            let single = !r.isLeaf && r.children.count == 1 && r.name != "array" && !r.name.hasSuffix("_tuple")
            let items = try value(r, unwrapList: n.isList && single)
            return n.isMap ? mapValue(items, r) : items
        }
        var fields: [String: Any] = Dictionary(minimumCapacity: n.children.count)
        for c in n.children { fields[c.name] = try value(c) }
        return fields
    }

    /// MAP entries as an object when every key is text, else as the list of `{key, value}` entries.
    func mapValue(_ items: Any, _ r: ParquetNode) -> Any {
        guard let list = items as? [[String: Any]], r.children.count == 2 else { return items }
        let k = r.children[0].name, v = r.children[1].name
        var object: [String: Any] = [:]
        for item in list {
            guard let key = item[k] as? String else { return items }
            object[key] = item[v] ?? NSNull()
        }
        return object
    }
}
