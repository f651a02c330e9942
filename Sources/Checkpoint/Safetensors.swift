import Foundation
import Tensor

/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header
/// (`{"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}`, offsets
/// relative to the end of the header), then the raw little-endian data.
///
/// Writing always stores F32; reading accepts F32, F16, BF16 and F64 and converts to Float.
public enum Safetensors {
    /// Element types this reader understands, with their sizes in bytes.
    static let dtypeSizes: [String: Int] = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8]

    /// Writes `tensors` (F32) and string `metadata` to `url` atomically (temporary file + rename).
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        let names = tensors.keys.sorted()
        var offset = 0
        for name in names {
            guard name != "__metadata__" else { throw CheckpointError(file: url.path, problem: "a tensor may not be named __metadata__") }
            let t = tensors[name]!  // name comes from the dictionary's own keys
            header[name] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        var json: Data
        do {
            json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw CheckpointError(file: url.path, problem: "cannot encode safetensors header: \(error.localizedDescription)")
        }
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var out = Data(capacity: 8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.data.withUnsafeBufferPointer { buf in  // name comes from the dictionary's own keys
                if Int(littleEndian: 1) == 1 {
                    out.append(UnsafeBufferPointer(start: UnsafeRawPointer(buf.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: buf.count * 4))
                } else {
                    for v in buf { withUnsafeBytes(of: v.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
                }
            }
        }
        try AtomicFile.write(out, to: url)
    }

    /// Reads every tensor of a safetensors file, converted to Float.
    public static func read(_ url: URL) throws -> [String: Tensor] {
        try load(url).tensors
    }

    /// Reads every tensor and the `__metadata__` strings.
    public static func load(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let fail = { (problem: String) in CheckpointError(file: url.path, problem: problem) }
        let data: Data
        do { data = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw fail("cannot read: \(error.localizedDescription)")
        }
        guard data.count >= 8 else { throw fail("file is \(data.count) bytes, shorter than the 8-byte header length") }
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw fail("header length \(headerLength) exceeds the \(data.count - 8) bytes after it (not a safetensors file?)")
        }
        let dataStart = 8 + Int(headerLength)
        let (header, metadata) = try parseHeader(data.subdata(in: 8..<dataStart), fail)
        var tensors: [String: Tensor] = [:]
        for (name, entry) in header {
            tensors[name] = try readTensor(name, entry, data, dataStart, fail)
        }
        return (tensors, metadata)
    }

    /// Each tensor's dtype and shape, from the header alone (the data is not read): for checks of
    /// large files before loading them.
    public static func describe(_ url: URL) throws -> [String: (dtype: String, shape: [Int])] {
        let fail = { (problem: String) in CheckpointError(file: url.path, problem: problem) }
        guard let handle = try? FileHandle(forReadingFrom: url) else { throw fail("cannot read: no such file or not readable") }
        defer { try? handle.close() }
        let size = (try? handle.seekToEnd()) ?? 0
        try? handle.seek(toOffset: 0)
        guard size >= 8, let lengthBytes = try? handle.read(upToCount: 8), lengthBytes.count == 8 else {
            throw fail("file is \(size) bytes, shorter than the 8-byte header length")
        }
        let headerLength = lengthBytes.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= size - 8, let json = try? handle.read(upToCount: Int(headerLength)) else {
            throw fail("header length \(headerLength) exceeds the \(size - 8) bytes after it (not a safetensors file?)")
        }
        var out: [String: (dtype: String, shape: [Int])] = [:]
        for (name, entry) in try parseHeader(json, fail).entries {
            guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String, let shape = e["shape"] as? [Any] else {
                throw fail("tensor \"\(name)\": entry needs \"dtype\", \"shape\" and \"data_offsets\"")
            }
            out[name] = (dtype, shape.compactMap { ($0 as? NSNumber)?.intValue })
        }
        return out
    }

    /// The header's tensor entries (by name) and its `__metadata__` strings.
    private static func parseHeader(_ json: Data, _ fail: (String) -> CheckpointError) throws
        -> (entries: [String: Any], metadata: [String: String]) {
        guard var header = (try? JSONSerialization.jsonObject(with: json)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        var metadata: [String: String] = [:]
        if let meta = header.removeValue(forKey: "__metadata__") {
            guard let m = meta as? [String: String] else { throw fail("__metadata__ must map strings to strings") }
            metadata = m
        }
        return (header, metadata)
    }

    private static func readTensor(_ name: String, _ entry: Any, _ data: Data, _ dataStart: Int,
                                   _ fail: (String) -> CheckpointError) throws -> Tensor {
        guard let e = entry as? [String: Any], let dtype = e["dtype"] as? String,
              let shapeRaw = e["shape"] as? [Any], let offsetsRaw = e["data_offsets"] as? [Any] else {
            throw fail("tensor \"\(name)\": entry needs \"dtype\", \"shape\" and \"data_offsets\"")
        }
        guard let size = dtypeSizes[dtype] else {
            throw fail("tensor \"\(name)\": unknown or unsupported dtype \"\(dtype)\" (supported: F32, F16, BF16, F64)")
        }
        let shape = shapeRaw.compactMap { ($0 as? NSNumber)?.intValue }
        let offsets = offsetsRaw.compactMap { ($0 as? NSNumber)?.intValue }
        guard shape.count == shapeRaw.count, shape.allSatisfy({ $0 >= 0 }) else {
            throw fail("tensor \"\(name)\": shape \(shapeRaw) is not a list of non-negative integers")
        }
        guard let count = checkedProduct(shape) else { throw fail("tensor \"\(name)\": shape \(shape) holds more values than can be addressed") }
        guard offsets.count == 2, offsets[0] >= 0, offsets[0] <= offsets[1] else {
            throw fail("tensor \"\(name)\": data_offsets \(offsetsRaw) is not [begin, end] with 0 <= begin <= end")
        }
        guard offsets[1] <= data.count - dataStart else {
            throw fail("tensor \"\(name)\": data_offsets \(offsets) run past the \(data.count - dataStart) data bytes")
        }
        guard offsets[1] - offsets[0] == count * size else {
            throw fail("tensor \"\(name)\": \(offsets[1] - offsets[0]) bytes for shape \(shape) of \(dtype) (expected \(count * size))")
        }
        var values = [Float](repeating: 0, count: count)
        data.withUnsafeBytes { raw in
            let base = dataStart + offsets[0]
            switch dtype {
            case "F32":
                for i in 0..<count { values[i] = Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * i, as: UInt32.self))) }
            case "F16":
                for i in 0..<count { values[i] = HalfFloat.f16ToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))) }
            case "BF16":
                for i in 0..<count { values[i] = HalfFloat.bf16ToFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * i, as: UInt16.self))) }
            default:  // F64, the only other entry of dtypeSizes
                for i in 0..<count { values[i] = Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * i, as: UInt64.self)))) }
            }
        }
        return Tensor(shape: shape, data: values)
    }
}
