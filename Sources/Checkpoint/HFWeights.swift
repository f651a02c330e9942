import Foundation
import Tensor

/// The weights of a Hugging Face model folder: one `model.safetensors`, or shards listed by
/// `model.safetensors.index.json` (`{"metadata": {"total_size": n}, "weight_map": {tensor: shard}}`),
/// as `save_pretrained` writes them. Tensors may be F32, F16, BF16 or F64; they are read as Float.
public enum HFWeights {
    /// The single-file name.
    public static let singleFile = "model.safetensors"
    /// The shard index name.
    public static let indexFile = "model.safetensors.index.json"

    /// Every tensor's file, by tensor name: the single file's, or the index's weight map checked
    /// (shard names are plain file names in the folder, each shard exists).
    public static func layout(of dir: URL) throws -> [String: URL] {
        let single = dir.appendingPathComponent(singleFile), index = dir.appendingPathComponent(indexFile)
        let fm = FileManager.default
        if !fm.fileExists(atPath: index.path) {
            guard fm.fileExists(atPath: single.path) else {
                throw CheckpointError(file: single.path, problem: "missing: a model folder needs \(singleFile) or \(indexFile)")
            }
            return Dictionary(uniqueKeysWithValues: try Safetensors.describe(single).keys.map { ($0, single) })
        }
        let fail = { (problem: String) in CheckpointError(file: index.path, problem: problem) }
        guard let data = try? Data(contentsOf: index) else { throw fail("cannot read") }
        guard let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let map = root["weight_map"] as? [String: Any] else {
            throw fail("not a shard index: needs a \"weight_map\" object of tensor name -> shard file")
        }
        var out: [String: URL] = [:]
        for (name, value) in map {
            guard let shard = value as? String, !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                throw fail("weight_map.\(name): \(value) is not a shard file name in the folder")
            }
            let url = dir.appendingPathComponent(shard)
            guard fm.fileExists(atPath: url.path) else { throw fail("weight_map.\(name): shard \(shard) does not exist") }
            out[name] = url
        }
        if out.isEmpty { throw fail("weight_map is empty") }
        return out
    }

    /// Every tensor of the folder, each shard read once; a tensor the index names must be in its shard,
    /// and a shard may hold no tensor the index assigns elsewhere or not at all.
    public static func read(from dir: URL) throws -> [String: Tensor] {
        let layout = try layout(of: dir)
        var byShard: [URL: Set<String>] = [:]
        for (name, url) in layout { byShard[url, default: []].insert(name) }
        var out: [String: Tensor] = [:]
        for (url, names) in byShard.sorted(by: { $0.key.path < $1.key.path }) {
            let tensors = try Safetensors.read(url)
            if let missing = names.sorted().first(where: { tensors[$0] == nil }) {
                throw CheckpointError(file: url.path, problem: "has no tensor \"\(missing)\", which \(indexFile) places here")
            }
            if let stray = tensors.keys.sorted().first(where: { !names.contains($0) }) {
                throw CheckpointError(file: url.path, problem: "tensor \"\(stray)\" is not in \(indexFile)'s weight_map for this shard")
            }
            out.merge(tensors) { a, _ in a }
        }
        return out
    }

    /// The weight files of the folder (index first, then shards by name), for fingerprints.
    public static func files(in dir: URL) throws -> [URL] {
        let shards = Set(try layout(of: dir).values).sorted { $0.path < $1.path }
        let index = dir.appendingPathComponent(indexFile)
        return FileManager.default.fileExists(atPath: index.path) ? [index] + shards : shards
    }

    /// Writes `tensors` (F32) as `model.safetensors`, or, when `maxShardBytes` is set and they exceed
    /// it, as `model-0000i-of-0000n.safetensors` shards (tensors in name order, each shard filled up to
    /// the limit, a larger tensor alone) plus the index; any previous weight files are removed first.
    public static func write(_ tensors: [String: Tensor], to dir: URL, maxShardBytes: Int? = nil) throws {
        let metadata = ["format": "pt"]  // transformers refuses safetensors files without it
        for old in (try? files(in: dir)) ?? [] { try? FileManager.default.removeItem(at: old) }
        let names = tensors.keys.sorted()
        let total = names.reduce(0) { $0 + 4 * tensors[$1]!.count }  // names are the dictionary's own keys
        guard let limit = maxShardBytes, total > limit else {
            try Safetensors.write(tensors, metadata: metadata, to: dir.appendingPathComponent(singleFile))
            return
        }
        var shards: [[String]] = [[]], size = 0
        for name in names {
            let bytes = 4 * tensors[name]!.count
            if size + bytes > limit && !shards[shards.count - 1].isEmpty { shards.append([]); size = 0 }
            shards[shards.count - 1].append(name)
            size += bytes
        }
        var map: [String: String] = [:]
        for (i, group) in shards.enumerated() {
            let file = String(format: "model-%05d-of-%05d.safetensors", i + 1, shards.count)
            try Safetensors.write(Dictionary(uniqueKeysWithValues: group.map { ($0, tensors[$0]!) }), metadata: metadata,
                                  to: dir.appendingPathComponent(file))
            for name in group { map[name] = file }
        }
        try ConfigJSON.write(ShardIndex(metadata: ["total_size": total], weightMap: map), to: dir.appendingPathComponent(indexFile))
    }

    private struct ShardIndex: Encodable {
        var metadata: [String: Int]
        var weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case metadata, weightMap = "weight_map" }
    }
}
