import Foundation
import Pipeline
import RecipeSpec

/// `preflab run --executor ray`: each ready node becomes a Ray task, with the CPUs and GPUs the site gives its
/// kind, that runs `preflab run-node HASH ...` against the shared store. The driver is `ray_executor.py` in the
/// Ray environment (`site.python.ray`, default `.venv-ray/bin/python`; `bash scripts/setup-ray.sh`); this class
/// talks to it over JSON lines. PrefLab's executor keeps the schedule, so failures skip dependents exactly as
/// with the local executor.
public final class RayDispatcher: NodeDispatcher, @unchecked Sendable {
    /// How to start the driver and what each node's task runs.
    public struct Options {
        /// The Ray environment's interpreter.
        public var python: String
        /// `ray.init(address:)`: nil starts a cluster on this machine, `auto` joins the local one, `ray://host:10001` a remote one.
        public var address: String?
        /// The folder tasks run in (the recipe's relative paths are read from there; it must exist on every worker).
        public var directory: String
        /// The command that computes one node (`preflab run-node HASH ...`).
        public var nodeCommand: @Sendable (GraphNode) -> [String]
        /// What a node reserves.
        public var resources: @Sendable (GraphNode) -> NodeResources
        /// Variables added to every task's environment.
        public var environment: [String: String]
        /// Times Ray reruns a task whose worker died.
        public var retries: Int

        public init(python: String, address: String?, directory: String, nodeCommand: @escaping @Sendable (GraphNode) -> [String],
                    resources: @escaping @Sendable (GraphNode) -> NodeResources, environment: [String: String], retries: Int = 3) {
            self.python = python
            self.address = address
            self.directory = directory
            self.nodeCommand = nodeCommand
            self.resources = resources
            self.environment = environment
            self.retries = retries
        }
    }

    private struct Reply: Decodable {
        var id: String?
        var exit: Int?
        var output: String?
        var host: String?
        var ready: Bool?
        var error: String?
    }

    private let options: Options
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let state = NSCondition()
    private var replies: [String: Reply] = [:]
    private var startup: Reply?
    private var ended = false
    private var buffer = Data()

    /// Starts the driver and waits until Ray is up; throws what went wrong (no Ray, no cluster).
    public init(_ options: Options) throws {
        self.options = options
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("preflab-ray-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let script = dir.appendingPathComponent("ray_executor.py")
        try EngineFiles.script("ray_executor.py").write(to: script)
        guard FileManager.default.isExecutableFile(atPath: options.python) else {
            throw EngineLaunchError("--executor ray: no Python at \(options.python) (bash scripts/setup-ray.sh makes .venv-ray, or name one as site.python.ray)")
        }
        process.executableURL = URL(fileURLWithPath: options.python)
        process.arguments = [script.path]
        process.currentDirectoryURL = URL(fileURLWithPath: options.directory)
        process.standardInput = input
        process.standardOutput = output
        process.terminationHandler = { [weak self] _ in self?.finish() }
        output.fileHandleForReading.readabilityHandler = { [weak self] handle in self?.receive(handle.availableData) }
        try process.run()
        try send(["address": options.address.map { $0 as Any } ?? NSNull(), "cwd": options.directory,
                  "env": options.environment, "retries": options.retries])
        state.lock()
        while startup == nil && !ended { state.wait() }
        let first = startup
        state.unlock()
        guard first?.ready == true else {
            throw EngineLaunchError("--executor ray: the Ray driver did not start: " + (first?.error ?? "it exited (see its output above)"))
        }
    }

    public func compute(_ node: GraphNode) throws {
        let r = options.resources(node)
        try send(["id": node.hash, "argv": options.nodeCommand(node), "cpus": r.cpus, "gpus": r.gpus])
        state.lock()
        while replies[node.hash] == nil && !ended { state.wait() }
        let reply = replies.removeValue(forKey: node.hash)
        state.unlock()
        guard let reply else { throw EngineLaunchError("the Ray driver exited before node \(node.shortHash) finished") }
        guard reply.exit == 0 else {
            let tail = (reply.output ?? "").split(separator: "\n").suffix(12).joined(separator: "\n")
            throw EngineLaunchError("Ray task on \(reply.host ?? "?") exited with \(reply.exit ?? -1):\n\(tail)")
        }
    }

    /// Closes the driver's input (it waits for its tasks, shuts Ray down and exits) and waits for it.
    public func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func send(_ object: [String: Any]) throws {
        let line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]) + Data("\n".utf8)
        state.lock()
        defer { state.unlock() }
        guard !ended else { throw EngineLaunchError("the Ray driver has exited") }
        try input.fileHandleForWriting.write(contentsOf: line)
    }

    private func receive(_ data: Data) {
        state.lock()
        defer { state.unlock() }
        buffer.append(data)
        while let newline = buffer.firstIndex(of: 0x0A) {
            let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
            buffer.removeSubrange(buffer.startIndex...newline)
            // Ray and the tasks may print too: only the driver's own lines are read.
            guard line.hasPrefix("PREFLAB-RAY "), let reply = try? JSONDecoder().decode(Reply.self, from: Data(line.dropFirst(12).utf8)) else {
                continue
            }
            if let id = reply.id { replies[id] = reply } else { startup = reply }
        }
        state.broadcast()
    }

    private func finish() {
        // The driver's last lines (an error at start) may still be in the pipe.
        output.fileHandleForReading.readabilityHandler = nil
        receive(output.fileHandleForReading.readDataToEndOfFile())
        state.lock()
        ended = true
        state.broadcast()
        state.unlock()
    }
}
