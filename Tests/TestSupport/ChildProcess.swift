import Foundation

/// What a child process printed and how it ended.
public struct ChildOutput: Sendable {
    public var status: Int32
    /// Whether it exited (rather than being killed by a signal).
    public var exited: Bool
    public var stdout: String
    public var stderr: String

    public var succeeded: Bool { exited && status == 0 }
}

/// Runs a child process for tests and collects both of its outputs.
///
/// Both pipes are drained at once (standard error on a second thread): reading one to its end before the
/// other deadlocks as soon as the child writes more than a pipe buffer (64 KiB on Linux) to the second one.
public enum ChildProcess {
    /// Runs `executable arguments` in `directory` with this process's environment plus `environment`.
    public static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                           environment: [String: String] = [:]) throws -> ChildOutput {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errBox = DataBox()
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            errBox.data = err.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        done.wait()
        process.waitUntilExit()
        return ChildOutput(status: process.terminationStatus, exited: process.terminationReason == .exit,
                           stdout: String(decoding: outData, as: UTF8.self),
                           stderr: String(decoding: errBox.data, as: UTF8.self))
    }

    /// Runs it and returns its standard output; throws with the tail of its standard error when it fails.
    @discardableResult
    public static func checked(_ executable: String, _ arguments: [String], in directory: URL? = nil,
                               environment: [String: String] = [:]) throws -> String {
        let result = try run(executable, arguments, in: directory, environment: environment)
        guard result.succeeded else {
            let how = result.exited ? "exited \(result.status)" : "was killed by signal \(result.status)"
            throw ChildProcessError(description: "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.prefix(2)) \(how): "
                                    + String(result.stderr.suffix(3000)))
        }
        return result.stdout
    }
}

public struct ChildProcessError: Error, CustomStringConvertible {
    public let description: String
}

/// The second thread's result, handed over after the semaphore.
private final class DataBox: @unchecked Sendable {
    var data = Data()
}
