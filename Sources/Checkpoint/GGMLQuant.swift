/// A ggml tensor element type, as numbered in GGUF files.
public struct GGMLType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let f32 = GGMLType(rawValue: 0)
    public static let f16 = GGMLType(rawValue: 1)
    public static let q4_0 = GGMLType(rawValue: 2)
    public static let q4_1 = GGMLType(rawValue: 3)
    public static let q8_0 = GGMLType(rawValue: 8)
    public static let bf16 = GGMLType(rawValue: 30)

    private static let names: [UInt32: String] = [
        0: "F32", 1: "F16", 2: "Q4_0", 3: "Q4_1", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 9: "Q8_1", 10: "Q2_K",
        11: "Q3_K", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K", 15: "Q8_K", 24: "I8", 25: "I16", 26: "I32",
        27: "I64", 28: "F64", 30: "BF16",
    ]

    public var description: String { "\(GGMLType.names[rawValue] ?? "type") (\(rawValue))" }

    /// (values per block, bytes per block) for the types this reader dequantises, nil for others.
    public var blockLayout: (values: Int, bytes: Int)? {
        switch self {
        case .f32: return (1, 4)
        case .f16, .bf16: return (1, 2)
        case .q4_0: return (32, 18)  // f16 scale d, 16 bytes of 4-bit quants
        case .q4_1: return (32, 20)  // f16 scale d, f16 minimum m, 16 bytes of 4-bit quants
        case .q8_0: return (32, 34)  // f16 scale d, 32 signed bytes
        default: return nil
        }
    }

    /// Bytes taken by `count` values, or nil when the type is unsupported or `count` is not whole blocks.
    public func byteCount(values count: Int) -> Int? {
        guard let (per, bytes) = blockLayout, count % per == 0 else { return nil }
        return count / per * bytes
    }
}

/// Dequantisation of ggml blocks to Float, following ggml's reference `dequantize_row_*`.
public enum GGMLQuant {
    /// The supported types, for error messages.
    public static let supported = "F32, F16, BF16, Q8_0, Q4_0, Q4_1"

    /// Converts `count` values of `type` stored in `bytes` (little-endian) to Float.
    ///
    /// Q4_0: x[j] = (lo4(q[j]) - 8)·d, x[j+16] = (hi4(q[j]) - 8)·d. Q4_1: x[j] = lo4(q[j])·d + m,
    /// x[j+16] = hi4(q[j])·d + m. Q8_0: x[j] = q[j]·d. Each block holds 32 values; d and m are F16.
    public static func dequantize(_ bytes: UnsafeRawBufferPointer, type: GGMLType, count: Int) throws -> [Float] {
        guard let needed = type.byteCount(values: count) else {
            if type.blockLayout == nil { throw GGMLQuantError(problem: "tensor type \(type) is not supported (supported: \(supported))") }
            throw GGMLQuantError(problem: "\(count) values is not a whole number of \(type) blocks of \(type.blockLayout?.values ?? 0)")
        }
        guard bytes.count >= needed else {
            throw GGMLQuantError(problem: "\(count) values of \(type) need \(needed) bytes, only \(bytes.count) available")
        }
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { dst in
            switch type {
            case .f32: for i in 0..<count { dst[i] = Float(bitPattern: u32(bytes, 4 * i)) }
            case .f16: for i in 0..<count { dst[i] = HalfFloat.f16ToFloat(u16(bytes, 2 * i)) }
            case .bf16: for i in 0..<count { dst[i] = HalfFloat.bf16ToFloat(u16(bytes, 2 * i)) }
            case .q8_0: q8_0(bytes, blocks: count / 32, dst)
            case .q4_0: q4_0(bytes, blocks: count / 32, dst)
            default: q4_1(bytes, blocks: count / 32, dst)  // Q4_1, the last supported type
            }
        }
        return out
    }

    /// Convenience over a byte array (tests, small tensors).
    public static func dequantize(_ bytes: [UInt8], type: GGMLType, count: Int) throws -> [Float] {
        try bytes.withUnsafeBytes { try dequantize($0, type: type, count: count) }
    }

    @inline(__always) private static func u16(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt16 {
        UInt16(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt16.self))
    }

    @inline(__always) private static func u32(_ b: UnsafeRawBufferPointer, _ o: Int) -> UInt32 {
        UInt32(littleEndian: b.loadUnaligned(fromByteOffset: o, as: UInt32.self))
    }

    private static func q8_0(_ b: UnsafeRawBufferPointer, blocks: Int, _ dst: UnsafeMutableBufferPointer<Float>) {
        for blk in 0..<blocks {
            let o = blk * 34
            let d = HalfFloat.f16ToFloat(u16(b, o))
            for j in 0..<32 { dst[blk * 32 + j] = Float(Int8(bitPattern: b[o + 2 + j])) * d }
        }
    }

    private static func q4_0(_ b: UnsafeRawBufferPointer, blocks: Int, _ dst: UnsafeMutableBufferPointer<Float>) {
        for blk in 0..<blocks {
            let o = blk * 18
            let d = HalfFloat.f16ToFloat(u16(b, o))
            for j in 0..<16 {
                let q = b[o + 2 + j]
                dst[blk * 32 + j] = Float(Int(q & 0x0F) - 8) * d
                dst[blk * 32 + j + 16] = Float(Int(q >> 4) - 8) * d
            }
        }
    }

    private static func q4_1(_ b: UnsafeRawBufferPointer, blocks: Int, _ dst: UnsafeMutableBufferPointer<Float>) {
        for blk in 0..<blocks {
            let o = blk * 20
            let d = HalfFloat.f16ToFloat(u16(b, o))
            let m = HalfFloat.f16ToFloat(u16(b, o + 2))
            for j in 0..<16 {
                let q = b[o + 4 + j]
                dst[blk * 32 + j] = Float(q & 0x0F) * d + m
                dst[blk * 32 + j + 16] = Float(q >> 4) * d + m
            }
        }
    }
}

/// A dequantisation problem (unsupported type, short data); GGUF reading wraps it with the file name.
public struct GGMLQuantError: Error, CustomStringConvertible {
    /// What is wrong.
    public var problem: String
    public var description: String { problem }
}
