import Foundation
import Tensor

/// A directory of atomic training snapshots: step, named tensor groups (models, optimisers) and progress JSON.
///
/// Layout: `step-<n>/` holds one `<group>.safetensors` per group and `progress.json`; `LATEST` names the newest.
/// A snapshot is written under a temporary name and renamed, then `LATEST` is replaced by rename, so an
/// interruption leaves the previous snapshot intact.
public struct ResumeStore {
    public let directory: URL

    /// One restored snapshot.
    public struct Snapshot {
        public var step: Int
        public var groups: [String: [String: Tensor]]
        public var progress: Data
    }

    public enum StoreError: Error, CustomStringConvertible {
        case corrupt(URL, String)
        public var description: String {
            switch self { case let .corrupt(u, why): return "checkpoint file \(u.path) is unreadable: \(why)" }
        }
    }

    public init(directory: URL) { self.directory = directory }

    /// The newest snapshot, or nil when the directory holds none.
    public func latest() throws -> Snapshot? {
        let pointer = directory.appendingPathComponent("LATEST")
        guard let name = try? String(contentsOf: pointer, encoding: .utf8) else { return nil }
        let dir = directory.appendingPathComponent(name.trimmingCharacters(in: .whitespacesAndNewlines))
        guard let step = Int(dir.lastPathComponent.dropFirst("step-".count)) else {
            throw StoreError.corrupt(pointer, "LATEST names '\(name)', expected step-<n>")
        }
        var groups: [String: [String: Tensor]] = [:]
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        for f in files where f.hasSuffix(".safetensors") {
            groups[String(f.dropLast(".safetensors".count))] = try TensorFile.read(dir.appendingPathComponent(f))
        }
        let progress = try Data(contentsOf: dir.appendingPathComponent("progress.json"))
        return Snapshot(step: step, groups: groups, progress: progress)
    }

    /// Writes a snapshot for `step` atomically and drops older ones.
    public func save(step: Int, groups: [String: [String: Tensor]], progress: Data) throws {
        let fm = FileManager.default
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        let name = String(format: "step-%08d", step)
        let tmp = directory.appendingPathComponent(".tmp-" + name)
        try? fm.removeItem(at: tmp)
        try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
        for (group, tensors) in groups {
            try TensorFile.write(tensors, to: tmp.appendingPathComponent(group + ".safetensors"))
        }
        try progress.write(to: tmp.appendingPathComponent("progress.json"))
        let final = directory.appendingPathComponent(name)
        try? fm.removeItem(at: final)
        try fm.moveItem(at: tmp, to: final)
        try Data(name.utf8).write(to: directory.appendingPathComponent("LATEST"), options: .atomic)
        for old in try fm.contentsOfDirectory(atPath: directory.path) where old.hasPrefix("step-") && old != name {
            try? fm.removeItem(at: directory.appendingPathComponent(old))
        }
    }
}

/// Minimal safetensors (F32 only) reader/writer used by `ResumeStore` until the Checkpoint target's lands.
enum TensorFile {
    static func write(_ tensors: [String: Tensor], to url: URL) throws {
        var header: [String: Any] = [:]
        var offset = 0
        let names = tensors.keys.sorted()
        for n in names {
            let t = tensors[n]!
            header[n] = ["dtype": "F32", "shape": t.shape, "data_offsets": [offset, offset + 4 * t.count]]
            offset += 4 * t.count
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while json.count % 8 != 0 { json.append(0x20) }
        var out = Data()
        var n = UInt64(json.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(json)
        for name in names {
            tensors[name]!.data.withUnsafeBufferPointer { buf in
                for v in buf {
                    var bits = v.bitPattern.littleEndian
                    withUnsafeBytes(of: &bits) { out.append(contentsOf: $0) }
                }
            }
        }
        try out.write(to: url, options: .atomic)
    }

    static func read(_ url: URL) throws -> [String: Tensor] {
        let data = try Data(contentsOf: url)
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw ResumeStore.StoreError.corrupt(url, "shorter than its header") }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n >= 0, 8 + n <= bytes.count,
              let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])) as? [String: Any] else {
            throw ResumeStore.StoreError.corrupt(url, "bad header")
        }
        var out: [String: Tensor] = [:]
        let base = 8 + n
        for (name, entry) in header where name != "__metadata__" {
            guard let e = entry as? [String: Any], let shape = e["shape"] as? [Int], let off = e["data_offsets"] as? [Int],
                  off.count == 2, off[1] - off[0] == 4 * shape.reduce(1, *), base + off[1] <= bytes.count else {
                throw ResumeStore.StoreError.corrupt(url, "bad entry for '\(name)'")
            }
            var values = [Float](repeating: 0, count: shape.reduce(1, *))
            for i in values.indices {
                let p = base + off[0] + 4 * i
                let bits = UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
                values[i] = Float(bitPattern: bits)
            }
            out[name] = Tensor(shape: shape, data: values)
        }
        return out
    }
}
