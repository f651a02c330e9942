import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Identifies a node in progress events: its position in the run and what it is.
public struct NodeTicket: Sendable, Equatable {
    /// 1-based position among the nodes this run handles (in start order).
    public var index: Int
    /// How many nodes this run handles (cached ones included).
    public var total: Int
    /// Node hash.
    public var hash: String
    /// Stage kind.
    public var kind: String
    /// Stage name (first occurrence).
    public var stage: String

    public var shortHash: String { String(hash.prefix(12)) }
}

/// What the executor tells a progress display, as values.
public enum ProgressEvent: Sendable {
    /// The run begins: `total` nodes, `cached` of them already finished.
    case runStarted(total: Int, cached: Int)
    /// A node was found finished in the store (`waited`: after another process computed it).
    case nodeCached(NodeTicket, waited: Bool)
    /// A node's runner starts.
    case nodeStarted(NodeTicket)
    /// A runner recorded a point: step of total, named values, seconds since the node started.
    case nodeProgress(NodeTicket, step: Int, of: Int, values: [String: Double], elapsed: Double)
    /// A runner's log line.
    case nodeLog(NodeTicket, String)
    /// A node finished in `seconds`.
    case nodeFinished(NodeTicket, seconds: Double, summary: [String: Double])
    /// A node failed; its log is at `log`.
    case nodeFailed(NodeTicket, error: String, log: URL)
    /// A node was not run because an input failed.
    case nodeSkipped(NodeTicket, failedInput: String)
    /// The run ended.
    case runFinished(RunReport)
    /// Something the user must know that is not a node's failure (a damaged node moved aside).
    case storeWarning(String)
}

/// Receives progress events; called from worker threads, so implementations synchronise.
public protocol ProgressDisplay: Sendable {
    func handle(_ event: ProgressEvent)
}

/// Shows nothing.
public struct SilentProgressDisplay: ProgressDisplay {
    public init() {}
    public func handle(_ event: ProgressEvent) {}
}

/// Prints progress: a live status line on a terminal, plain log lines otherwise.
public final class TerminalProgressDisplay: ProgressDisplay, @unchecked Sendable {
    private let output: FileHandle
    private let live: Bool
    private let lock = NSLock()
    private var lastPlainProgress: [String: Double] = [:]
    private var lineShown = false

    /// Writes to `output`; `live` defaults to whether it is a terminal.
    public init(output: FileHandle = .standardError, live: Bool? = nil) {
        self.output = output
        self.live = live ?? (isatty(output.fileDescriptor) == 1)
    }

    public func handle(_ event: ProgressEvent) {
        lock.lock()
        defer { lock.unlock() }
        switch event {
        case let .nodeProgress(t, step, total, values, elapsed):
            let text = Self.progressText(t, step: step, of: total, values: values, elapsed: elapsed)
            if live {
                write("\r\u{1B}[K" + text)
                lineShown = true
            } else if shouldPrintPlain(t.hash, step: step, of: total, elapsed: elapsed) {
                write(text + "\n")
            }
        default:
            guard let line = Self.plainText(event) else { return }
            write((live && lineShown ? "\r\u{1B}[K" : "") + line + "\n")
            lineShown = false
        }
    }

    /// Plain logs get a progress line at most every 10% of a node's steps (and its last step).
    private func shouldPrintPlain(_ hash: String, step: Int, of total: Int, elapsed: Double) -> Bool {
        let fraction = total > 0 ? Double(step) / Double(total) : 1
        let last = lastPlainProgress[hash] ?? -1
        guard step >= total || fraction - last >= 0.1 else { return false }
        lastPlainProgress[hash] = fraction
        return true
    }

    // A closed or full stderr must not end the run: the store, not the terminal, holds the results.
    private func write(_ s: String) { try? output.write(contentsOf: Data(s.utf8)) }

    /// `[i/N] kind hash step s/T loss 0.1234 ETA 1m05s`: the loss if reported, else the first value.
    public static func progressText(_ t: NodeTicket, step: Int, of total: Int, values: [String: Double], elapsed: Double) -> String {
        var s = "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) step \(step)/\(total)"
        if let key = values["loss"] != nil ? "loss" : values.keys.sorted().first, let v = values[key] {
            s += " \(key) " + String(format: "%.4g", v)
        }
        if step > 0, total > step {
            s += " ETA " + duration(elapsed * Double(total - step) / Double(step))
        }
        return s
    }

    /// One log line for every event except progress points.
    public static func plainText(_ event: ProgressEvent) -> String? {
        switch event {
        case let .runStarted(total, cached):
            return "pipeline: \(total) nodes, \(cached) cached, \(total - cached) to run"
        case let .nodeCached(t, waited):
            return "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) (\(t.stage)) cached" + (waited ? " (computed by another run)" : "")
        case let .nodeStarted(t):
            return "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) (\(t.stage)) started"
        case let .nodeLog(t, message):
            return "  \(t.shortHash): \(message)"
        case let .nodeFinished(t, seconds, _):
            return "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) (\(t.stage)) done in \(duration(seconds))"
        case let .nodeFailed(t, error, log):
            return "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) (\(t.stage)) FAILED: \(error) (log: \(log.path))"
        case let .nodeSkipped(t, failedInput):
            return "[\(t.index)/\(t.total)] \(t.kind) \(t.shortHash) (\(t.stage)) skipped: input \(failedInput.prefix(12)) failed"
        case let .runFinished(report):
            return report.summaryLine
        case let .storeWarning(message):
            return "warning: " + message
        case .nodeProgress:
            return nil
        }
    }

    /// `12.3s`, `4m05s`, `1h02m`.
    public static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "?" }
        if seconds < 60 { return String(format: "%.1fs", seconds) }
        let s = Int(seconds.rounded())
        if s < 3600 { return String(format: "%dm%02ds", s / 60, s % 60) }
        return String(format: "%dh%02dm", s / 3600, (s % 3600) / 60)
    }
}
