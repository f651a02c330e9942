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

    init(metricsFile: URL, logFile: URL, display: any ProgressDisplay, ticket: NodeTicket, start: Date) {
        try? FileWriter.write(Data(), to: metricsFile)
        try? FileWriter.write(Data(), to: logFile)
        metrics = try? FileHandle(forWritingTo: metricsFile)
        logHandle = try? FileHandle(forWritingTo: logFile)
        self.display = display
        self.ticket = ticket
        self.start = start
    }

    func record(step: Int, of total: Int, values: [String: Double]) {
        let line = "{\"step\":\(step),\"total\":\(total),\"values\":\(Self.json(values))}\n"
        lock.lock()
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
        flush()
        try? metrics?.close()
        try? logHandle?.close()
        metrics = nil
        logHandle = nil
        lock.unlock()
    }

    /// Writes buffered lines when a second has passed or much is pending. Call with `lock` held.
    private func flushIfDue() {
        if pendingMetrics.utf8.count + pendingLog.utf8.count > 1 << 16 || Date().timeIntervalSince(lastFlush) > 1 { flush() }
    }

    /// Writes buffered lines. Call with `lock` held.
    private func flush() {
        if !pendingMetrics.isEmpty { metrics?.write(Data(pendingMetrics.utf8)) }
        if !pendingLog.isEmpty { logHandle?.write(Data(pendingLog.utf8)) }
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
