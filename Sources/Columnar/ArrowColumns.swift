import Foundation

/// Arrow arrays to JSON-like values, by the `Type` union member (Schema.fbs): nulls, integers, floats,
/// text, booleans, dates and timestamps (as their integers), lists, fixed-size lists, structs, maps.
extension ArrowBatch {
    mutating func column(_ f: ArrowField) throws -> [Any] {
        let n = try node()
        if let d = f.dictionary { return try dictionaryColumn(d, n) }
        switch f.type {
        case 1:  // Null: no buffers
            return Array(repeating: NSNull(), count: n)
        case 2:  // Int
            let width = Int(try f.typeTable?.int(0, width: 4) ?? 0)
            let signed = try f.typeTable?.bool(1) ?? false
            guard [8, 16, 32, 64].contains(width) else { throw ColumnarError("integer width \(width)") }
            return try fixed(n, width / 8) { raw, i in Self.integer(raw, i, width / 8, signed) }
        case 3:  // FloatingPoint: HALF 0, SINGLE 1, DOUBLE 2
            switch try f.typeTable?.int(0, width: 2) ?? 0 {
            case 1: return try fixed(n, 4) { raw, i in NSNumber(value: Double(Float(bitPattern: loadLE(raw, 4 * i, as: UInt32.self)))) }
            case 2: return try fixed(n, 8) { raw, i in NSNumber(value: Double(bitPattern: loadLE(raw, 8 * i, as: UInt64.self))) }
            default: throw ColumnarError("half-precision floats are not supported")
            }
        case 4, 5, 19, 20:  // Binary, Utf8, LargeBinary, LargeUtf8
            return try text(n, large: f.type >= 19)
        case 6:  // Bool
            let valid = try validity(n)
            let bits = try buffer()
            guard bits.count * 8 >= n else { throw ColumnarError("\(bits.count) bytes for \(n) booleans") }
            return (0..<n).map { (i: Int) -> Any in
                valid(i) ? NSNumber(value: bits[i >> 3] >> UInt8(i & 7) & 1 == 1) : NSNull()
            }
        case 8:  // Date: DAY (int32) or MILLISECOND (int64, the default)
            let width = try f.typeTable?.int(0, width: 2, default: 1) == 0 ? 4 : 8
            return try fixed(n, width) { raw, i in Self.integer(raw, i, width, true) }
        case 10, 18:  // Timestamp, Duration: int64 in their unit
            return try fixed(n, 8) { raw, i in Self.integer(raw, i, 8, true) }
        case 12, 17, 21:  // List, Map, LargeList
            return try list(f, n, large: f.type == 21)
        case 16:  // FixedSizeList
            return try fixedSizeList(f, n)
        case 13:  // Struct
            return try structure(f, n)
        default:
            throw ColumnarError("Arrow type \(f.type) is not supported (integers, floats, text, booleans, dates, "
                                + "timestamps, lists, structs and maps are)")
        }
    }

    /// Indices into a dictionary read earlier, as its values.
    mutating func dictionaryColumn(_ d: (id: Int64, width: Int, signed: Bool), _ n: Int) throws -> [Any] {
        guard let values = dictionaries[d.id] else { throw ColumnarError("dictionary \(d.id) was not sent before its column") }
        let indices = try fixed(n, d.width) { raw, i in Self.integer(raw, i, d.width, d.signed) }
        return try indices.map { (index: Any) -> Any in
            guard let k = (index as? NSNumber)?.intValue else { return NSNull() }
            guard k >= 0, k < values.count else { throw ColumnarError("dictionary index \(k) of \(values.count)") }
            return values[k]
        }
    }

    mutating func fixedSizeList(_ f: ArrowField, _ n: Int) throws -> [Any] {
        let size = Int(try f.typeTable?.int(0, width: 4) ?? 0)
        let valid = try validity(n)
        guard let child = f.children.first, size >= 0 else { throw ColumnarError("a fixed-size list without a child") }
        let items = try columnarContext("'\(child.name)'") { try column(child) }
        guard items.count >= n * size else { throw ColumnarError("\(items.count) items for \(n) lists of \(size)") }
        return (0..<n).map { (i: Int) -> Any in
            guard valid(i) else { return NSNull() }
            let from = i * size
            return Array(items[from..<from + size])
        }
    }

    mutating func structure(_ f: ArrowField, _ n: Int) throws -> [Any] {
        let valid = try validity(n)
        var fields: [(String, [Any])] = []
        for child in f.children {
            let values = try columnarContext("'\(child.name)'") { try column(child) }
            guard values.count >= n else { throw ColumnarError("struct field '\(child.name)' has \(values.count) of \(n) values") }
            fields.append((child.name, values))
        }
        return (0..<n).map { i in
            guard valid(i) else { return NSNull() }
            var o: [String: Any] = Dictionary(minimumCapacity: fields.count)
            for (name, values) in fields { o[name] = values[i] }
            return o
        }
    }

    /// A validity bitmap as a predicate; an empty buffer means every value is present.
    mutating func validity(_ n: Int) throws -> (Int) -> Bool {
        let bits = try buffer()
        if bits.isEmpty { return { _ in true } }
        guard bits.count * 8 >= n else { throw ColumnarError("a validity bitmap of \(bits.count) bytes for \(n) values") }
        return { bits[$0 >> 3] >> UInt8($0 & 7) & 1 == 1 }
    }

    /// Fixed-width values (`width` bytes each) through `make`, null where the bitmap says so.
    mutating func fixed(_ n: Int, _ width: Int, _ make: (ArraySlice<UInt8>, Int) -> Any) throws -> [Any] {
        let valid = try validity(n)
        let data = try buffer()
        guard data.count / width >= n else { throw ColumnarError("\(data.count) bytes for \(n) values of \(width)") }
        let raw = data[...]
        return (0..<n).map { (i: Int) -> Any in valid(i) ? make(raw, i) : NSNull() }
    }

    static func integer(_ raw: ArraySlice<UInt8>, _ i: Int, _ width: Int, _ signed: Bool) -> Any {
        switch (width, signed) {
        case (1, true): return NSNumber(value: Int8(bitPattern: raw[raw.startIndex + i]))
        case (1, false): return NSNumber(value: raw[raw.startIndex + i])
        case (2, true): return NSNumber(value: loadLE(raw, 2 * i, as: Int16.self))
        case (2, false): return NSNumber(value: loadLE(raw, 2 * i, as: UInt16.self))
        case (4, true): return NSNumber(value: loadLE(raw, 4 * i, as: Int32.self))
        case (4, false): return NSNumber(value: loadLE(raw, 4 * i, as: UInt32.self))
        case (_, true): return NSNumber(value: loadLE(raw, 8 * i, as: Int64.self))
        default: return NSNumber(value: loadLE(raw, 8 * i, as: UInt64.self))
        }
    }

    /// `n + 1` offsets (32- or 64-bit), checked to rise within `limit`.
    mutating func offsets(_ n: Int, large: Bool, limit: Int?) throws -> [Int] {
        let data = try buffer()
        let width = large ? 8 : 4
        if n == 0 { return [0] }
        guard data.count / width >= n + 1 else { throw ColumnarError("\(data.count) bytes of offsets for \(n) values") }
        let raw = data[...]
        let out = (0...n).map { large ? Int(loadLE(raw, 8 * $0, as: Int64.self)) : Int(loadLE(raw, 4 * $0, as: Int32.self)) }
        for i in 0..<n where out[i] < 0 || out[i] > out[i + 1] { throw ColumnarError("offsets fall at value \(i)") }
        if let limit, out[n] > limit { throw ColumnarError("offsets reach \(out[n]) past \(limit)") }
        return out
    }

    mutating func text(_ n: Int, large: Bool) throws -> [Any] {
        let valid = try validity(n)
        let bounds = try offsets(n, large: large, limit: nil)
        let data = try buffer()
        guard bounds[n] <= data.count else { throw ColumnarError("text offsets reach \(bounds[n]) past \(data.count) bytes") }
        return try (0..<n).map { i in
            guard valid(i) else { return NSNull() }
            guard let s = utf8String(data[bounds[i]..<bounds[i + 1]]) else {
                throw ColumnarError("value \(i) is not UTF-8 text (binary columns are not supported)")
            }
            return s
        }
    }

    mutating func list(_ f: ArrowField, _ n: Int, large: Bool) throws -> [Any] {
        let valid = try validity(n)
        guard let child = f.children.first else { throw ColumnarError("a list without a child field") }
        let bounds = try offsets(n, large: large, limit: nil)
        let items = try columnarContext("'\(child.name)'") { try column(child) }
        guard bounds[n] <= items.count else { throw ColumnarError("list offsets reach \(bounds[n]) past \(items.count) items") }
        return (0..<n).map { i in
            guard valid(i) else { return NSNull() }
            let slice = Array(items[bounds[i]..<bounds[i + 1]])
            guard f.type == 17 else { return slice }
            // Map entries `{key, value}` become an object when every key is text.
            var o: [String: Any] = [:]
            for case let e as [String: Any] in slice {
                guard let k = e["key"] as? String else { return slice }
                o[k] = e["value"] ?? NSNull()
            }
            return o
        }
    }
}
