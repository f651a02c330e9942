import Foundation
import Pipeline
import RecipeSpec

/// Thread-safe record of what fake runners did: calls per kind and per hash, run intervals,
/// and which nodes resumed from a checkpoint. Tests assert on it.
public final class FakeLedger: @unchecked Sendable {
    private let lock = NSLock()
    private var kindCalls: [String: Int] = [:]
    private var hashCalls: [String: Int] = [:]
    private var spans: [(hash: String, start: Date, end: Date)] = []
    private var resumed: [String] = []

    public init() {}

    /// Runner calls of a kind (successful or not).
    public func calls(_ kind: String) -> Int { locked { kindCalls[kind] ?? 0 } }
    /// Runner calls for one node hash.
    public func calls(hash: String) -> Int { locked { hashCalls[hash] ?? 0 } }
    /// All runner calls.
    public var totalCalls: Int { locked { kindCalls.values.reduce(0, +) } }
    /// Start and end of every `sleep` run.
    public var intervals: [(hash: String, start: Date, end: Date)] { locked { spans } }
    /// Hashes of `halfwrite` nodes that found their checkpoint and finished.
    public var resumedHashes: [String] { locked { resumed } }

    func called(_ kind: String, _ hash: String) {
        locked { kindCalls[kind, default: 0] += 1; hashCalls[hash, default: 0] += 1 }
    }
    func span(_ hash: String, _ start: Date, _ end: Date) { locked { spans.append((hash, start, end)) } }
    func resumed(_ hash: String) { locked { resumed.append(hash) } }

    private func locked<T>(_ body: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }
}

/// The error fake runners throw.
public struct FakeStageError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Collects every progress event (thread-safe), for tests of what the executor reports.
public final class RecordingProgressDisplay: ProgressDisplay, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [ProgressEvent] = []

    public init() {}

    public func handle(_ event: ProgressEvent) {
        lock.lock()
        recorded.append(event)
        lock.unlock()
    }

    /// The events so far, in arrival order.
    public var events: [ProgressEvent] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
