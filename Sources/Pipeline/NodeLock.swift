import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on one file, held through `flock(2)`.
///
/// `flock` locks belong to the open file description, so two locks on the same path conflict
/// between threads of one process as well as between processes, and the kernel releases the lock
/// when the holding process dies: a crashed run never leaves a node locked.
public final class NodeLock: @unchecked Sendable {
    private var fd: Int32
    /// The lock file.
    public let path: URL

    private init(fd: Int32, path: URL) {
        self.fd = fd
        self.path = path
    }

    deinit { release() }

    /// Waits until the lock is free and takes it.
    public static func acquire(_ path: URL) throws -> NodeLock {
        let fd = try openFile(path)
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let message = String(cString: strerror(errno))
            close(fd)
            throw StoreError.io("cannot lock \(path.path): \(message)")
        }
        return NodeLock(fd: fd, path: path)
    }

    /// Takes the lock if it is free now; nil when another holder has it.
    public static func tryAcquire(_ path: URL) throws -> NodeLock? {
        let fd = try openFile(path)
        if flock(fd, LOCK_EX | LOCK_NB) == 0 { return NodeLock(fd: fd, path: path) }
        close(fd)
        return nil
    }

    /// Releases the lock (also done on deinit).
    public func release() {
        guard fd >= 0 else { return }
        flock(fd, LOCK_UN)
        close(fd)
        fd = -1
    }

    private static func openFile(_ path: URL) throws -> Int32 {
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw StoreError.io("cannot open lock file \(path.path): \(String(cString: strerror(errno)))")
        }
        return fd
    }
}
