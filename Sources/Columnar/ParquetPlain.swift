import Foundation

/// PLAIN-encoded values (and dictionary pages) as the JSON-like values the JSONL reader produces:
/// strings, integers, doubles (FLOAT widened), booleans; DECIMAL integers scaled to doubles.
enum ParquetPlain {
    static func decode(_ c: inout ByteCursor, leaf: ParquetNode, count: Int) throws -> [Any] {
        guard let physical = leaf.element.physical else { throw ColumnarError("a group has no values") }
        // Every value takes at least one bit: a larger count is damage (and would overflow the sizes below).
        guard count >= 0, count <= c.remaining * 8 else { throw ColumnarError("\(count) values cannot fit in \(c.remaining) bytes") }
        var out: [Any] = []
        out.reserveCapacity(min(count, c.remaining + 1))
        switch physical {
        case .boolean:
            let bytes = try c.take((count + 7) / 8, "\(count) booleans")
            for i in 0..<count { out.append(NSNumber(value: bytes[bytes.startIndex + i >> 3] >> UInt8(i & 7) & 1 == 1)) }
        case .int32:
            let raw = try c.take(4 * count, "\(count) INT32 values")
            for i in 0..<count { out.append(integer(Int64(loadLE(raw, 4 * i, as: Int32.self)), leaf, unsigned32: true)) }
        case .int64:
            let raw = try c.take(8 * count, "\(count) INT64 values")
            for i in 0..<count { out.append(integer(loadLE(raw, 8 * i, as: Int64.self), leaf, unsigned32: false)) }
        case .float:
            let raw = try c.take(4 * count, "\(count) FLOAT values")
            for i in 0..<count { out.append(NSNumber(value: Double(Float(bitPattern: loadLE(raw, 4 * i, as: UInt32.self))))) }
        case .double:
            let raw = try c.take(8 * count, "\(count) DOUBLE values")
            for i in 0..<count { out.append(NSNumber(value: Double(bitPattern: loadLE(raw, 8 * i, as: UInt64.self)))) }
        case .byteArray:
            for _ in 0..<count {
                let n = Int(try c.int32())
                out.append(try text(try c.take(n, "a BYTE_ARRAY value")))
            }
        case .int96, .fixedLenByteArray:
            throw ColumnarError("\(physical.name) values are not supported (text, integers, floats and booleans are)")
        }
        return out
    }

    /// A BYTE_ARRAY value as text.
    static func text(_ bytes: ArraySlice<UInt8>) throws -> String {
        guard let s = utf8String(bytes) else { throw ColumnarError("a value is not UTF-8 text (binary columns are not supported)") }
        return s
    }

    /// An integer as written: unsigned annotations (UINT_32 = 13, UINT_64 = 14) reinterpreted, DECIMAL
    /// (5) divided by 10^scale.
    static func integer(_ v: Int64, _ leaf: ParquetNode, unsigned32: Bool) -> NSNumber {
        switch leaf.element.convertedType {
        case 13? where unsigned32: return NSNumber(value: UInt32(truncatingIfNeeded: v))
        case 14?: return NSNumber(value: UInt64(bitPattern: v))
        case 5?:
            var d = Double(v)
            for _ in 0..<min(max(leaf.element.scale ?? 0, 0), 38) { d /= 10 }
            return NSNumber(value: d)
        default: return NSNumber(value: v)
        }
    }
}
