import Foundation

/// Why a Parquet or Arrow file could not be read: what was being read (row group, column, message) and
/// what was wrong. Readers throw it for any damage instead of trapping, so fuzzed bytes never crash.
public struct ColumnarError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// The same error with `context` ("row group 2, column 'chosen'") in front.
    func within(_ context: String) -> ColumnarError { ColumnarError("\(context): \(message)") }
}

/// Runs `body`, prefixing any `ColumnarError` it throws with `context`.
func columnarContext<T>(_ context: @autoclosure () -> String, _ body: () throws -> T) throws -> T {
    do { return try body() } catch let e as ColumnarError { throw e.within(context()) }
}

/// A bounds-checked little-endian reader over bytes: every read past the end throws.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        position = start
        self.end = min(end ?? bytes.count, bytes.count)
    }

    var remaining: Int { max(0, end - position) }
    var atEnd: Bool { position >= end }

    mutating func need(_ n: Int, _ what: @autoclosure () -> String) throws {
        guard n >= 0, n <= remaining else {
            throw ColumnarError("truncated: \(what()) needs \(n) bytes, \(remaining) left")
        }
    }

    mutating func byte() throws -> UInt8 {
        try need(1, "a byte")
        defer { position += 1 }
        return bytes[position]
    }

    mutating func skip(_ n: Int) throws {
        try need(n, "a skip")
        position += n
    }

    mutating func take(_ n: Int, _ what: @autoclosure () -> String = "a value") throws -> ArraySlice<UInt8> {
        try need(n, what())
        defer { position += n }
        return bytes[position..<position + n]
    }

    /// An unsigned little-endian integer of `width` bytes (1...8).
    mutating func uint(_ width: Int) throws -> UInt64 {
        try need(width, "an integer")
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[position + i]) << (8 * i) }
        position += width
        return v
    }

    mutating func int32() throws -> Int32 { Int32(truncatingIfNeeded: try uint(4)) }
    mutating func int64() throws -> Int64 { Int64(bitPattern: try uint(8)) }

    /// An unsigned LEB128 varint (at most 10 bytes).
    mutating func varint() throws -> UInt64 {
        var v: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            if shift == 63 && b > 1 { throw ColumnarError("varint overflows 64 bits") }
            v |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return v }
            shift += 7
            if shift > 63 { throw ColumnarError("varint longer than 10 bytes") }
        }
    }

    /// A zigzag-encoded signed varint.
    mutating func zigzag() throws -> Int64 {
        let u = try varint()
        return Int64(bitPattern: (u >> 1) ^ (0 &- (u & 1)))
    }
}

/// Reads a little-endian value of type `T` at `offset` of `bytes` (checked by the caller).
@inline(__always)
func loadLE<T: FixedWidthInteger>(_ bytes: ArraySlice<UInt8>, _ offset: Int, as: T.Type) -> T {
    var v: T = 0
    let base = bytes.startIndex + offset
    for i in 0..<MemoryLayout<T>.size { v |= T(truncatingIfNeeded: bytes[base + i]) << (8 * i) }
    return v
}

/// A value as text when it is valid UTF-8.
func utf8String(_ bytes: ArraySlice<UInt8>) -> String? {
    String(validating: bytes, as: UTF8.self)
}
