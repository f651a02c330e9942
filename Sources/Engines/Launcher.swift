import Foundation
import Pipeline
import RecipeSpec

/// A failed or impossible launch.
public struct EngineLaunchError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Builds the command that starts a job on a site, and runs it while forwarding the engine's step metrics.
public enum Launcher {
    /// The command line that starts `program` under the site's launcher with `processes` ranks and `gpus` GPUs, in
    /// `workDirectory` with `environment` added: the one place every launcher's command is built.
    ///
    /// - local: the program itself.
    /// - torchrun: `python -m torch.distributed.run --standalone --nproc_per_node N` around it (several ranks only;
    ///   `--standalone` picks a free rendezvous port); an engine that places its own workers runs plainly.
    /// - ray: `ray job submit`, which blocks until the job ends and exits 1 when it fails. The store is shared, so
    ///   nothing is uploaded (no `--working-dir`): paths are absolute and the environment travels in
    ///   `--runtime-env-json`; the GPUs are reserved for the entrypoint unless the engine places its own workers.
    /// - sbatch: `sbatch --wait` around the (torchrun-wrapped) program; the job inherits the submitting
    ///   environment (Slurm's default `--export=ALL`) and starts in `workDirectory`.
    public static func command(site: SiteConfig, program: EngineProgram, processes: Int, gpus: Int,
                               workDirectory: String, environment: [String: String]) -> [String] {
        let ranks = program.placesOwnWorkers ? 1 : processes
        let spread = ranks > 1
            ? program.container + [program.python, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "\(ranks)"] + program.entryArguments
            : program.plain
        let reserved = program.placesOwnWorkers ? 0 : gpus
        switch site.launcher {
        case .local:
            return program.plain
        case .torchrun:
            return spread
        case .ray:
            let env = environment.keys.sorted().map { ConfigValue.string($0).canonicalJSON + ":" + ConfigValue.string(environment[$0] ?? "").canonicalJSON }.joined(separator: ",")
            return ["ray", "job", "submit"] + (site.rayAddress.map { ["--address", $0] } ?? [])
                + ["--runtime-env-json", "{\"env_vars\":{\(env)}}"]
                + (reserved > 0 ? ["--entrypoint-num-gpus", "\(reserved)"] : [])
                // Ray joins the entrypoint into one shell command: each word is quoted for that shell.
                + ["--"] + spread.map(shellQuoted)
        case .sbatch:
            return ["sbatch", "--wait", "--job-name", "preflab", "--chdir", workDirectory, "--output", workDirectory + "/engine-%j.log"]
                + (gpus > 0 ? ["--gpus", "\(gpus)"] : []) + site.sbatchArgs + ["--wrap", spread.map(shellQuoted).joined(separator: " ")]
        }
    }

    /// The command line for a bridge script (TRL's `script job`) run by `python` in `workDirectory`, with the
    /// environment every engine job gets (`offlineEnvironment`) and the site's `container.trl` words.
    public static func command(site: SiteConfig, python: String, script: String, job: String, processes: Int,
                               gpus: Int, workDirectory: String) -> [String] {
        let program = EngineProgram(python: python, entry: .script(script), arguments: [job], container: site.container["trl"] ?? [])
        return command(site: site, program: program, processes: processes, gpus: gpus, workDirectory: workDirectory,
                       environment: offlineEnvironment(URL(fileURLWithPath: workDirectory)))
    }

    /// Variables every engine job gets: the hub offline (nothing is downloaded), unbuffered output for the log,
    /// caches inside the node's resume folder.
    public static func offlineEnvironment(_ dir: URL) -> [String: String] {
        ["HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "PYTHONUNBUFFERED": "1",
         "TOKENIZERS_PARALLELISM": "false", "HF_HOME": dir.appendingPathComponent(".hf").path,
         "TRANSFORMERS_VERBOSITY": "warning", "PYTHONWARNINGS": "ignore"]
    }

    static func shellQuoted(_ s: String) -> String {
        !s.isEmpty && s.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:@,+%".contains($0) }) ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// Runs `command` in `directory`, forwarding its output lines to the node's log and the `{step,total,values}`
    /// lines the job appends to `metrics` to the reporter (so every launcher, local or remote, reports the same
    /// way). Writes the child's pid to `pidFile` while it runs. Throws when it exits unsuccessfully.
    public static func run(_ command: [String], directory: URL, environment: [String: String], metrics: URL,
                           pidFile: URL, reporter: any ProgressReporter) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        process.currentDirectoryURL = directory
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let tail = OutputTail(reporter: reporter)
        pipe.fileHandleForReading.readabilityHandler = { handle in tail.append(handle.availableData) }
        let follower = MetricsFollower(url: metrics, reporter: reporter)
        reporter.log("engine: " + command.map(shellQuoted).joined(separator: " "))
        do { try process.run() } catch {
            throw EngineLaunchError("cannot start \(command.first ?? ""): \(error.localizedDescription)")
        }
        try? "\(process.processIdentifier)\n".write(to: pidFile, atomically: true, encoding: .utf8)
        while process.isRunning {
            follower.poll()
            Thread.sleep(forTimeInterval: 0.2)
        }
        process.waitUntilExit()
        pipe.fileHandleForReading.readabilityHandler = nil
        tail.append(pipe.fileHandleForReading.readDataToEndOfFile())
        tail.flush()
        follower.poll()
        try? FileManager.default.removeItem(at: pidFile)
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            let how = process.terminationReason == .exit ? "exited with status \(process.terminationStatus)"
                                                         : "was killed by signal \(process.terminationStatus)"
            throw EngineLaunchError("the engine job \(how); last output:\n" + tail.last.joined(separator: "\n"))
        }
    }
}

/// Splits the child's output into lines for the node's log, keeping the last few for the error message.
private final class OutputTail: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = Data()
    private let reporter: any ProgressReporter
    private(set) var last: [String] = []

    init(reporter: any ProgressReporter) { self.reporter = reporter }

    func append(_ data: Data) {
        lock.lock()
        defer { lock.unlock() }
        buffer.append(data)
        while let newline = buffer.firstIndex(of: 0x0A) {
            emit(String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self))
            buffer.removeSubrange(buffer.startIndex...newline)
        }
    }

    func flush() {
        lock.lock()
        defer { lock.unlock() }
        if !buffer.isEmpty { emit(String(decoding: buffer, as: UTF8.self)) }
        buffer.removeAll()
    }

    private func emit(_ line: String) {
        // Progress bars redraw with carriage returns; keep the final state of the line.
        let text = line.split(separator: "\r").last.map(String.init) ?? ""
        guard !text.trimmingCharacters(in: .whitespaces).isEmpty else { return }
        if let writer = reporter as? any EngineLogSink { writer.writeLog(text) } else { reporter.log(text) }
        last.append(text)
        if last.count > 20 { last.removeFirst() }
    }
}

/// A reporter that can keep a line in the node's log without showing it on the terminal.
public protocol EngineLogSink { func writeLog(_ message: String) }

/// Reads the `{step,total,values}` lines a job appends to its metrics file and records them.
final class MetricsFollower {
    private struct Line: Decodable {
        var step: Int
        var total: Int
        var values: [String: Double]
    }

    private let url: URL
    private let reporter: any ProgressReporter
    private var offset: UInt64 = 0

    init(url: URL, reporter: any ProgressReporter) {
        self.url = url
        self.reporter = reporter
    }

    func poll() {
        guard let handle = try? FileHandle(forReadingFrom: url) else { return }
        defer { try? handle.close() }
        try? handle.seek(toOffset: offset)
        guard let data = try? handle.readToEnd(), let end = data.lastIndex(of: 0x0A) else { return }
        let complete = data[data.startIndex...end]
        offset += UInt64(complete.count)
        for line in complete.split(separator: 0x0A) {
            if let l = try? JSONDecoder().decode(Line.self, from: Data(line)) {
                reporter.record(step: l.step, of: l.total, values: l.values)
            }
        }
    }
}
