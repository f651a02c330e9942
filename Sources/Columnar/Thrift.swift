import Foundation

/// A value of Thrift's compact protocol, read generically (Parquet's footer and page headers): the typed
/// views in ParquetMetadata.swift pick the fields they know by id and ignore the rest, as Thrift does.
indirect enum ThriftValue {
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case binary(ArraySlice<UInt8>)
    case list([ThriftValue])
    case structure(ThriftStruct)
    case map([(ThriftValue, ThriftValue)])
}

/// A Thrift struct: its fields by id.
struct ThriftStruct {
    var fields: [Int16: ThriftValue] = [:]

    func int(_ id: Int16) -> Int64? {
        if case .int(let v)? = fields[id] { return v }
        return nil
    }
    func bool(_ id: Int16) -> Bool? {
        if case .bool(let v)? = fields[id] { return v }
        return nil
    }
    func string(_ id: Int16) -> String? {
        if case .binary(let b)? = fields[id] { return utf8String(b) }
        return nil
    }
    func structure(_ id: Int16) -> ThriftStruct? {
        if case .structure(let s)? = fields[id] { return s }
        return nil
    }
    func list(_ id: Int16) -> [ThriftValue]? {
        if case .list(let l)? = fields[id] { return l }
        return nil
    }
    /// A required integer field, or an error naming the struct and field.
    func require(_ id: Int16, _ what: String) throws -> Int64 {
        guard let v = int(id) else { throw ColumnarError("\(what) is missing") }
        return v
    }
}

/// Thrift compact protocol decoding, bounded: nesting at most 32 deep and no collection larger than
/// the bytes left, so a damaged footer fails with an error instead of exhausting memory.
struct ThriftCompactReader {
    var cursor: ByteCursor
    static let maxDepth = 32

    init(_ cursor: ByteCursor) { self.cursor = cursor }

    mutating func readStruct(depth: Int = 0) throws -> ThriftStruct {
        guard depth < Self.maxDepth else { throw ColumnarError("Thrift structures nested more than \(Self.maxDepth) deep") }
        var s = ThriftStruct()
        var last: Int16 = 0
        while true {
            let header = try cursor.byte()
            let type = header & 0x0F
            if type == 0 { return s }
            let delta = Int16(header >> 4)
            let id: Int16
            if delta != 0 {
                id = last &+ delta
            } else {
                let z = try cursor.zigzag()
                guard let narrow = Int16(exactly: z) else { throw ColumnarError("Thrift field id \(z) out of range") }
                id = narrow
            }
            last = id
            if type == 1 || type == 2 {
                s.fields[id] = .bool(type == 1)
            } else {
                s.fields[id] = try readValue(type, depth: depth + 1)
            }
        }
    }

    mutating func readValue(_ type: UInt8, depth: Int) throws -> ThriftValue {
        switch type {
        case 1, 2: return .bool(try cursor.byte() == 1)
        case 3: return .int(Int64(Int8(bitPattern: try cursor.byte())))
        case 4, 5, 6: return .int(try cursor.zigzag())
        case 7: return .double(Double(bitPattern: try cursor.uint(8)))
        case 8:
            let n = try cursor.varint()
            guard n <= UInt64(cursor.remaining) else { throw ColumnarError("Thrift binary of \(n) bytes, \(cursor.remaining) left") }
            return .binary(try cursor.take(Int(n)))
        case 9, 10:
            let header = try cursor.byte()
            var n = UInt64(header >> 4)
            if n == 15 { n = try cursor.varint() }
            guard n <= UInt64(cursor.remaining) else { throw ColumnarError("Thrift list of \(n) items, \(cursor.remaining) bytes left") }
            let elementType = header & 0x0F
            var items: [ThriftValue] = []
            items.reserveCapacity(Int(n))
            for _ in 0..<Int(n) { items.append(try readElement(elementType, depth: depth)) }
            return .list(items)
        case 11:
            let n = try cursor.varint()
            guard n <= UInt64(cursor.remaining) else { throw ColumnarError("Thrift map of \(n) entries, \(cursor.remaining) bytes left") }
            if n == 0 { return .map([]) }
            let types = try cursor.byte()
            var entries: [(ThriftValue, ThriftValue)] = []
            for _ in 0..<Int(n) {
                entries.append((try readElement(types >> 4, depth: depth), try readElement(types & 0x0F, depth: depth)))
            }
            return .map(entries)
        case 12: return .structure(try readStruct(depth: depth))
        case 13: return .binary(try cursor.take(16, "a UUID"))
        default: throw ColumnarError("unknown Thrift type \(type)")
        }
    }

    /// A collection element: booleans are a whole byte here (1 = true).
    mutating func readElement(_ type: UInt8, depth: Int) throws -> ThriftValue {
        if type == 1 || type == 2 { return .bool(try cursor.byte() == 1) }
        return try readValue(type, depth: depth)
    }
}
