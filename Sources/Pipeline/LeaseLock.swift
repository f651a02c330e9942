import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one node lock of every run, local (`--jobs` threads, concurrent `preflab run`s) or Ray (`run-node` on many
/// machines): an exclusively created marker file (`O_CREAT | O_EXCL`, atomic on NFSv3+, where `flock` is not reliable)
/// whose modification time its holder renews every third of the lease. A marker is stale, and is broken, when it was
/// not renewed for a whole lease, or at once when its holder ran on this machine and its process is gone (a killed
/// local run loses nothing to the lease; host names must tell machines apart, as they do in a Ray cluster). Breaking is
/// itself serialised by a second exclusive marker (`.break`), inside which staleness is checked again, so two waiters
/// never both break a lease and take it. Clocks of the machines sharing the store must agree to well within the lease
/// (NTP does).
public final class LeaseLock: @unchecked Sendable {
    /// The marker file.
    public let path: URL
    /// Who holds it: `host pid parent-pid token`, one line.
    public let owner: String
    private let lease: TimeInterval
    private let state = NSCondition()
    private var released = false
    private var lost = false

    private init(path: URL, owner: String, lease: TimeInterval) {
        self.path = path
        self.owner = owner
        self.lease = lease
        let renewer = Thread { [weak self] in self?.renewUntilReleased() }
        renewer.start()
    }

    deinit { release() }

    /// Waits until the lease is free (or expired) and takes it.
    public static func acquire(_ path: URL, lease: TimeInterval) throws -> LeaseLock {
        while true {
            if let lock = try tryAcquire(path, lease: lease) { return lock }
            Thread.sleep(forTimeInterval: min(0.2, lease / 10))
        }
    }

    /// Takes the lease if it is free now or its holder stopped renewing it; nil while a live holder has it.
    public static func tryAcquire(_ path: URL, lease: TimeInterval) throws -> LeaseLock? {
        let owner = "\(ProcessInfo.processInfo.hostName) \(getpid()) \(getppid()) \(UUID().uuidString)\n"
        if try createExclusively(path, contents: owner) { return LeaseLock(path: path, owner: owner, lease: lease) }
        guard isStale(path, lease: lease) else { return nil }
        try breakStale(path, lease: lease)
        return try createExclusively(path, contents: owner) ? LeaseLock(path: path, owner: owner, lease: lease) : nil
    }

    /// False once the holder knows another process took the lease over (it expired while its holder was stalled);
    /// the holder must not commit then.
    public var isHeld: Bool {
        state.lock()
        defer { state.unlock() }
        return !lost && !released
    }

    /// Removes the marker if it is still this holder's.
    public func release() {
        state.lock()
        let first = !released
        released = true
        state.broadcast()
        state.unlock()
        if first, Self.contents(path) == owner { unlink(path.path) }
    }

    private func renewUntilReleased() {
        state.lock()
        defer { state.unlock() }
        while !released {
            _ = state.wait(until: Date().addingTimeInterval(lease / 3))
            if released { return }
            // The marker must still be ours: another process breaks it only after a whole lease without renewal.
            guard Self.contents(path) == owner, utimes(path.path, nil) == 0 else {
                lost = true
                return
            }
        }
    }

    /// Breaks a lease whose holder stopped renewing it, under the breaker marker.
    static func breakStale(_ path: URL, lease: TimeInterval) throws {
        let breaker = URL(fileURLWithPath: path.path + ".break")
        guard try createExclusively(breaker, contents: "\(getpid())\n") else {
            // A breaker that died between its two steps leaves its marker: it is stale after a lease.
            if let age = age(of: breaker), age > lease { unlink(breaker.path) }
            return
        }
        defer { unlink(breaker.path) }
        if isStale(path, lease: lease) { unlink(path.path) }
    }

    /// The marker exists and was not renewed for a whole lease, or names a process of this machine that is gone.
    static func isStale(_ path: URL, lease: TimeInterval) -> Bool {
        guard let age = age(of: path) else { return false }
        return age > lease || holderIsGone(contents(path) ?? "")
    }

    /// True when `owner` (`host pid parent-pid token`) names a process on this host that no longer exists. Another
    /// host's process, this process (another thread holds the lease) or an unreadable line: false, the lease decides.
    static func holderIsGone(_ owner: String) -> Bool {
        let words = owner.split(separator: " ")
        guard words.count == 4, words[0] == ProcessInfo.processInfo.hostName, let pid = pid_t(words[1]), pid > 0,
              pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }

    /// Seconds since the file was last modified; nil when it does not exist.
    static func age(of url: URL) -> TimeInterval? {
        guard let modified = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.modificationDate] as? Date else { return nil }
        return Date().timeIntervalSince(modified)
    }

    static func contents(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

    /// True when this call created the file; false when it existed.
    static func createExclusively(_ url: URL, contents: String) throws -> Bool {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        if fd < 0 {
            if errno == EEXIST { return false }
            throw StoreError.io("cannot create lock marker \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else {
            unlink(url.path)
            throw StoreError.io("cannot write lock marker \(url.path): \(String(cString: strerror(errno)))")
        }
        return true
    }
}
