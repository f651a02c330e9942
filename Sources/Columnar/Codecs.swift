import CSnappy
import CZlib
import CZstd
import Foundation

/// Page and buffer decompression over Debian's libsnappy, libzstd and zlib. Every call knows the size
/// the writer recorded and checks that the codec produced exactly that many bytes.
enum ColumnarCodecs {
    /// No page or buffer may claim more than this (a damaged size must not allocate gigabytes).
    static let maxDecodedBytes = 1 << 30

    static func decompress(_ input: ArraySlice<UInt8>, codec: ParquetCodec, size: Int) throws -> [UInt8] {
        switch codec {
        case .uncompressed:
            guard input.count == size else {
                throw ColumnarError("an uncompressed page of \(input.count) bytes where the header says \(size)")
            }
            return Array(input)
        case .snappy: return try snappy(input, size: size)
        case .zstd: return try zstd(input, size: size)
        case .gzip: return try gzip(input, size: size)
        default: throw ColumnarError("compression \(codec.name) is not supported (SNAPPY, GZIP, ZSTD and none are)")
        }
    }

    static func checkSize(_ size: Int) throws {
        guard size >= 0, size <= maxDecodedBytes else { throw ColumnarError("a decompressed size of \(size) bytes is out of range") }
    }

    static func snappy(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        try checkSize(size)
        var out = [UInt8](repeating: 0, count: size)
        let status: snappy_status = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var length = size
                let s = snappy_uncompress(src.baseAddress?.assumingMemoryBound(to: CChar.self), src.count,
                                          dst.baseAddress?.assumingMemoryBound(to: CChar.self), &length)
                return s == SNAPPY_OK && length != size ? SNAPPY_INVALID_INPUT : s
            }
        }
        guard status == SNAPPY_OK else { throw ColumnarError("Snappy data is corrupt (or not \(size) bytes decompressed)") }
        return out
    }

    static func zstd(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        try checkSize(size)
        var out = [UInt8](repeating: 0, count: size)
        let n: Int = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                // ZSTD_decompress needs non-null pointers even for empty buffers.
                var zero: UInt8 = 0
                let d = dst.baseAddress ?? withUnsafeMutableBytes(of: &zero) { $0.baseAddress! }
                let r = ZSTD_decompress(d, dst.count, src.baseAddress ?? UnsafeRawPointer(d), src.count)
                return ZSTD_isError(r) != 0 ? -1 : Int(r)
            }
        }
        guard n == size else { throw ColumnarError("Zstandard data is corrupt (or not \(size) bytes decompressed)") }
        return out
    }

    static func gzip(_ input: ArraySlice<UInt8>, size: Int) throws -> [UInt8] {
        try checkSize(size)
        var out = [UInt8](repeating: 0, count: max(size, 1))
        var produced = 0
        let status: Int32 = input.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                var s = z_stream()
                // 15 + 32: automatic gzip or zlib header, as Parquet writers differ.
                guard inflateInit2_(&s, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return Z_STREAM_ERROR }
                defer { inflateEnd(&s) }
                s.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
                s.avail_in = uInt(src.count)
                s.next_out = dst.baseAddress?.assumingMemoryBound(to: Bytef.self)
                s.avail_out = uInt(dst.count)
                let r = CZlib.inflate(&s, Z_FINISH)
                produced = dst.count - Int(s.avail_out)
                return r
            }
        }
        guard status == Z_STREAM_END, produced == size else {
            throw ColumnarError("gzip data is corrupt (or not \(size) bytes decompressed)")
        }
        return Array(out.prefix(size))
    }
}
