import Foundation

/// A checkpoint file that cannot be read or written: names the file and what is wrong with it.
public struct CheckpointError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// Path of the file concerned.
    public var file: String
    /// What is wrong, and what was expected.
    public var problem: String

    public init(file: String, problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file): \(problem)" }
    public var errorDescription: String? { description }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that readers see either the old file or the whole new one, never a torn write.
enum AtomicFile {
    /// Writes `data` to a temporary file beside `url`, then renames it over `url`.
    static func write(_ data: Data, to url: URL) throws {
        let dir = url.deletingLastPathComponent()
        let tmp = dir.appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)")
        do {
            try data.write(to: tmp)
        } catch {
            throw CheckpointError(file: url.path, problem: "cannot write temporary file \(tmp.lastPathComponent): \(error.localizedDescription)")
        }
        if rename(tmp.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: tmp)
            throw CheckpointError(file: url.path, problem: "cannot move temporary file into place: \(reason)")
        }
    }
}
