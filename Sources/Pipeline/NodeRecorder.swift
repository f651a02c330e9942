import Foundation
import RecipeSpec

/// The `ProgressReporter` the executor hands a runner: appends curves to `metrics.jsonl`, log
/// lines to the node's log, keeps the summary, and forwards everything to the display.
final class NodeRecorder: ProgressReporter, @unchecked Sendable {
    private let lock = NSLock()
    private var metrics: FileHandle?
    private var logHandle: FileHandle?
    private let display: any ProgressDisplay
    private let ticket: NodeTicket
    private let start: Date
    private var summaryValues: [String: Double] = [:]
    // Buffered so that a fast training loop does not pay a write per step; flushed every second.
    private var pendingMetrics = ""
    private var pendingLog = ""
    private var lastFlush = Date()

    /// The first write that failed (a full disk, a removed folder); the executor fails the node with it.
    private var writeFailure: StoreError?
    /// The first non-finite value reported: the node diverged and must not be committed.
    private var firstDivergence: NodeFailure?

    private let logFile: URL
    /// The same scalars as TensorBoard events (`TensorBoardEvents`), when the executor asks for them.
    private let tensorboard: TensorBoardWriter?

    init(metricsFile: URL, logFile: URL, display: any ProgressDisplay, ticket: NodeTicket, start: Date,
         tensorboardRun: URL? = nil) throws {
        self.logFile = logFile
        tensorboard = tensorboardRun.map { TensorBoardWriter(runDirectory: $0, start: start) }
        try FileWriter.write(Data(), to: metricsFile)
        try FileWriter.write(Data(), to: logFile)
        do {
            metrics = try FileHandle(forWritingTo: metricsFile)
            logHandle = try FileHandle(forWritingTo: logFile)
        } catch {
            throw StoreError.io("cannot open \(metricsFile.deletingLastPathComponent().path) for writing: \(error.localizedDescription)")
        }
        self.display = display
        self.ticket = ticket
        self.start = start
        Self.live.insert(self)
    }

    func record(step: Int, of total: Int, values: [String: Double]) {
        let now = Date()
        // Wall time in Unix seconds (millisecond precision), for tools that plot against time.
        let time = jsonNumber((now.timeIntervalSince1970 * 1000).rounded() / 1000)
        let line = "{\"step\":\(step),\"total\":\(total),\"values\":\(Self.json(values)),\"time\":\(time)}\n"
        lock.lock()
        noteDivergence(values, step: step)
        tensorboard?.add(step: step, values: values, at: now)
        pendingMetrics += line
        flushIfDue()
        lock.unlock()
        display.handle(.nodeProgress(ticket, step: step, of: total, values: values,
                                     elapsed: Date().timeIntervalSince(start)))
    }

    func log(_ message: String) {
        writeLog(message)
        display.handle(.nodeLog(ticket, message))
    }

    /// Appends to the log file without showing the line.
    func writeLog(_ message: String) {
        lock.lock()
        pendingLog += message + "\n"
        flushIfDue()
        lock.unlock()
    }

    func summary(_ values: [String: Double]) {
        lock.lock()
        noteDivergence(values, step: nil)
        summaryValues.merge(values) { _, new in new }
        lock.unlock()
    }

    /// Everything passed to `summary`, later values winning.
    var collectedSummary: [String: Double] {
        lock.lock()
        defer { lock.unlock() }
        return summaryValues
    }

    /// Closes the files; later records and log lines are dropped rather than written to a closed handle.
    func close() {
        lock.lock()
        // Summary values join the curves under `summary/`, at the last step (0 for a node without curves).
        if let tensorboard, metrics != nil {
            let tagged = Dictionary(uniqueKeysWithValues: summaryValues.map { ("summary/" + $0.key, $0.value) })
            tensorboard.add(step: tensorboard.lastStep, values: tagged, at: Date())
        }
        flush()
        tensorboard?.close()
        try? metrics?.close()
        try? logHandle?.close()
        metrics = nil
        logHandle = nil
        lock.unlock()
        Self.live.remove(self)
    }

    /// Throws what makes the node's output untrustworthy: a failed write, then a non-finite value.
    func checkHealthy() throws {
        lock.lock()
        defer { lock.unlock() }
        if let writeFailure { throw writeFailure }
        if let firstDivergence { throw firstDivergence }
    }

    /// Records the first non-finite value. Call with `lock` held.
    private func noteDivergence(_ values: [String: Double], step: Int?) {
        guard firstDivergence == nil, let bad = values.keys.sorted().first(where: { !(values[$0] ?? 0).isFinite }) else { return }
        let failure = NodeFailure.diverged(step: step, metric: bad, value: values[bad] ?? .nan)
        firstDivergence = failure
        pendingLog += "\(failure)\n"
    }

    /// Where the executor keeps a failed attempt's log (`logs/<hash>.log`).
    var failureLog: URL?

    /// Writes what is buffered plus `line` now and copies the log to `failureLog`: an interruption is
    /// about to end the process.
    func interrupt(_ line: String) {
        lock.lock()
        defer { lock.unlock() }
        pendingLog += line + "\n"
        flush()
        guard let failureLog, let text = FileManager.default.contents(atPath: logFile.path) else { return }
        try? FileWriter.write(text, to: failureLog)
    }

    /// Recorders of running nodes, so that an interruption can flush their logs before the process exits.
    static let live = LiveSet<NodeRecorder>()

    /// Writes buffered lines when a second has passed or much is pending. Call with `lock` held.
    private func flushIfDue() {
        if pendingMetrics.utf8.count + pendingLog.utf8.count > 1 << 16 || Date().timeIntervalSince(lastFlush) > 1 { flush() }
    }

    /// Writes buffered lines. Call with `lock` held.
    private func flush() {
        do {
            if !pendingMetrics.isEmpty { try metrics?.write(contentsOf: Data(pendingMetrics.utf8)) }
            if !pendingLog.isEmpty { try logHandle?.write(contentsOf: Data(pendingLog.utf8)) }
            if metrics != nil { try tensorboard?.flush() }
        } catch {
            // Keep the first failure; the node fails with it when the runner returns.
            if writeFailure == nil { writeFailure = .io("cannot write the node's metrics or log: \(error.localizedDescription)") }
        }
        pendingMetrics = ""
        pendingLog = ""
        lastFlush = Date()
    }

    /// A flat JSON object with sorted keys; non-finite numbers become null.
    static func json(_ values: [String: Double]) -> String {
        "{" + values.keys.sorted().map { key in
            let v = values[key] ?? .nan
            return jsonString(key) + ":" + jsonNumber(v)
        }.joined(separator: ",") + "}"
    }
}

/// A JSON string literal (quoted and escaped).
func jsonString(_ s: String) -> String { ConfigValue.string(s).canonicalJSON }

/// A JSON number, or null when not finite.
func jsonNumber(_ v: Double) -> String { v.isFinite ? "\(v)" : "null" }

/// Why a node's output was refused although its runner returned.
public enum NodeFailure: Error, CustomStringConvertible, Equatable {
    /// A loss or metric became NaN or infinite (`step` nil: in the summary).
    case diverged(step: Int?, metric: String, value: Double)
    /// SIGINT or SIGTERM stopped the run.
    case interrupted(signal: Int32)

    public var description: String {
        switch self {
        case let .diverged(step, metric, value):
            return "diverged: \(metric) = \(value)" + (step.map { " at step \($0)" } ?? " in the summary")
                + "; the node is not committed (lower the learning rate or check the inputs)"
        case let .interrupted(signal):
            return "interrupted by \(signal == SIGINT ? "SIGINT" : signal == SIGTERM ? "SIGTERM" : "signal \(signal)") — rerun to resume"
        }
    }
}

/// A thread-safe set of live objects (by identity).
final class LiveSet<T: AnyObject>: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [ObjectIdentifier: T] = [:]

    func insert(_ item: T) { lock.lock(); items[ObjectIdentifier(item)] = item; lock.unlock() }
    func remove(_ item: T) { lock.lock(); items[ObjectIdentifier(item)] = nil; lock.unlock() }
    var all: [T] { lock.lock(); defer { lock.unlock() }; return Array(items.values) }
}
