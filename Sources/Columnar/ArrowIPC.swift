import Foundation

/// Arrow IPC to rows: the stream format `datasets.save_to_disk` writes (`data-*.arrow`) and the file
/// format (`ARROW1` … footer), whose messages are the same stream. Each message is a FlatBuffers
/// `Message` (a Schema, then RecordBatches) followed by its body of buffers.
public enum ArrowIPCFile {
    static let fileMagic: [UInt8] = Array("ARROW1".utf8)
    static let continuation: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFF]

    /// An Arrow IPC file or stream by its first bytes (text never starts with 0xFF, invalid UTF-8).
    public static func isArrow(_ bytes: [UInt8]) -> Bool {
        bytes.starts(with: fileMagic) || bytes.starts(with: continuation)
    }

    /// Every row of every record batch, in order; damage throws a `ColumnarError` naming the message and column.
    public static func rows(_ bytes: [UInt8]) throws -> [[String: Any]] {
        var c = ByteCursor(bytes, from: bytes.starts(with: fileMagic) ? 8 : 0)
        var schema: [ArrowField]?
        var dictionaries: [Int64: [Any]] = [:]
        var rows: [[String: Any]] = []
        var index = 0
        while c.remaining >= 4 {
            var length = Int(try c.int32())
            if length == -1 {
                guard c.remaining >= 4 else { break }
                length = Int(try c.int32())
            }
            if length == 0 { break }  // end-of-stream marker
            try columnarContext("message \(index)") {
                guard length > 0 else { throw ColumnarError("negative metadata length \(length)") }
                let meta = Array(try c.take(length, "the message metadata"))
                let message = try FlatTable.root(meta)
                let kind = try message.int(1, width: 1)
                let bodyLength = Int(try message.int(3, width: 8))
                guard bodyLength >= 0 else { throw ColumnarError("negative body length") }
                let body = Array(try c.take(bodyLength, "the message body"))
                guard let header = try message.table(2) else { throw ColumnarError("a message without a header") }
                switch kind {
                case 1:
                    schema = try header.tables(1).map { try ArrowField($0, depth: 0) }
                    if schema?.isEmpty == true { throw ColumnarError("the schema has no columns") }
                case 2:
                    guard let schema else { throw ColumnarError("a dictionary batch before the schema") }
                    try readDictionary(header, body: body, schema: schema, into: &dictionaries)
                case 3:
                    guard let schema else { throw ColumnarError("a record batch before the schema") }
                    var batch = try ArrowBatch(header, body: body)
                    batch.dictionaries = dictionaries
                    try batch.rows(schema, into: &rows)
                default: break  // tensors and other messages carry no rows
                }
            }
            index += 1
        }
        guard schema != nil else { throw ColumnarError("truncated: no schema message (was the file cut short?)") }
        return rows
    }

    /// A DictionaryBatch: the values of dictionary `id` (a one-column batch of the field's value type),
    /// replacing or, as a delta, extending the earlier ones.
    static func readDictionary(_ header: FlatTable, body: [UInt8], schema: [ArrowField],
                               into dictionaries: inout [Int64: [Any]]) throws {
        let id = try header.int(0, width: 8)
        guard let field = schema.lazy.compactMap({ $0.field(dictionary: id) }).first else {
            throw ColumnarError("dictionary \(id) belongs to no column")
        }
        guard let data = try header.table(1) else { throw ColumnarError("dictionary \(id) without data") }
        var batch = try ArrowBatch(data, body: body)
        batch.dictionaries = dictionaries
        var values = field
        values.dictionary = nil
        let decoded = try columnarContext("dictionary \(id) of '\(field.name)'") { try batch.column(values) }
        dictionaries[id] = (try header.bool(2) ? dictionaries[id] ?? [] : []) + decoded
    }
}

/// A field of an Arrow schema: its type (the `Type` union's member and table) and children.
struct ArrowField {
    var name: String
    var type: Int64
    var typeTable: FlatTable?
    var children: [ArrowField]
    /// Dictionary-encoded columns: the dictionary's id and the index width in bytes (`type` is the values').
    var dictionary: (id: Int64, width: Int, signed: Bool)?

    init(_ t: FlatTable, depth: Int) throws {
        guard depth < 64 else { throw ColumnarError("schema nested more than 64 deep") }
        name = try t.string(0) ?? ""
        type = try t.int(2, width: 1)
        typeTable = try t.table(3)
        if let d = try t.table(4) {
            let index = try d.table(1)
            let bits = Int(try index?.int(0, width: 4) ?? 32)
            guard [8, 16, 32, 64].contains(bits) else { throw ColumnarError("column '\(name)': dictionary index width \(bits)") }
            dictionary = (try d.int(0, width: 8), bits / 8, try index?.bool(1) ?? true)
        }
        children = try t.tables(5).map { try ArrowField($0, depth: depth + 1) }
    }

    /// This field or a descendant encoded with dictionary `id`.
    func field(dictionary id: Int64) -> ArrowField? {
        if dictionary?.id == id { return self }
        return children.lazy.compactMap { $0.field(dictionary: id) }.first
    }
}

/// One record batch: field nodes and buffers consumed depth-first as the schema is walked.
struct ArrowBatch {
    var length: Int
    var nodes: [(length: Int, nulls: Int)] = []
    var buffers: [(offset: Int, length: Int)] = []
    var zstd = false
    let body: [UInt8]
    var nextNode = 0
    var nextBuffer = 0
    /// The dictionaries read so far, by id, for dictionary-encoded columns.
    var dictionaries: [Int64: [Any]] = [:]

    /// The most values a field node may claim: a value takes at least a validity bit, except in null
    /// columns, so a damaged length cannot allocate gigabytes.
    var maxLength: Int { max(body.count * 8, 1 << 20) }

    init(_ t: FlatTable, body: [UInt8]) throws {
        self.body = body
        length = Int(try t.int(0, width: 8))
        if let (n, start) = try t.vector(1, elementSize: 16) {
            for i in 0..<n { nodes.append((Int(try t.readInt(start + 16 * i, 8)), Int(try t.readInt(start + 16 * i + 8, 8)))) }
        }
        if let (n, start) = try t.vector(2, elementSize: 16) {
            for i in 0..<n { buffers.append((Int(try t.readInt(start + 16 * i, 8)), Int(try t.readInt(start + 16 * i + 8, 8)))) }
        }
        if let compression = try t.table(3) {
            guard try compression.int(0, width: 1) == 1 else { throw ColumnarError("LZ4-compressed buffers are not supported (ZSTD is)") }
            zstd = true
        }
        guard length >= 0, length <= maxLength else { throw ColumnarError("record batch length \(length)") }
    }

    mutating func rows(_ schema: [ArrowField], into rows: inout [[String: Any]]) throws {
        var columns: [[Any]] = []
        for field in schema {
            columns.append(try columnarContext("column '\(field.name)'") {
                let values = try column(field)
                guard values.count == length else { throw ColumnarError("\(values.count) values for \(length) rows") }
                return values
            })
        }
        for r in 0..<length {
            var row: [String: Any] = Dictionary(minimumCapacity: schema.count)
            for (field, values) in zip(schema, columns) { row[field.name] = values[r] }
            rows.append(row)
        }
    }

    mutating func buffer() throws -> [UInt8] {
        guard nextBuffer < buffers.count else { throw ColumnarError("the batch has fewer buffers than its schema needs") }
        let (offset, size) = buffers[nextBuffer]
        nextBuffer += 1
        guard offset >= 0, size >= 0, offset <= body.count, size <= body.count - offset else {
            throw ColumnarError("buffer \(nextBuffer - 1) (\(offset)+\(size)) lies outside the body (\(body.count) bytes)")
        }
        let raw = body[offset..<offset + size]
        guard zstd, size > 0 else { return Array(raw) }
        guard size >= 8 else { throw ColumnarError("a compressed buffer of \(size) bytes") }
        let decoded = Int(loadLE(raw, 0, as: Int64.self))
        if decoded == -1 { return Array(raw.dropFirst(8)) }
        return try ColumnarCodecs.zstd(raw.dropFirst(8), size: decoded)
    }

    mutating func node() throws -> Int {
        guard nextNode < nodes.count else { throw ColumnarError("the batch has fewer field nodes than its schema needs") }
        defer { nextNode += 1 }
        let n = nodes[nextNode].length
        guard n >= 0, n <= maxLength else { throw ColumnarError("a field node of \(n) values") }
        return n
    }
}
