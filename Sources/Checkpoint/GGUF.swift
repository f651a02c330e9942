import Foundation
import Tensor

/// One metadata value of a GGUF file (all thirteen GGUF value types).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), array([GGUFValue])
    case uint64(UInt64), int64(Int64), float64(Double)

    /// The value as an Int when it is an integer of any width (and fits).
    public var int: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value as a Double when it is a number.
    public var double: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return int.map(Double.init)
        }
    }

    public var string: String? { if case .string(let s) = self { return s } else { return nil } }
    public var bool: Bool? { if case .bool(let b) = self { return b } else { return nil } }
    public var array: [GGUFValue]? { if case .array(let a) = self { return a } else { return nil } }
    /// The value as a list of strings when it is an array of strings.
    public var strings: [String]? { array.flatMap { a in a.allSatisfy { $0.string != nil } ? a.compactMap(\.string) : nil } }
    /// The value as a list of Int32 when it is an array of integers.
    public var int32s: [Int32]? { array.flatMap { a in a.allSatisfy { $0.int != nil } ? a.compactMap { $0.int.flatMap(Int32.init(exactly:)) } : nil } }
}

/// Where one tensor lives in a GGUF file.
public struct GGUFTensorInfo: Sendable, Equatable {
    /// The llama.cpp name (`blk.0.attn_q.weight`).
    public var name: String
    /// GGUF dimensions, fastest-varying first (`ne[0]` is the row length).
    public var dims: [Int]
    /// Element type.
    public var type: GGMLType
    /// Byte offset from the start of the data section.
    public var offset: Int

    /// Row-major shape, outermost first: `dims` reversed (an `[in, out]` GGUF matrix is `[out, in]`).
    public var shape: [Int] { dims.reversed() }
    /// Number of values.
    public var count: Int { dims.reduce(1, *) }
}

/// A parsed GGUF file (version 2 or 3): metadata, tensor directory, and lazily dequantised tensors.
///
/// The file is memory-mapped; `tensor(named:)` converts one tensor to Float on demand.
public final class GGUFFile: Sendable {
    /// The file's location.
    public let url: URL
    /// GGUF format version.
    public let version: UInt32
    /// Every metadata key and value.
    public let metadata: [String: GGUFValue]
    /// Tensor directory in file order.
    public let tensorInfos: [GGUFTensorInfo]
    /// Alignment of the data section and of each tensor (`general.alignment`, default 32).
    public let alignment: Int
    /// Byte offset of the data section in the file.
    public let dataOffset: Int
    private let data: Data

    /// Parses the header, metadata and tensor directory; refuses anything malformed with the file named.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw CheckpointError(file: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        let parsed = try data.withUnsafeBytes { raw -> GGUFHeader in
            var r = GGUFReader(bytes: raw, file: url.path)
            return try r.readHeader()
        }
        self.url = url
        self.data = data
        version = parsed.version
        metadata = parsed.metadata
        tensorInfos = parsed.tensors
        alignment = parsed.alignment
        dataOffset = parsed.dataOffset
        try validateTensorBounds()
    }

    private func validateTensorBounds() throws {
        var seen = Set<String>()
        for t in tensorInfos {
            guard seen.insert(t.name).inserted else { throw fail("tensor \"\(t.name)\" appears twice") }
            guard t.offset % alignment == 0 else { throw fail("tensor \"\(t.name)\" offset \(t.offset) is not a multiple of alignment \(alignment)") }
            guard let bytes = t.type.byteCount(values: t.count) else { continue }  // unsupported types fail only when read
            guard dataOffset + t.offset + bytes <= data.count else {
                throw fail("tensor \"\(t.name)\" (\(t.type), dims \(t.dims)) needs bytes \(dataOffset + t.offset)..<\(dataOffset + t.offset + bytes), past the end of the \(data.count)-byte file")
            }
        }
    }

    func fail(_ problem: String) -> CheckpointError { CheckpointError(file: url.path, problem: problem) }

    /// Directory entry of a tensor, or nil.
    public func info(named name: String) -> GGUFTensorInfo? { tensorInfos.first { $0.name == name } }

    /// One tensor dequantised to Float, shaped row-major as `info.shape` (GGUF dims reversed).
    public func tensor(named name: String) throws -> Tensor {
        guard let t = info(named: name) else { throw fail("no tensor named \"\(name)\"") }
        let values: [Float]
        do {
            values = try data.withUnsafeBytes { raw in
                let start = dataOffset + t.offset
                return try GGMLQuant.dequantize(UnsafeRawBufferPointer(rebasing: raw[start...]), type: t.type, count: t.count)
            }
        } catch let e as GGMLQuantError {
            throw fail("tensor \"\(name)\": \(e.problem)")
        }
        return Tensor(shape: t.shape, data: values)
    }

    /// A metadata value, or nil.
    public subscript(key: String) -> GGUFValue? { metadata[key] }
}

/// The product of `values`, or nil when it exceeds 2^48 (no real tensor is that large; guards against overflow).
func checkedProduct(_ values: [Int]) -> Int? {
    var n = 1
    for v in values {
        let (p, overflow) = n.multipliedReportingOverflow(by: v)
        guard !overflow, p <= 1 << 48 else { return nil }
        n = p
    }
    return n
}

/// What `GGUFReader.readHeader` finds.
struct GGUFHeader {
    var version: UInt32
    var metadata: [String: GGUFValue]
    var tensors: [GGUFTensorInfo]
    var alignment: Int
    var dataOffset: Int
}

/// A bounds-checked little-endian cursor over the GGUF bytes.
struct GGUFReader {
    let bytes: UnsafeRawBufferPointer
    let file: String
    var pos = 0

    init(bytes: UnsafeRawBufferPointer, file: String) {
        self.bytes = bytes
        self.file = file
    }

    func fail(_ problem: String) -> CheckpointError { CheckpointError(file: file, problem: problem) }

    mutating func readHeader() throws -> GGUFHeader {
        guard bytes.count >= 4, bytes[0] == 0x47, bytes[1] == 0x47, bytes[2] == 0x55, bytes[3] == 0x46 else {
            throw fail("does not start with the GGUF magic \"GGUF\"")
        }
        pos = 4
        let version: UInt32 = try scalar()
        guard version == 2 || version == 3 else { throw fail("GGUF version \(version) is not supported (2 or 3)") }
        let tensorCount = try count(min: 24, what: "tensor count")
        let kvCount = try count(min: 12, what: "metadata count")
        var metadata: [String: GGUFValue] = [:]
        for _ in 0..<kvCount {
            let key = try string()
            let type: UInt32 = try scalar()
            metadata[key] = try value(type: type, context: key, depth: 0)
        }
        var alignment = 32
        if let a = metadata["general.alignment"] {
            guard let n = a.int, n > 0, n & (n - 1) == 0 else { throw fail("general.alignment \(a) is not a positive power of two") }
            alignment = n
        }
        var tensors: [GGUFTensorInfo] = []
        for _ in 0..<tensorCount { tensors.append(try tensorInfo()) }
        let dataOffset = (pos + alignment - 1) / alignment * alignment
        guard dataOffset <= bytes.count else { throw fail("data section starts at \(dataOffset), past the end of the \(bytes.count)-byte file") }
        return GGUFHeader(version: version, metadata: metadata, tensors: tensors, alignment: alignment, dataOffset: dataOffset)
    }

    private mutating func tensorInfo() throws -> GGUFTensorInfo {
        let name = try string()
        let nDims: UInt32 = try scalar()
        guard (1...4).contains(nDims) else { throw fail("tensor \"\(name)\" has \(nDims) dimensions (1 to 4 expected)") }
        var dims: [Int] = []
        for _ in 0..<nDims {
            let d: UInt64 = try scalar()
            guard d > 0, d < 1 << 40 else { throw fail("tensor \"\(name)\" has dimension \(d)") }
            dims.append(Int(d))
        }
        guard checkedProduct(dims) != nil else { throw fail("tensor \"\(name)\" dims \(dims) hold more values than can be addressed") }
        let type = GGMLType(rawValue: try scalar())
        let offset: UInt64 = try scalar()
        guard offset < UInt64(bytes.count) else { throw fail("tensor \"\(name)\" offset \(offset) is past the end of the file") }
        return GGUFTensorInfo(name: name, dims: dims, type: type, offset: Int(offset))
    }

    private mutating func scalar<T: FixedWidthInteger>() throws -> T {
        let size = MemoryLayout<T>.size
        guard pos + size <= bytes.count else { throw fail("truncated: needed \(size) bytes at offset \(pos), file has \(bytes.count)") }
        let v = T(littleEndian: bytes.loadUnaligned(fromByteOffset: pos, as: T.self))
        pos += size
        return v
    }

    /// A u64 count, refused when even `min` bytes per item could not fit in the rest of the file.
    private mutating func count(min: Int, what: String) throws -> Int {
        let n: UInt64 = try scalar()
        guard n <= UInt64(bytes.count - pos) / UInt64(max(1, min)) else {
            throw fail("\(what) \(n) at offset \(pos - 8) cannot fit in the \(bytes.count - pos) remaining bytes")
        }
        return Int(n)
    }

    private mutating func string() throws -> String {
        let n = try count(min: 1, what: "string length")
        let s = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[pos..<pos + n]), as: UTF8.self)
        pos += n
        return s
    }

    private mutating func value(type: UInt32, context: String, depth: Int) throws -> GGUFValue {
        switch type {
        case 0: return .uint8(try scalar())
        case 1: return .int8(try scalar())
        case 2: return .uint16(try scalar())
        case 3: return .int16(try scalar())
        case 4: return .uint32(try scalar())
        case 5: return .int32(try scalar())
        case 6: return .float32(Float(bitPattern: try scalar()))
        case 7:
            let b: UInt8 = try scalar()
            guard b <= 1 else { throw fail("metadata \"\(context)\": bool byte \(b) is neither 0 nor 1") }
            return .bool(b == 1)
        case 8: return .string(try string())
        case 9:
            let elementType: UInt32 = try scalar()
            guard depth < 4 else { throw fail("metadata \"\(context)\": arrays nested more than 4 deep") }
            let n = try count(min: 1, what: "array length of \"\(context)\"")
            var items: [GGUFValue] = []
            items.reserveCapacity(n)
            for i in 0..<n { items.append(try value(type: elementType, context: "\(context)[\(i)]", depth: depth + 1)) }
            return .array(items)
        case 10: return .uint64(try scalar())
        case 11: return .int64(try scalar())
        case 12: return .float64(Double(bitPattern: try scalar()))
        default: throw fail("metadata \"\(context)\" has unknown value type \(type) (0 to 12 expected)")
        }
    }
}
