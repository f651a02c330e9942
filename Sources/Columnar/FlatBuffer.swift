import Foundation

/// A bounds-checked view of one FlatBuffers table (Arrow's IPC metadata): field `i`'s slot is found
/// through the table's vtable; every offset is checked against the buffer before it is followed.
struct FlatTable {
    let bytes: [UInt8]
    let position: Int

    /// The root table of a buffer.
    static func root(_ bytes: [UInt8]) throws -> FlatTable {
        try FlatTable(bytes, at: 0, indirect: true)
    }

    /// The table at `at`, or the one `at` points to with `indirect`.
    init(_ bytes: [UInt8], at: Int, indirect: Bool) throws {
        self.bytes = bytes
        let p = indirect ? try Self.follow(bytes, at) : at
        guard p >= 0, p + 4 <= bytes.count else { throw ColumnarError("a FlatBuffers table at \(p) lies outside the metadata") }
        position = p
    }

    static func u32(_ b: [UInt8], _ at: Int) throws -> UInt32 {
        guard at >= 0, at + 4 <= b.count else { throw ColumnarError("FlatBuffers read at \(at) past the end (\(b.count) bytes)") }
        return UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }

    /// The position an unsigned offset stored at `at` points to.
    static func follow(_ b: [UInt8], _ at: Int) throws -> Int { at + Int(try u32(b, at)) }

    func readInt(_ at: Int, _ width: Int) throws -> Int64 {
        guard at >= 0, at + width <= bytes.count else { throw ColumnarError("FlatBuffers read at \(at) past the end") }
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[at + i]) << (8 * i) }
        let shift = UInt64(64 - 8 * width)
        return Int64(bitPattern: v << shift) >> Int64(shift)  // sign-extend
    }

    /// Where field `index` is stored, or nil when the writer left it at its default.
    func slot(_ index: Int) throws -> Int? {
        let vtable = position - Int(Int32(truncatingIfNeeded: try Self.u32(bytes, position)))
        let size = Int(try readInt(vtable, 2)) & 0xFFFF
        let entry = 4 + 2 * index
        guard entry + 2 <= size else { return nil }
        let offset = Int(try readInt(vtable + entry, 2)) & 0xFFFF
        return offset == 0 ? nil : position + offset
    }

    func int(_ index: Int, width: Int, default d: Int64 = 0) throws -> Int64 {
        guard let s = try slot(index) else { return d }
        return try readInt(s, width)
    }

    func bool(_ index: Int) throws -> Bool { try int(index, width: 1) != 0 }

    func table(_ index: Int) throws -> FlatTable? {
        guard let s = try slot(index) else { return nil }
        return try FlatTable(bytes, at: s, indirect: true)
    }

    func string(_ index: Int) throws -> String? {
        guard let s = try slot(index) else { return nil }
        let p = try Self.follow(bytes, s)
        let n = Int(try Self.u32(bytes, p))
        guard n <= bytes.count - p - 4 else { throw ColumnarError("a FlatBuffers string runs past the end") }
        return utf8String(bytes[(p + 4)..<(p + 4 + n)])
    }

    /// A vector field: its element count and where its first element is.
    func vector(_ index: Int, elementSize: Int) throws -> (count: Int, start: Int)? {
        guard let s = try slot(index) else { return nil }
        let p = try Self.follow(bytes, s)
        let n = Int(try Self.u32(bytes, p))
        guard n <= (bytes.count - p - 4) / elementSize else { throw ColumnarError("a FlatBuffers vector runs past the end") }
        return (n, p + 4)
    }

    /// A vector of tables.
    func tables(_ index: Int) throws -> [FlatTable] {
        guard let (n, start) = try vector(index, elementSize: 4) else { return [] }
        return try (0..<n).map { try FlatTable(bytes, at: start + 4 * $0, indirect: true) }
    }
}
