import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Nodes committed before manifests existed: `preflab store verify --adopt` checks what can be checked
/// without one (every JSON and JSON Lines file parses, every safetensors file's header matches its
/// length) and, when that passes, writes the manifest, so the node is verified like any other from then on.
/// A flipped bit inside a weight tensor cannot be seen this way; that is why adoption is asked for, not automatic.
extension ArtifactStore {
    /// Adopts one complete node without a manifest: `.intact` once its manifest is written, `.damaged` when
    /// a file fails the structural check (nothing written). Hold the node lock.
    public func adopt(_ hash: String) throws -> NodeIntegrity {
        let dir = objectDirectory(for: hash)
        for path in try Self.relativeFiles(in: dir) {
            if let problem = Self.structuralProblem(dir.appendingPathComponent(path)) {
                return .damaged(file: path, reason: problem)
            }
        }
        // Written beside and renamed: a torn manifest would make a sound node look damaged.
        let staging = root.appendingPathComponent("tmp").appendingPathComponent("\(hash).adopt-\(getpid())")
        try? FileManager.default.removeItem(at: staging)
        try Self.makeDirectory(staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        let staged = staging.appendingPathComponent(Self.manifestName)
        let written = dir.appendingPathComponent(Self.manifestName)
        try FileWriter.write(try Self.manifestText(of: dir), to: staged)
        try FileWriter.sync(staged)
        guard rename(staged.path, written.path) == 0 else {
            throw StoreError.io("cannot place the manifest of \(hash): \(String(cString: strerror(errno)))")
        }
        try FileWriter.sync(dir)
        return verify(hash, digests: true)
    }

    /// Why a stored file is visibly broken, judged by its kind; nil when nothing is seen.
    static func structuralProblem(_ url: URL) -> String? {
        guard let data = FileManager.default.contents(atPath: url.path) else { return "cannot be read" }
        switch url.pathExtension {
        case "json":
            return (try? JSONSerialization.jsonObject(with: data)) == nil ? "is not valid JSON" : nil
        case "jsonl":
            for (i, line) in data.split(separator: 0x0A).enumerated()
            where (try? JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed])) == nil {
                return "line \(i + 1) is not valid JSON"
            }
            return nil
        case "safetensors":
            return safetensorsProblem(data)
        default:
            return nil
        }
    }

    /// A safetensors file is an 8-byte little-endian header length, a JSON header whose tensors'
    /// `data_offsets` tile the data section, and the data; a truncated or padded file breaks that.
    static func safetensorsProblem(_ data: Data) -> String? {
        guard data.count >= 8 else { return "shorter than a safetensors header" }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(data.count - 8),
              let header = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(n)))) as? [String: Any] else {
            return "safetensors header is unreadable"
        }
        let end = header.compactMap { key, value -> Int? in
            guard key != "__metadata__", let offsets = (value as? [String: Any])?["data_offsets"] as? [Int] else { return nil }
            return offsets.last
        }.max() ?? 0
        let body = data.count - 8 - Int(n)
        return end == body ? nil : "safetensors data is \(body) bytes, the header needs \(end)"
    }
}
