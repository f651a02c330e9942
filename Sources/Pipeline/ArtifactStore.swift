import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A failure reading or writing the artifact store.
public enum StoreError: Error, CustomStringConvertible, Equatable {
    /// A file system operation failed.
    case io(String)

    public var description: String {
        switch self {
        case let .io(m): return m
        }
    }
}

/// What `node.json` says about a finished node.
public struct NodeRecord: Sendable, Equatable {
    /// The node hash.
    public var hash: String
    /// The stage kind.
    public var kind: String
    /// The stage name it was first declared under.
    public var stage: String
    /// Canonical JSON of the hashed config (references replaced by input hashes).
    public var config: String
    /// Input field → input node hash.
    public var inputs: [String: String]
    /// The kind's code version.
    public var codeVersion: Int
    /// ISO-8601 time the node finished.
    public var created: String
    /// Seconds the runner took.
    public var wallSeconds: Double
    /// The machine facts the executor recorded (`Executor.host`, e.g. `blas_core`); empty for nodes made
    /// before they were recorded.
    public var host: [String: String] = [:]
}

/// One line of a node's `metrics.jsonl`: step of total and named values (null reads as NaN).
public struct MetricPoint: Sendable, Equatable {
    public var step: Int
    public var total: Int
    public var values: [String: Double]
}

/// What `gc` removed.
public struct GCReport: Sendable, Equatable {
    /// Hashes whose finished artifacts were removed.
    public var removedObjects: [String] = []
    /// Hashes whose resume folders were removed.
    public var removedResume: [String] = []
    /// Stale temporary folders removed.
    public var removedTemporaries: [String] = []
    /// Failure logs removed.
    public var removedLogs: [String] = []
}

/// The content-addressed artifact store.
///
/// Layout under `root`: `objects/<hash>/` finished artifacts (trusted only with the completion
/// marker), `tmp/` in-progress outputs renamed into `objects/` when a node finishes, `resume/<hash>/`
/// checkpoints that survive an interrupted run, `locks/<hash>.lease` the lease of the process computing a node, and
/// `logs/<hash>.log` the log of the latest failed attempt, `quarantine/<hash>.<ms>` nodes that failed
/// verification against their `manifest.json` (kept for inspection, never read; `StoreIntegrity.swift`).
///
/// The atomic rename of a node's folder is the commit point. Before it every file and folder of the
/// node is flushed to disk and after it `objects/` itself, so that a power loss leaves either no node
/// or the whole node (files are written unsynced until then: one sync per file at the commit).
/// A lease marker exists only while its node is being computed: its holder removes it, and a dead holder's is broken
/// (`LeaseLock`).
public final class ArtifactStore: Sendable {
    /// The store folder.
    public let root: URL
    /// File whose presence marks `objects/<hash>/` finished; written just before the atomic rename.
    public static let completionMarker = ".complete"

    /// The default location relative to the working directory: `.preflab/store`.
    public static func defaultRoot(in directory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)) -> URL {
        directory.appendingPathComponent(".preflab").appendingPathComponent("store")
    }

    /// Seconds a node's lease (`LeaseLock`) lasts without renewal before another process may take the node over. One
    /// scheme for every run, local or Ray: a lease works on a network file system, where `flock` does not, so a local
    /// `preflab run` and a Ray run on one store see each other's locks.
    public let leaseSeconds: TimeInterval

    /// The default lease: a minute, renewed every 20 s.
    public static let defaultLeaseSeconds: TimeInterval = 60

    /// Opens (creating if needed) the store at `root`.
    public init(root: URL, leaseSeconds: TimeInterval = defaultLeaseSeconds) throws {
        self.leaseSeconds = leaseSeconds
        self.root = root.standardizedFileURL
        for sub in ["objects", "tmp", "resume", "locks", "logs"] {
            try Self.makeDirectory(self.root.appendingPathComponent(sub))
        }
    }

    var objects: URL { root.appendingPathComponent("objects") }
    var tmp: URL { root.appendingPathComponent("tmp") }
    var resume: URL { root.appendingPathComponent("resume") }
    var locks: URL { root.appendingPathComponent("locks") }
    var logs: URL { root.appendingPathComponent("logs") }

    /// Where a finished node's artifacts live (whether or not they exist yet).
    public func objectDirectory(for hash: String) -> URL { objects.appendingPathComponent(hash) }

    /// The log of the node's latest attempt.
    public func logFile(for hash: String) -> URL { logs.appendingPathComponent(hash + ".log") }

    /// True when `objects/<hash>/` exists and carries the completion marker.
    public func isComplete(_ hash: String) -> Bool {
        FileManager.default.fileExists(atPath: objectDirectory(for: hash).appendingPathComponent(Self.completionMarker).path)
    }

    /// The node's final metrics (`summary.json`), nil unless the node is complete.
    public func summary(for hash: String) -> [String: Double]? {
        guard isComplete(hash),
              let data = try? Data(contentsOf: objectDirectory(for: hash).appendingPathComponent("summary.json")),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        var out: [String: Double] = [:]
        for (k, v) in object {
            if let n = v as? NSNumber { out[k] = n.doubleValue } else if v is NSNull { out[k] = .nan }
        }
        return out
    }

    /// The node's `node.json`, nil unless the node is complete.
    public func record(for hash: String) -> NodeRecord? {
        guard isComplete(hash),
              let data = try? Data(contentsOf: objectDirectory(for: hash).appendingPathComponent("node.json")),
              let o = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let kind = o["kind"] as? String, let stage = o["stage"] as? String,
              let codeVersion = o["codeVersion"] as? Int, let created = o["created"] as? String,
              let wall = o["wallSeconds"] as? Double, let inputs = o["inputs"] as? [String: String],
              let config = o["config"],
              let configData = try? JSONSerialization.data(withJSONObject: config, options: [.sortedKeys, .fragmentsAllowed])
        else { return nil }
        return NodeRecord(hash: hash, kind: kind, stage: stage, config: String(decoding: configData, as: UTF8.self),
                          inputs: inputs, codeVersion: codeVersion, created: created, wallSeconds: wall,
                          host: o["host"] as? [String: String] ?? [:])
    }

    /// The node's curves (`metrics.jsonl`), in recording order; empty unless the node is complete.
    public func metrics(for hash: String) -> [MetricPoint] {
        guard isComplete(hash),
              let text = try? String(contentsOf: objectDirectory(for: hash).appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").compactMap { line in
            guard let o = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let step = o["step"] as? Int, let total = o["total"] as? Int,
                  let raw = o["values"] as? [String: Any] else { return nil }
            var values: [String: Double] = [:]
            for (k, v) in raw { values[k] = (v as? NSNumber)?.doubleValue ?? .nan }
            return MetricPoint(step: step, total: total, values: values)
        }
    }

    /// Waits for and takes the node's lease.
    public func lock(_ hash: String) throws -> LeaseLock {
        try LeaseLock.acquire(leasePath(for: hash), lease: leaseSeconds)
    }

    /// Takes the node's lease if free now (or its holder is gone).
    public func tryLock(_ hash: String) throws -> LeaseLock? {
        try LeaseLock.tryAcquire(leasePath(for: hash), lease: leaseSeconds)
    }

    /// The lease marker of a node.
    public func leasePath(for hash: String) -> URL { locks.appendingPathComponent(hash + ".lease") }

    /// The node's resume folder, created if missing; survives failed runs until the node finishes.
    public func resumeDirectory(for hash: String) throws -> URL {
        let url = resumePath(for: hash)
        try Self.makeDirectory(url)
        return url
    }

    /// Where the node's resume folder is (whether or not it exists); nothing is created.
    public func resumePath(for hash: String) -> URL { resume.appendingPathComponent(hash) }

    /// A fresh temporary output folder for the node. Call with the node's lock held.
    public func makeTemporaryDirectory(for hash: String) throws -> URL {
        let url = tmp.appendingPathComponent("\(hash).\(UUID().uuidString)")
        try Self.makeDirectory(url)
        return url
    }

    /// Removes temporaries an interrupted run left for this node. Call with the node's lock held.
    @discardableResult
    public func removeStaleTemporaries(for hash: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tmp.path)) ?? []
        let stale = names.filter { $0.hasPrefix(hash + ".") }
        for name in stale { try? FileManager.default.removeItem(at: tmp.appendingPathComponent(name)) }
        return stale
    }

    /// Marks the temporary folder finished and renames it into `objects/<hash>` atomically.
    ///
    /// A folder already at the destination without the marker is untrusted debris and replaced.
    /// Call with the node's lock held.
    public func commit(temporary: URL, as hash: String) throws {
        try Self.writeManifest(in: temporary)
        let marker = temporary.appendingPathComponent(Self.completionMarker)
        try FileWriter.write(Data(), to: marker)
        let destination = objectDirectory(for: hash)
        if isComplete(hash) {
            try? FileManager.default.removeItem(at: temporary)
            return
        }
        if FileManager.default.fileExists(atPath: destination.path) {
            try FileManager.default.removeItem(at: destination)
        }
        try FileWriter.syncTree(temporary)
        guard rename(temporary.path, destination.path) == 0 else {
            throw StoreError.io("cannot move \(temporary.path) to \(destination.path): \(String(cString: strerror(errno)))")
        }
        try FileWriter.sync(objects)
        try? FileManager.default.removeItem(at: resume.appendingPathComponent(hash))
    }

    /// Hashes of every complete object.
    public func completeHashes() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: objects.path)) ?? []
        return names.filter { isComplete($0) }.sorted()
    }

    /// Removes objects, resume folders and logs of nodes not in `keeping`, and stale temporaries.
    ///
    /// Anything whose node lock is held by a running executor is left alone.
    @discardableResult
    public func gc(keeping: Set<String>) throws -> GCReport {
        var report = GCReport()
        let fm = FileManager.default
        func sweep(_ dir: URL, hashOf: (String) -> String?, into list: inout [String]) throws {
            for name in try fm.contentsOfDirectory(atPath: dir.path).sorted() {
                guard let hash = hashOf(name), !keeping.contains(hash) || dir == tmp else { continue }
                guard let lock = try tryLock(hash) else { continue }
                defer { lock.release() }
                try fm.removeItem(at: dir.appendingPathComponent(name))
                list.append(dir == tmp ? name : hash)
            }
        }
        try sweep(objects, hashOf: { $0 }, into: &report.removedObjects)
        try sweep(resume, hashOf: { $0 }, into: &report.removedResume)
        try sweep(logs, hashOf: { $0.hasSuffix(".log") ? String($0.dropLast(4)) : nil }, into: &report.removedLogs)
        try sweep(tmp, hashOf: { $0.split(separator: ".").first.map(String.init) }, into: &report.removedTemporaries)
        return report
    }

    static func makeDirectory(_ url: URL) throws {
        do {
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io("cannot create folder \(url.path): \(error.localizedDescription)")
        }
    }
}
