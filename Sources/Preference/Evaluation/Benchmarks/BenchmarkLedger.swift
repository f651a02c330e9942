import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The per-item results of an evaluation, persisted as JSON lines in the node's resume folder so that
/// an interrupted evaluation resumes without redoing (or losing) a finished item.
///
/// Each item is appended as one line and fsync'd before the next is scored. On open, a last line cut
/// short by a crash (no newline, or not JSON) is dropped and the file truncated back to the last whole
/// line; a broken line anywhere else means the file was damaged otherwise and is an error.
public final class BenchmarkLedger {
    public let url: URL
    /// Finished items by id, in the order they were written.
    public private(set) var items: [BenchmarkItem] = []
    private var ids: Set<String> = []

    public init(url: URL) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        guard let data = FileManager.default.contents(atPath: url.path) else { return }
        var kept = 0
        let lines = data.split(separator: 0x0A, omittingEmptySubsequences: false)
        let last = lines.lastIndex(where: { !$0.isEmpty }) ?? -1
        let decoder = JSONDecoder()
        for (i, line) in lines.enumerated() where !line.isEmpty {
            // The last line counts only when whole: JSON and a newline after it.
            let item = try? decoder.decode(BenchmarkItem.self, from: Data(line))
            if i == last && (item == nil || i == lines.count - 1) { break }
            guard let item else {
                throw BenchmarkError("\(url.path):\(i + 1): not a result line; the ledger is damaged (delete it to start over)")
            }
            if ids.insert(item.id).inserted { items.append(item) }
            kept = line.endIndex - data.startIndex + 1
        }
        if kept < data.count { try truncate(to: kept) }
    }

    private func truncate(to size: Int) throws {
        guard Glibc.truncate(url.path, off_t(size)) == 0 else {
            throw BenchmarkError("\(url.path): cannot drop a torn last line (errno \(errno))")
        }
    }

    public func contains(_ id: String) -> Bool { ids.contains(id) }

    /// Appends `item` and forces it to disk before returning.
    public func append(_ item: BenchmarkItem) throws {
        guard ids.insert(item.id).inserted else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var line = try encoder.encode(item)
        line.append(0x0A)
        let fd = open(url.path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw BenchmarkError("\(url.path): cannot open for appending (errno \(errno))") }
        defer { close(fd) }
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count else { throw BenchmarkError("\(url.path): short write (errno \(errno))") }
        guard fsync(fd) == 0 else { throw BenchmarkError("\(url.path): fsync failed (errno \(errno))") }
        items.append(item)
    }
}
