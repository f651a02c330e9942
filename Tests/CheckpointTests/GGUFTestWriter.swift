import Foundation
@testable import Checkpoint

/// A minimal GGUF v3 writer for tests: metadata of every value type, tensors with raw block bytes.
struct GGUFTestWriter {
    var metadata: [(String, GGUFValue)] = []
    var tensors: [(name: String, dims: [Int], type: GGMLType, bytes: [UInt8])] = []
    var alignment = 32
    var version: UInt32 = 3

    static func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    static func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    /// The type code and payload of a value (arrays take their element type from the first element).
    static func encode(_ v: GGUFValue) -> (UInt32, [UInt8]) {
        switch v {
        case .uint8(let x): return (0, le(x))
        case .int8(let x): return (1, le(x))
        case .uint16(let x): return (2, le(x))
        case .int16(let x): return (3, le(x))
        case .uint32(let x): return (4, le(x))
        case .int32(let x): return (5, le(x))
        case .float32(let x): return (6, le(x.bitPattern))
        case .bool(let x): return (7, [x ? 1 : 0])
        case .string(let s): return (8, string(s))
        case .array(let items):
            let elementType = items.first.map { encode($0).0 } ?? 0
            return (9, le(elementType) + le(UInt64(items.count)) + items.flatMap { encode($0).1 })
        case .uint64(let x): return (10, le(x))
        case .int64(let x): return (11, le(x))
        case .float64(let x): return (12, le(x.bitPattern))
        }
    }

    func bytes() -> [UInt8] {
        var out = Array("GGUF".utf8) + Self.le(version) + Self.le(UInt64(tensors.count)) + Self.le(UInt64(metadata.count))
        for (key, value) in metadata {
            let (type, payload) = Self.encode(value)
            out += Self.string(key) + Self.le(type) + payload
        }
        var offset = 0
        var offsets: [Int] = []
        for t in tensors {
            offsets.append(offset)
            offset = (offset + t.bytes.count + alignment - 1) / alignment * alignment
        }
        for (t, o) in zip(tensors, offsets) {
            out += Self.string(t.name) + Self.le(UInt32(t.dims.count)) + t.dims.flatMap { Self.le(UInt64($0)) }
            out += Self.le(t.type.rawValue) + Self.le(UInt64(o))
        }
        out += [UInt8](repeating: 0, count: (alignment - out.count % alignment) % alignment)
        let dataStart = out.count
        for (t, o) in zip(tensors, offsets) {
            out += [UInt8](repeating: 0, count: dataStart + o - out.count)
            out += t.bytes
        }
        return out
    }

    func write(to url: URL) throws { try Data(bytes()).write(to: url) }
}
