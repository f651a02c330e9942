import Foundation
import XCTest
@testable import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// The node lock of every run (stores shared over a network file system included): exclusive, renewed while held,
/// broken after a whole lease without renewal or at once when its holder was a process of this machine that is gone,
/// and a holder that lost it knows.
final class LeaseLockTests: XCTestCase {
    private var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("lease-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func testExclusiveUntilReleased() throws {
        let path = dir.appendingPathComponent("n.lease")
        let first = try XCTUnwrap(try LeaseLock.tryAcquire(path, lease: 5))
        XCTAssertNil(try LeaseLock.tryAcquire(path, lease: 5), "a live lease is not taken twice")
        XCTAssertEqual(try String(contentsOf: path, encoding: .utf8), first.owner)
        XCTAssertTrue(first.owner.split(separator: " ")[1] == "\(getpid())", "the marker names its process")
        first.release()
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path))
        XCTAssertNotNil(try LeaseLock.tryAcquire(path, lease: 5))
    }

    /// The holder renews the marker: after three leases it is still held; a dead holder's marker (not renewed
    /// for a whole lease) is broken and taken.
    func testRenewedWhileHeldBrokenWhenStale() throws {
        let path = dir.appendingPathComponent("n.lease")
        let holder = try XCTUnwrap(try LeaseLock.tryAcquire(path, lease: 0.6))
        Thread.sleep(forTimeInterval: 1.8)
        XCTAssertNil(try LeaseLock.tryAcquire(path, lease: 0.6), "renewed: still held after three leases")
        XCTAssertTrue(holder.isHeld)
        holder.release()

        // A marker left by a process that died: its time is a minute old.
        try "host 1 1 dead\n".write(to: path, atomically: true, encoding: .utf8)
        var old = [timeval(tv_sec: time(nil) - 60, tv_usec: 0), timeval(tv_sec: time(nil) - 60, tv_usec: 0)]
        XCTAssertEqual(utimes(path.path, &old), 0)
        let taker = try XCTUnwrap(try LeaseLock.tryAcquire(path, lease: 5), "a stale lease is broken")
        XCTAssertEqual(try String(contentsOf: path, encoding: .utf8), taker.owner)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path.path + ".break"), "the breaker marker is gone")
    }

    /// A fresh marker whose holder was a process of this machine that is gone is broken at once (a killed local run
    /// costs no lease); one naming another host, or a live process here, waits for the lease.
    func testADeadLocalHolderLosesTheLeaseAtOnce() throws {
        let path = dir.appendingPathComponent("n.lease")
        let host = ProcessInfo.processInfo.hostName
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        try "\(host) \(child.processIdentifier) 1 dead\n".write(to: path, atomically: true, encoding: .utf8)
        let taker = try XCTUnwrap(try LeaseLock.tryAcquire(path, lease: 60), "the holder's process is gone")
        taker.release()

        try "\(host)-elsewhere \(child.processIdentifier) 1 far\n".write(to: path, atomically: true, encoding: .utf8)
        XCTAssertNil(try LeaseLock.tryAcquire(path, lease: 60), "another host's holder keeps its lease until it expires")
        try "\(host) \(getppid()) 1 alive\n".write(to: path, atomically: true, encoding: .utf8)
        XCTAssertNil(try LeaseLock.tryAcquire(path, lease: 60), "a live process here keeps its lease")
    }

    /// A holder whose marker was taken over (it stalled past its lease) stops renewing, reports the loss and
    /// leaves the new holder's marker alone on release.
    func testAHolderKnowsItLostTheLease() throws {
        let path = dir.appendingPathComponent("n.lease")
        let holder = try XCTUnwrap(try LeaseLock.tryAcquire(path, lease: 0.6))
        try "other 2 2 token\n".write(to: path, atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 0.5)
        XCTAssertFalse(holder.isHeld)
        holder.release()
        XCTAssertEqual(try String(contentsOf: path, encoding: .utf8), "other 2 2 token\n")
    }

    /// Many threads race for one lease: exactly one holds it at any time.
    func testOneHolderAtATime() throws {
        let path = dir.appendingPathComponent("n.lease")
        let inside = NSLock()
        var holders = 0, most = 0, turns = 0
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<5 {
                guard let lock = try? LeaseLock.acquire(path, lease: 5) else { return }
                inside.lock(); holders += 1; most = max(most, holders); turns += 1; inside.unlock()
                Thread.sleep(forTimeInterval: 0.002)
                inside.lock(); holders -= 1; inside.unlock()
                lock.release()
            }
        }
        XCTAssertEqual(most, 1)
        XCTAssertEqual(turns, 40)
    }

    /// A store locks nodes with leases, local runs and `--executor ray` workers alike.
    func testStoreLocksWithLeases() throws {
        let store = try ArtifactStore(root: dir.appendingPathComponent("store"), leaseSeconds: 5)
        let lock = try store.lock("abc")
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.leasePath(for: "abc").path))
        XCTAssertNil(try store.tryLock("abc"))
        lock.release()
        XCTAssertNotNil(try store.tryLock("abc"))
    }
}
