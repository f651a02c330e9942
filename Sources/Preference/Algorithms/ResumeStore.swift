import Checkpoint
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
        /// Other files saved with the snapshot (by name).
        public var files: [String: Data] = [:]
    }

    public enum StoreError: Error, CustomStringConvertible {
        case corrupt(URL, String)
        case cannotSave(URL, Int, String)
        public var description: String {
            switch self {
            case let .corrupt(u, why): return "checkpoint file \(u.path) is unreadable: \(why)"
            case let .cannotSave(u, step, why):
                return "cannot save the step-\(step) checkpoint in \(u.path): \(why) (the previous checkpoint is kept)"
            }
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
            groups[String(f.dropLast(".safetensors".count))] = try Safetensors.read(dir.appendingPathComponent(f))
        }
        let progress = try Data(contentsOf: dir.appendingPathComponent("progress.json"))
        var extra: [String: Data] = [:]
        for f in files where !f.hasSuffix(".safetensors") && f != "progress.json" {
            extra[f] = try Data(contentsOf: dir.appendingPathComponent(f))
        }
        return Snapshot(step: step, groups: groups, progress: progress, files: extra)
    }

    /// Writes a snapshot for `step` atomically and drops older ones.
    ///
    /// A failed write (a full disk) removes its partial snapshot and leaves the previous one in place;
    /// partial snapshots of killed processes are removed by the next save, so they never pile up.
    public func save(step: Int, groups: [String: [String: Tensor]], progress: Data, files: [String: Data] = [:]) throws {
        let fm = FileManager.default
        let name = String(format: "step-%08d", step)
        let tmp = directory.appendingPathComponent(".tmp-" + name)
        do {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            for stale in try fm.contentsOfDirectory(atPath: directory.path) where stale.hasPrefix(".tmp-") {
                try? fm.removeItem(at: directory.appendingPathComponent(stale))
            }
            try fm.createDirectory(at: tmp, withIntermediateDirectories: true)
            for (group, tensors) in groups {
                try Safetensors.write(tensors, to: tmp.appendingPathComponent(group + ".safetensors"))
            }
            try progress.write(to: tmp.appendingPathComponent("progress.json"))
            for (file, data) in files { try data.write(to: tmp.appendingPathComponent(file)) }
            let final = directory.appendingPathComponent(name)
            try? fm.removeItem(at: final)
            try fm.moveItem(at: tmp, to: final)
            try Data(name.utf8).write(to: directory.appendingPathComponent("LATEST"), options: .atomic)
        } catch {
            try? fm.removeItem(at: tmp)
            throw StoreError.cannotSave(directory, step, "\(error.localizedDescription)")
        }
        for old in (try? fm.contentsOfDirectory(atPath: directory.path)) ?? [] where old.hasPrefix("step-") && old != name {
            try? fm.removeItem(at: directory.appendingPathComponent(old))
        }
    }
}
