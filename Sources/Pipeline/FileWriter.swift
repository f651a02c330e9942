import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Plain file writes without the `fsync` and temporary-file rename that `Data.write(to:)` and
/// `FileManager.createFile` do on Linux (each costs milliseconds).
///
/// Node outputs need neither while they are written: they go into a private temporary folder, and
/// the rename of that whole folder into `objects/` is the commit point, preceded by one `syncTree`.
public enum FileWriter {
    /// Creates or truncates `url` and writes `data`.
    public static func write(_ data: Data, to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw StoreError.io("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            var offset = 0
            while offset < raw.count {
                guard let base = raw.baseAddress else { return }
                let n = systemWrite(fd, base + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io("cannot write \(url.path): \(String(cString: strerror(errno)))")
                }
                offset += n
            }
        }
    }

    /// Clears on every file in `directory` each permission bit that one of `sources` lacks (a copy of
    /// a 0600 file stays 0600, not 0644). Missing sources are ignored.
    public static func restrictPermissions(in directory: URL, like sources: [URL]) throws {
        var mask: mode_t = 0o777
        for source in sources {
            var info = stat()
            if stat(source.path, &info) == 0 { mask &= info.st_mode & 0o777 }
        }
        guard mask != 0o777 else { return }
        for name in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            let path = directory.appendingPathComponent(name).path
            var info = stat()
            guard stat(path, &info) == 0, chmod(path, info.st_mode & 0o777 & mask) == 0 || errno == ENOENT else {
                throw StoreError.io("cannot set the permissions of \(path): \(String(cString: strerror(errno)))")
            }
        }
    }

    /// Flushes every file below `directory`, then every folder bottom-up, to the disk (`fsync`), so that
    /// after a power loss a folder renamed into the store afterwards holds all its bytes. Node files are
    /// written without syncing (each sync costs milliseconds); this is done once, at the commit.
    public static func syncTree(_ directory: URL) throws {
        let fm = FileManager.default
        var folders = [directory]
        var index = 0
        while index < folders.count {   // breadth-first: folders[] ends up parents before children
            let folder = folders[index]
            index += 1
            for name in try fm.contentsOfDirectory(atPath: folder.path).sorted() {
                let url = folder.appendingPathComponent(name)
                var info = stat()
                guard lstat(url.path, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR { folders.append(url) }
                else if (info.st_mode & S_IFMT) == S_IFREG { try sync(url) }
            }
        }
        for folder in folders.reversed() { try sync(folder) }
    }

    /// `fsync` of one file or folder (a folder's sync makes the names in it, e.g. a rename, durable).
    public static func sync(_ url: URL) throws {
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StoreError.io("cannot open \(url.path) to flush it: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        syncObserver?(url)
        guard fsync(fd) == 0 else { throw StoreError.io("cannot flush \(url.path) to disk: \(String(cString: strerror(errno)))") }
    }

    /// Tests watch the order of flushes and renames here; nil in every real run.
    nonisolated(unsafe) public static var syncObserver: ((URL) -> Void)?

    /// Writes `text` as UTF-8.
    public static func write(_ text: String, to url: URL) throws {
        try write(Data(text.utf8), to: url)
    }
}

#if canImport(Glibc)
private let systemWrite = Glibc.write
#elseif canImport(Darwin)
private let systemWrite = Darwin.write
#endif

/// JSON Lines encoding of Codable records, one object a line with sorted keys: the store's pairs,
/// prompts and samples, and the rows handed to delegated engines (which read snake_case keys).
public enum JSONLinesEncoding {
    public static func encode<T: Encodable>(_ items: [T], snakeCaseKeys: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for item in items {
            data.append(try encoder.encode(item))
            data.append(0x0A)
        }
        return data
    }
}
