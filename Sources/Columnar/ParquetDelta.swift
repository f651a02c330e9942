import Foundation

/// The encodings pyarrow writes only when asked, and Spark / parquet-mr "v2" writers by default:
/// DELTA_BINARY_PACKED (integers), DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY (text),
/// BYTE_STREAM_SPLIT (floats and integers).
enum ParquetDelta {
    static func decode(_ c: inout ByteCursor, leaf: ParquetNode, count: Int, encoding: ParquetEncoding) throws -> [Any] {
        guard let physical = leaf.element.physical else { throw ColumnarError("a group has no values") }
        switch (encoding, physical) {
        case (.deltaBinaryPacked, .int32), (.deltaBinaryPacked, .int64):
            return try integers(&c, count: count).map { ParquetPlain.integer(physical == .int32 ? Int64(Int32(truncatingIfNeeded: $0)) : $0,
                                                                              leaf, unsigned32: physical == .int32) }
        case (.deltaLengthByteArray, .byteArray):
            return try lengthPrefixed(&c, count: count).map { try ParquetPlain.text($0) }
        case (.deltaByteArray, .byteArray):
            return try prefixed(&c, count: count).map { try ParquetPlain.text($0[...]) }
        case (.byteStreamSplit, .float), (.byteStreamSplit, .double), (.byteStreamSplit, .int32), (.byteStreamSplit, .int64):
            return try streamSplit(&c, count: count, physical: physical, leaf: leaf)
        default:
            throw ColumnarError("\(ParquetEncoding.name(encoding.rawValue)) does not apply to \(physical.name)")
        }
    }

    /// DELTA_BINARY_PACKED: a header (block size, miniblocks per block, value count, first value), then
    /// blocks of a minimum delta, one bit width per miniblock, and the bit-packed deltas above the minimum.
    static func integers(_ c: inout ByteCursor, count: Int) throws -> [Int64] {
        let blockSize = try c.varint(), miniblocks = try c.varint(), total = try c.varint()
        guard blockSize > 0, blockSize % 128 == 0, blockSize <= 1 << 20, miniblocks > 0, blockSize % miniblocks == 0,
              (blockSize / miniblocks) % 32 == 0 else {
            throw ColumnarError("DELTA_BINARY_PACKED header: block size \(blockSize), \(miniblocks) miniblocks")
        }
        guard total == UInt64(count) else { throw ColumnarError("DELTA_BINARY_PACKED holds \(total) values where \(count) are needed") }
        var value = try c.zigzag()
        var out: [Int64] = []
        out.reserveCapacity(count)
        if count > 0 { out.append(value) }
        let perMiniblock = Int(blockSize / miniblocks)
        while out.count < count {
            let minDelta = try c.zigzag()
            for width in try c.take(Int(miniblocks), "miniblock bit widths") {
                guard out.count < count else { break }  // unneeded miniblocks have a width but no bytes
                guard width <= 64 else { throw ColumnarError("DELTA_BINARY_PACKED bit width \(width)") }
                let bits = try c.take(perMiniblock * Int(width) / 8, "a miniblock")
                for i in 0..<min(perMiniblock, count - out.count) {
                    let delta = Int64(bitPattern: ParquetRLE.readBits(bits, at: i * Int(width), width: Int(width)))
                    value = value &+ minDelta &+ delta
                    out.append(value)
                }
            }
        }
        return out
    }

    /// DELTA_LENGTH_BYTE_ARRAY: every length (DELTA_BINARY_PACKED), then every value's bytes.
    static func lengthPrefixed(_ c: inout ByteCursor, count: Int) throws -> [ArraySlice<UInt8>] {
        try integers(&c, count: count).map { n in
            guard n >= 0, n <= Int64(c.remaining) else { throw ColumnarError("a value length \(n) past the page") }
            return try c.take(Int(n), "a DELTA_LENGTH_BYTE_ARRAY value")
        }
    }

    /// DELTA_BYTE_ARRAY: the length of the prefix shared with the previous value, then the suffixes.
    static func prefixed(_ c: inout ByteCursor, count: Int) throws -> [[UInt8]] {
        let prefixes = try integers(&c, count: count)
        let suffixes = try lengthPrefixed(&c, count: count)
        var previous: [UInt8] = []
        return try zip(prefixes, suffixes).map { p, suffix in
            guard p >= 0, p <= Int64(previous.count) else { throw ColumnarError("a shared prefix of \(p) bytes after a \(previous.count)-byte value") }
            previous = Array(previous.prefix(Int(p))) + suffix
            return previous
        }
    }

    /// BYTE_STREAM_SPLIT: byte `j` of value `i` at `j * count + i`.
    static func streamSplit(_ c: inout ByteCursor, count: Int, physical: ParquetPhysical, leaf: ParquetNode) throws -> [Any] {
        let width = physical == .float || physical == .int32 ? 4 : 8
        guard count <= c.remaining / width else { throw ColumnarError("\(count) values of \(width) bytes past the page") }
        let data = try c.take(width * count, "BYTE_STREAM_SPLIT values")
        return (0..<count).map { (i: Int) -> Any in
            var bits: UInt64 = 0
            for j in 0..<width { bits |= UInt64(data[data.startIndex + j * count + i]) << (8 * j) }
            switch physical {
            case .float: return NSNumber(value: Double(Float(bitPattern: UInt32(truncatingIfNeeded: bits))))
            case .double: return NSNumber(value: Double(bitPattern: bits))
            case .int32: return ParquetPlain.integer(Int64(Int32(truncatingIfNeeded: bits)), leaf, unsigned32: true)
            default: return ParquetPlain.integer(Int64(bitPattern: bits), leaf, unsigned32: false)
            }
        }
    }
}
