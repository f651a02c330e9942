import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One file of a committed node as its manifest records it.
public struct ManifestEntry: Sendable, Equatable {
    /// Bytes.
    public var size: Int
    /// Lower-case hex SHA-256 of the bytes.
    public var sha256: String
}

/// What verifying one node found.
public enum NodeIntegrity: Sendable, Equatable {
    /// Every file the manifest lists is there with its size (and digest, when checked).
    case intact
    /// The node was committed before manifests existed: nothing to check it against.
    case unverifiable
    /// A listed file is missing, has another size or another digest (file relative to the node folder).
    case damaged(file: String, reason: String)
}

/// Integrity of committed nodes: `manifest.json` lists the size and SHA-256 of every file of a node;
/// it is written just before the completion marker, so a node is trusted only as far as it matches.
///
/// Reading a node checks sizes every time (cheap) and digests the first time the node is opened in
/// a process (`verifiedDigests`), so a flipped bit in a weight file is caught before anything uses it.
extension ArtifactStore {
    /// The manifest file inside a node folder.
    public static let manifestName = "manifest.json"

    /// Nodes whose digests this process already checked (store root + hash).
    private static let verifiedDigests = LockedSet()

    var quarantine: URL { root.appendingPathComponent("quarantine") }

    /// Writes the manifest of every regular file under `directory` (the marker and the manifest excluded).
    static func writeManifest(in directory: URL) throws {
        try FileWriter.write(try manifestText(of: directory), to: directory.appendingPathComponent(manifestName))
    }

    /// The manifest of every regular file under `directory`, as JSON text.
    static func manifestText(of directory: URL) throws -> String {
        var files: [String] = []
        for path in try relativeFiles(in: directory) {
            let url = directory.appendingPathComponent(path)
            let size = try fileSize(url)
            files.append(jsonString(path) + ":{\"sha256\":\(jsonString(try SHA256.hex(file: url))),\"size\":\(size)}")
        }
        return "{\"files\":{" + files.joined(separator: ",") + "},\"version\":1}\n"
    }

    /// The files of a node's manifest; nil when the node has none (committed before manifests existed).
    func manifest(of hash: String) throws -> [String: ManifestEntry]? {
        let url = objectDirectory(for: hash).appendingPathComponent(Self.manifestName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let data = FileManager.default.contents(atPath: url.path),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let files = object["files"] as? [String: [String: Any]] else {
            throw StoreError.io("\(url.path) is not a readable manifest")
        }
        var out: [String: ManifestEntry] = [:]
        for (path, entry) in files {
            guard let size = entry["size"] as? Int, let digest = entry["sha256"] as? String else {
                throw StoreError.io("\(url.path): entry '\(path)' lacks size or sha256")
            }
            out[path] = ManifestEntry(size: size, sha256: digest)
        }
        return out
    }

    /// Checks a complete node against its manifest: sizes always, digests when `digests` is true.
    public func verify(_ hash: String, digests: Bool) -> NodeIntegrity {
        let dir = objectDirectory(for: hash)
        let listed: [String: ManifestEntry]
        do {
            guard let m = try manifest(of: hash) else { return .unverifiable }
            listed = m
        } catch {
            return .damaged(file: Self.manifestName, reason: "\(error)")
        }
        for (path, entry) in listed.sorted(by: { $0.key < $1.key }) {
            let url = dir.appendingPathComponent(path)
            guard let size = try? Self.fileSize(url) else { return .damaged(file: path, reason: "missing") }
            if size != entry.size { return .damaged(file: path, reason: "\(size) bytes, the manifest says \(entry.size)") }
            if digests {
                guard let digest = try? SHA256.hex(file: url) else { return .damaged(file: path, reason: "unreadable") }
                if digest != entry.sha256 { return .damaged(file: path, reason: "SHA-256 differs from the manifest (content changed)") }
            }
        }
        return .intact
    }

    /// True when the node is complete and intact. A damaged node is moved to `quarantine/` (never
    /// deleted) and `warn` is told which file failed, so the caller recomputes it.
    public func isIntact(_ hash: String, warn: (String) -> Void = { _ in }) -> Bool {
        guard isComplete(hash) else { return false }
        let key = root.path + "/" + hash
        let digests = !Self.verifiedDigests.contains(key)
        switch verify(hash, digests: digests) {
        case .intact, .unverifiable:
            if digests { Self.verifiedDigests.insert(key) }
            return true
        case let .damaged(file, reason):
            let moved = (try? moveToQuarantine(hash)).map { "moved to \($0.path)" } ?? "could not be moved aside"
            warn("node \(hash.prefix(12)) is damaged: \(file): \(reason); \(moved), it will be recomputed")
            return false
        }
    }

    /// Verifies every complete node (sizes and digests); with `repair`, damaged nodes whose lock is
    /// free are moved to `quarantine/` so that the next run recomputes them.
    /// With `adopt`, nodes without a manifest are checked by structure and given one (`adopt(_:)`).
    public func verifyAll(repair: Bool, adopt: Bool = false) throws -> [(hash: String, result: NodeIntegrity, quarantined: URL?)] {
        var out: [(hash: String, result: NodeIntegrity, quarantined: URL?)] = []
        for hash in completeHashes() {
            var result = verify(hash, digests: true)
            if adopt, result == .unverifiable, let lock = try tryLock(hash) {
                defer { lock.release() }
                result = try self.adopt(hash)
            }
            var moved: URL? = nil
            if repair, case .damaged = result, let lock = try tryLock(hash) {
                defer { lock.release() }
                moved = try moveToQuarantine(hash)
            }
            out.append((hash, result, moved))
        }
        return out
    }

    /// Moves `objects/<hash>` to `quarantine/<hash>.<time>` and returns where it went. Hold the node lock
    /// or call where no run uses the node.
    @discardableResult
    public func moveToQuarantine(_ hash: String) throws -> URL {
        try Self.makeDirectory(quarantine)
        let stamp = Int(Date().timeIntervalSince1970 * 1000)
        let target = quarantine.appendingPathComponent("\(hash).\(stamp)")
        guard rename(objectDirectory(for: hash).path, target.path) == 0 else {
            throw StoreError.io("cannot move \(objectDirectory(for: hash).path) to \(target.path): \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// Regular files below `directory`, relative paths, sorted; the marker and the manifest left out.
    static func relativeFiles(in directory: URL) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else {
            throw StoreError.io("cannot list \(directory.path)")
        }
        var out: [String] = []
        while let path = walker.nextObject() as? String {
            guard path != completionMarker, path != manifestName else { continue }
            var isDir: ObjCBool = false
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent(path).path, isDirectory: &isDir), !isDir.boolValue {
                out.append(path)
            }
        }
        return out.sorted()
    }

    static func fileSize(_ url: URL) throws -> Int {
        var info = stat()
        guard stat(url.path, &info) == 0 else { throw StoreError.io("cannot stat \(url.path): \(String(cString: strerror(errno)))") }
        return Int(info.st_size)
    }
}

/// A thread-safe set of strings.
final class LockedSet: @unchecked Sendable {
    private let lock = NSLock()
    private var items = Set<String>()

    func contains(_ s: String) -> Bool { lock.lock(); defer { lock.unlock() }; return items.contains(s) }
    func insert(_ s: String) { lock.lock(); items.insert(s); lock.unlock() }
}
