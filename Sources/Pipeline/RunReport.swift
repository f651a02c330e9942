import Foundation

/// What happened to one node in a run.
public struct NodeReport: Sendable {
    /// How the node ended.
    public enum Outcome: Sendable, Equatable {
        /// Already finished in the store (`waited`: another run computed it while this one waited).
        case cached(waited: Bool)
        /// Computed by this run.
        case ran
        /// The runner (or the store) failed; the attempt's log is at `log`.
        case failed(error: String, log: URL)
        /// Not run because an input (hash given) failed or was skipped.
        case skipped(failedInput: String)
    }

    /// Node hash.
    public var hash: String
    /// Stage kind.
    public var kind: String
    /// Stage name (first occurrence).
    public var stage: String
    /// How it ended.
    public var outcome: Outcome
    /// Seconds spent on the node in this run (0 for cache hits found at once).
    public var wallSeconds: Double
    /// Final metrics from `summary.json` (empty when failed or skipped).
    public var summary: [String: Double]

    /// One word for tables and scripts: cached, ran, failed, diverged (a loss or metric became
    /// non-finite; `NodeFailure.diverged`) or skipped.
    public var status: String {
        switch outcome {
        case .cached: return "cached"
        case .ran: return "ran"
        case let .failed(error, _): return error.hasPrefix("diverged:") ? "diverged" : "failed"
        case .skipped: return "skipped"
        }
    }

    /// True for cached and ran.
    public var succeeded: Bool {
        switch outcome {
        case .cached, .ran: return true
        case .failed, .skipped: return false
        }
    }

    /// True for a cache hit.
    public var cached: Bool {
        if case .cached = outcome { return true }
        return false
    }
}

/// The result of `Executor.run`: every node handled, in topological order.
public struct RunReport: Sendable {
    /// Per node, in the graph's topological order.
    public var nodes: [NodeReport]
    /// Seconds the whole run took.
    public var wallSeconds: Double

    /// The report of one node.
    public func node(_ hash: String) -> NodeReport? { nodes.first { $0.hash == hash } }

    /// Nodes that failed (not those skipped because of them).
    public var failures: [NodeReport] {
        nodes.filter { if case .failed = $0.outcome { return true } else { return false } }
    }

    /// Nodes skipped because an input failed.
    public var skipped: [NodeReport] {
        nodes.filter { if case .skipped = $0.outcome { return true } else { return false } }
    }

    /// True when every node is cached or ran.
    public var succeeded: Bool { nodes.allSatisfy(\.succeeded) }

    /// How many nodes this run computed.
    public var ranCount: Int { nodes.filter { $0.outcome == .ran }.count }

    /// How many nodes were cache hits.
    public var cachedCount: Int { nodes.filter(\.cached).count }

    /// One line: counts and time.
    public var summaryLine: String {
        "pipeline: \(nodes.count) nodes: \(ranCount) ran, \(cachedCount) cached, \(failures.count) failed, "
            + "\(skipped.count) skipped in \(TerminalProgressDisplay.duration(wallSeconds))"
    }

    /// Every failure with its log path, one per line (empty when none).
    public var failureDescription: String {
        failures.compactMap { n -> String? in
            guard case let .failed(error, log) = n.outcome else { return nil }
            return "\(n.kind) \(n.hash.prefix(12)) (stage \(n.stage)) failed: \(error)\n  log: \(log.path)"
        }.joined(separator: "\n")
    }
}
