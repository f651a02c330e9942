import Foundation

/// Parquet's RLE / bit-packed hybrid (repetition and definition levels, dictionary indices, v2 booleans):
/// runs of `varint header`; an even header repeats one value `header >> 1` times, an odd one is
/// `header >> 1` groups of 8 values packed LSB first in `bitWidth` bits each.
enum ParquetRLE {
    /// The bits needed for values up to `maxValue` (0 for 0).
    static func bitWidth(_ maxValue: Int) -> Int {
        maxValue <= 0 ? 0 : Int.bitWidth - maxValue.leadingZeroBitCount
    }

    /// Decodes exactly `count` values from `cursor` (which ends where the encoded data ends).
    static func decode(_ cursor: inout ByteCursor, bitWidth: Int, count: Int) throws -> [Int32] {
        guard (0...32).contains(bitWidth) else { throw ColumnarError("RLE bit width \(bitWidth) out of range") }
        var out: [Int32] = []
        out.reserveCapacity(min(count, 1 << 24))
        if bitWidth == 0 { return [Int32](repeating: 0, count: count) }
        let byteWidth = (bitWidth + 7) / 8
        let mask = bitWidth == 32 ? UInt64(UInt32.max) : (UInt64(1) << UInt64(bitWidth)) - 1
        while out.count < count {
            let header = try cursor.varint()
            if header & 1 == 0 {
                let run = header >> 1
                let value = try cursor.uint(byteWidth)
                guard value <= mask else { throw ColumnarError("RLE value \(value) exceeds \(bitWidth) bits") }
                let n = Int(min(run, UInt64(count - out.count)))
                out.append(contentsOf: repeatElement(Int32(truncatingIfNeeded: value), count: n))
            } else {
                let groups = header >> 1
                guard groups <= UInt64(cursor.remaining) else { throw ColumnarError("bit-packed run of \(groups) groups, \(cursor.remaining) bytes left") }
                let bytes = Int(groups) * bitWidth
                let packed = try cursor.take(bytes, "a bit-packed run")
                let values = Int(groups) * 8
                var bit = 0
                for _ in 0..<min(values, count - out.count) {
                    out.append(Int32(truncatingIfNeeded: readBits(packed, at: bit, width: bitWidth)))
                    bit += bitWidth
                }
            }
        }
        return out
    }

    /// `width` bits starting at bit `at` of `bytes`, least significant first.
    @inline(__always)
    static func readBits(_ bytes: ArraySlice<UInt8>, at: Int, width: Int) -> UInt64 {
        var v: UInt64 = 0
        var got = 0
        var pos = at
        while got < width {
            let byte = UInt64(bytes[bytes.startIndex + pos >> 3])
            let offset = pos & 7
            let take = min(8 - offset, width - got)
            v |= ((byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)) << UInt64(got)
            got += take
            pos += take
        }
        return v
    }
}
