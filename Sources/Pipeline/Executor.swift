import Foundation
import RecipeSpec

/// Runs a pipeline graph against an artifact store: cache hits skipped, independent nodes in
/// parallel up to `jobs`, one node lock per computation so concurrent runs never duplicate work.
public final class Executor: Sendable {
    /// Where artifacts live.
    public let store: ArtifactStore
    /// (Stage kind, engine) → runner: the embedded set plus any delegated engine's.
    public let runners: [RunnerKey: any StageRunner]
    /// Most nodes computed at once.
    public let jobs: Int
    /// Receives progress events.
    public let display: any ProgressDisplay
    /// Where delegated nodes run (the site file as one JSON object), written into their node.json as `site`:
    /// provenance only, never part of a hash.
    public let site: String?
    /// Computes nodes elsewhere (`--executor ray`); nil: in this process, by `runners`.
    public let dispatcher: (any NodeDispatcher)?
    /// What of this machine a node's numbers depend on (e.g. `blas_core`, the BLAS kernel set: other kernels
    /// sum in another order), written into every node.json it computes as `host`: provenance only, never hashed.
    public let host: [String: String]

    public init(store: ArtifactStore, runners: [RunnerKey: any StageRunner], jobs: Int = 1,
                display: any ProgressDisplay = SilentProgressDisplay(), site: String? = nil,
                dispatcher: (any NodeDispatcher)? = nil, host: [String: String] = [:]) {
        self.store = store
        self.runners = runners
        self.jobs = max(1, jobs)
        self.display = display
        self.site = site
        self.dispatcher = dispatcher
        self.host = host
    }

    /// Computes `targets` (node hashes) and whatever they need; the graph's sinks when nil.
    ///
    /// A finished node is never recomputed, and neither are its inputs only it needed (so removing
    /// intermediate artifacts with `gc` does not force them back). The report lists every node of
    /// the targets' closure that is finished or had to run.
    ///
    /// Node failures do not throw: the failed node's dependents are skipped, independent nodes
    /// still run, and the report lists every failure with its log. Throws only when the request
    /// itself is wrong (unknown target, no runner for a kind that must run).
    public func run(_ graph: PipelineGraph, targets: Set<String>? = nil) throws -> RunReport {
        let start = Date()
        for t in targets ?? [] where graph.node(hash: t) == nil { throw PipelineError.unknownTarget(t) }
        let roots = targets ?? graph.sinks
        let closure = graph.closure(of: roots)
        // A damaged node is moved aside here, so everything below treats it as never computed.
        for hash in closure.sorted() { _ = store.isIntact(hash, warn: { display.handle(.storeWarning($0)) }) }
        let needed = neededNodes(graph, roots: roots)
        let nodes = graph.nodes.filter { needed.contains($0.hash) || (closure.contains($0.hash) && store.isComplete($0.hash)) }
        for node in nodes where runners[node.runnerKey] == nil && !store.isComplete(node.hash) {
            throw PipelineError.noRunner(kind: node.kind, engine: node.engine, stage: node.stage.name)
        }
        display.handle(.runStarted(total: nodes.count, cached: nodes.filter { store.isComplete($0.hash) }.count))
        let schedule = Schedule(nodes: nodes)
        let group = DispatchGroup()
        for _ in 0..<min(jobs, max(1, nodes.count)) {
            group.enter()
            let worker = Thread { [self] in
                self.work(schedule)
                group.leave()
            }
            worker.stackSize = 8 << 20
            worker.start()
        }
        group.wait()
        let report = RunReport(nodes: nodes.compactMap { schedule.reports[$0.hash] },
                               wallSeconds: Date().timeIntervalSince(start))
        display.handle(.runFinished(report))
        return report
    }

    /// Computes one node whose inputs are finished (`preflab run-node`, what a Ray task runs): the same lock,
    /// cache check, commit and failure log as a node of `run`. Throws when the node is not in the graph or an
    /// input is missing; a failure of the node itself is in the report.
    public func runNode(_ graph: PipelineGraph, hash: String) throws -> NodeReport {
        guard let node = graph.node(hash: hash) else { throw PipelineError.unknownTarget(hash) }
        for input in node.inputs where !store.isIntact(input.hash, warn: { display.handle(.storeWarning($0)) }) {
            throw PipelineError.inputMissing(stage: node.stage.name, field: input.field, hash: input.hash)
        }
        return execute(node, ticket: NodeTicket(index: 1, total: 1, hash: node.hash, kind: node.kind, stage: node.stage.name))
    }

    /// The roots and, below every unfinished node, its inputs: what must exist for the roots.
    private func neededNodes(_ graph: PipelineGraph, roots: Set<String>) -> Set<String> {
        var needed = Set<String>()
        var stack = Array(roots)
        while let h = stack.popLast() {
            guard needed.insert(h).inserted, let node = graph.node(hash: h), !store.isComplete(h) else { continue }
            stack += node.inputs.map(\.hash)
        }
        return needed
    }

    private func work(_ schedule: Schedule) {
        while let (node, ticket) = schedule.next() {
            let report = execute(node, ticket: ticket)
            for skipped in schedule.finish(report) {
                display.handle(.nodeSkipped(skipped.ticket, failedInput: skipped.failedInput))
            }
        }
    }

    private func execute(_ node: GraphNode, ticket: NodeTicket) -> NodeReport {
        var report = NodeReport(hash: node.hash, kind: node.kind, stage: node.stage.name,
                                outcome: .cached(waited: false), wallSeconds: 0, summary: [:])
        let start = Date()
        if let summary = cachedSummary(node.hash) {
            report.summary = summary
            display.handle(.nodeCached(ticket, waited: false))
            return report
        }
        do {
            if let dispatcher { return try dispatch(node, ticket: ticket, report: report, to: dispatcher) }
            let lock = try store.lock(node.hash)
            defer { lock.release() }
            if let summary = cachedSummary(node.hash) {
                report.outcome = .cached(waited: true)
                report.summary = summary
                report.wallSeconds = Date().timeIntervalSince(start)
                display.handle(.nodeCached(ticket, waited: true))
                return report
            }
            return try compute(node, ticket: ticket, report: report, lock: lock)
        } catch {
            let message = String(describing: error)
            let log = store.logFile(for: node.hash)
            if !FileManager.default.fileExists(atPath: log.path) {
                try? FileWriter.write("error: \(message)\n", to: log)
            }
            report.outcome = .failed(error: message, log: store.logFile(for: node.hash))
            report.wallSeconds = Date().timeIntervalSince(start)
            display.handle(.nodeFailed(ticket, error: message, log: store.logFile(for: node.hash)))
            return report
        }
    }

    private func cachedSummary(_ hash: String) -> [String: Double]? {
        store.isComplete(hash) ? (store.summary(for: hash) ?? [:]) : nil
    }

    /// Has the dispatcher compute the node where it runs (it locks and commits there, into the shared store) and
    /// reads the committed summary back.
    private func dispatch(_ node: GraphNode, ticket: NodeTicket, report: NodeReport, to dispatcher: any NodeDispatcher) throws -> NodeReport {
        var report = report
        let start = Date()
        display.handle(.nodeStarted(ticket))
        try dispatcher.compute(node)
        guard let summary = cachedSummary(node.hash) else {
            throw PipelineError.notCommitted(stage: node.stage.name, hash: node.hash)
        }
        report.outcome = .ran
        report.wallSeconds = Date().timeIntervalSince(start)
        report.summary = summary
        display.handle(.nodeFinished(ticket, seconds: report.wallSeconds, summary: summary))
        return report
    }

    /// Runs the node's runner into a fresh temporary folder and commits it. Holds the node lock.
    private func compute(_ node: GraphNode, ticket: NodeTicket, report: NodeReport, lock: LeaseLock) throws -> NodeReport {
        guard let runner = runners[node.runnerKey] else {
            throw PipelineError.noRunner(kind: node.kind, engine: node.engine, stage: node.stage.name)
        }
        var report = report
        let stale = store.removeStaleTemporaries(for: node.hash)
        let tmp = try store.makeTemporaryDirectory(for: node.hash)
        let logFile = tmp.appendingPathComponent("log.txt")
        let start = Date()
        let run = node.usedBy.first ?? (cell: "default", stage: node.stage.name)
        let recorder = try NodeRecorder(metricsFile: tmp.appendingPathComponent("metrics.jsonl"), logFile: logFile,
                                        display: display, ticket: ticket, start: start,
                                        tensorboardRun: TensorBoardWriter.runDirectory(in: tmp, cell: run.cell, stage: run.stage))
        recorder.failureLog = store.logFile(for: node.hash)
        recorder.writeLog("node \(node.hash) kind \(node.kind) stage \(node.stage.name) started \(Self.timestamp(start))")
        if !stale.isEmpty { recorder.writeLog("removed stale temporaries: " + stale.joined(separator: ", ")) }
        display.handle(.nodeStarted(ticket))
        var inputs: [String: URL] = [:]
        for input in node.inputs { inputs[input.field] = store.objectDirectory(for: input.hash) }
        let wall: Double, summary: [String: Double]
        do {
            let context = NodeContext(hash: node.hash, stage: node.stage, inputs: inputs, outputDirectory: tmp,
                                      resumeDirectory: try store.resumeDirectory(for: node.hash), reporter: recorder)
            try runner.run(context)
            wall = Date().timeIntervalSince(start)
            recorder.writeLog("finished in \(TerminalProgressDisplay.duration(wall))")
            recorder.close()
            try recorder.checkHealthy()
            summary = recorder.collectedSummary
            try write(NodeRecorder.json(summary) + "\n", to: tmp.appendingPathComponent("summary.json"))
            try write(nodeJSON(node, wall: wall), to: tmp.appendingPathComponent("node.json"))
            // A lease that expired while this process stalled may be another worker's now: leave the node to it.
            guard lock.isHeld else { throw PipelineError.lockLost(stage: node.stage.name, hash: node.hash) }
            try store.commit(temporary: tmp, as: node.hash)
        } catch {
            recorder.writeLog("error: \(error)")
            recorder.close()
            keepFailureLog(logFile, hash: node.hash)
            try? FileManager.default.removeItem(at: tmp)
            throw error
        }
        try? FileManager.default.removeItem(at: store.logFile(for: node.hash))
        report.outcome = .ran
        report.wallSeconds = wall
        report.summary = summary
        display.handle(.nodeFinished(ticket, seconds: wall, summary: summary))
        return report
    }

    /// Flushes the logs of every running node with a closing line and copies them to `logs/<hash>.log`;
    /// the process is about to exit on SIGINT/SIGTERM. Resume checkpoints stay where they are.
    public static func interruptRunningNodes(signal: Int32) {
        let line = "error: \(NodeFailure.interrupted(signal: signal))"
        for recorder in NodeRecorder.live.all { recorder.interrupt(line) }
    }

    /// Moves a failed attempt's log to `logs/<hash>.log`, where the failure report points.
    private func keepFailureLog(_ log: URL, hash: String) {
        let kept = store.logFile(for: hash)
        try? FileManager.default.removeItem(at: kept)
        try? FileManager.default.moveItem(at: log, to: kept)
    }

    private func nodeJSON(_ node: GraphNode, wall: Double) -> String {
        let inputs = "{" + node.inputs.sorted { $0.field < $1.field }
            .map { jsonString($0.field) + ":" + jsonString($0.hash) }.joined(separator: ",") + "}"
        return "{\"codeVersion\":\(node.codeVersion),\"config\":\(node.canonicalConfig),"
            + "\"created\":\(jsonString(Self.timestamp(Date()))),"
            + (node.external.map { "\"external\":\(jsonString($0))," } ?? "") + "\"hash\":\(jsonString(node.hash)),"
            + (host.isEmpty ? "" : "\"host\":{" + host.sorted { $0.key < $1.key }
                .map { jsonString($0.key) + ":" + jsonString($0.value) }.joined(separator: ",") + "},")
            + "\"inputs\":\(inputs),\"kind\":\(jsonString(node.kind)),"
            + (node.engine != EngineDescriptor.embeddedName ? site.map { "\"site\":\($0)," } ?? "" : "")
            + "\"stage\":\(jsonString(node.stage.name)),\"wallSeconds\":\(jsonNumber(wall))}\n"
    }

    private func write(_ text: String, to url: URL) throws {
        try FileWriter.write(text, to: url)
    }

    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}

/// The shared work list of one run: which nodes are ready, which are done, which are blocked.
private final class Schedule: @unchecked Sendable {
    private let condition = NSCondition()
    private let nodes: [GraphNode]
    private let position: [String: Int]
    private var pendingInputs: [String: Int] = [:]
    private var dependents: [String: [String]] = [:]
    private var ready: [Int] = []
    private var started = 0
    private var finished = 0
    private(set) var reports: [String: NodeReport] = [:]

    init(nodes: [GraphNode]) {
        self.nodes = nodes
        position = Dictionary(uniqueKeysWithValues: nodes.enumerated().map { ($1.hash, $0) })
        for node in nodes {
            let inputs = Set(node.inputs.map(\.hash)).filter { position[$0] != nil }
            pendingInputs[node.hash] = inputs.count
            for input in inputs { dependents[input, default: []].append(node.hash) }
            if inputs.isEmpty, let i = position[node.hash] { ready.append(i) }
        }
    }

    private func ticket(_ node: GraphNode, index: Int) -> NodeTicket {
        NodeTicket(index: index, total: nodes.count, hash: node.hash, kind: node.kind, stage: node.stage.name)
    }

    /// The next ready node (earliest in topological order), waiting while others run; nil when all are done.
    func next() -> (GraphNode, NodeTicket)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let smallest = ready.min(), let at = ready.firstIndex(of: smallest) {
                ready.remove(at: at)
                started += 1
                return (nodes[smallest], ticket(nodes[smallest], index: started))
            }
            if finished == nodes.count { return nil }
            condition.wait()
        }
    }

    /// Records a finished node; returns the nodes skipped because it failed.
    func finish(_ report: NodeReport) -> [(ticket: NodeTicket, failedInput: String)] {
        condition.lock()
        defer {
            condition.broadcast()
            condition.unlock()
        }
        reports[report.hash] = report
        finished += 1
        guard report.succeeded else { return skipDependents(of: report.hash) }
        for d in dependents[report.hash] ?? [] where reports[d] == nil {
            pendingInputs[d, default: 0] -= 1
            if pendingInputs[d] == 0, let i = position[d] { ready.append(i) }
        }
        return []
    }

    private func skipDependents(of failed: String) -> [(ticket: NodeTicket, failedInput: String)] {
        var out: [(ticket: NodeTicket, failedInput: String)] = []
        var stack = [failed]
        while let h = stack.popLast() {
            for d in dependents[h] ?? [] where reports[d] == nil {
                guard let i = position[d] else { continue }
                let node = nodes[i]
                reports[d] = NodeReport(hash: d, kind: node.kind, stage: node.stage.name,
                                        outcome: .skipped(failedInput: h), wallSeconds: 0, summary: [:])
                finished += 1
                started += 1
                out.append((ticket(node, index: started), h))
                stack.append(d)
            }
        }
        return out
    }
}

/// Computes a node somewhere else than this process (a Ray task running `preflab run-node`): the executor keeps
/// the schedule (what is ready, what a failure skips) and the cache; the node locks and commits where it runs,
/// into the shared store.
public protocol NodeDispatcher: Sendable {
    /// Returns once the node is committed to the store; throws the failure (its log is in the store's logs/).
    func compute(_ node: GraphNode) throws
}
