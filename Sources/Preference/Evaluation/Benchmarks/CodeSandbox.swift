import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs untrusted Python (a model's code and its tests) in a separate process with a time limit, a
/// memory limit, no network and a scratch directory that is deleted afterwards.
///
/// Isolation, strongest available first:
/// * `namespaces` — `unshare -rmn` (an unprivileged user, mount and network namespace): the process
///   sees only a loopback interface that is down, and every mount is remounted read-only except its
///   scratch directory, so a `rm -rf` anywhere outside the scratch directory fails with EROFS. Setup is
///   verified (a write beside the scratch directory must fail) before any model code runs.
/// * `pythonGuard` — when user namespaces are unavailable: the program is prefixed with a guard that
///   removes Python's ways to delete files, start processes and open sockets (as human-eval's
///   `reliability_guard` does). Weaker — C extensions or `ctypes` get around it — and said so in the
///   summary (`sandbox_namespaces` = 0).
public struct CodeSandbox: Sendable {
    public enum Isolation: String, Sendable { case namespaces, pythonGuard }

    /// Wall-clock seconds a program may run.
    public var timeLimit: Double
    /// Address-space limit of the program in MiB.
    public var memoryLimitMB: Int
    /// Folder the scratch directories are made in (the system temporary folder by default).
    public var root: URL
    /// How the program is isolated.
    public var isolation: Isolation

    public init(timeLimit: Double = 10, memoryLimitMB: Int = 2048, root: URL? = nil, isolation: Isolation? = nil) {
        self.timeLimit = timeLimit
        self.memoryLimitMB = memoryLimitMB
        self.root = root ?? FileManager.default.temporaryDirectory
        self.isolation = isolation ?? CodeSandbox.strongestAvailable
    }

    /// Whether `unshare -rmn` works on this machine (probed once).
    public static let strongestAvailable: Isolation = {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["unshare", "-rmn", "true"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return .pythonGuard }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? .namespaces : .pythonGuard
    }()

    /// What became of a program.
    public enum Outcome: Equatable, Sendable {
        case passed
        /// Non-zero exit; the tail of its standard error.
        case failed(String)
        case timedOut
    }

    /// Exit status of the setup script when isolation could not be established (the program never ran).
    static let setupFailed: Int32 = 97

    public func run(_ program: String) throws -> Outcome {
        let fm = FileManager.default
        let dir = root.appendingPathComponent("preflab-sandbox-\(UUID().uuidString)")
        let scratch = dir.appendingPathComponent("work")
        try fm.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? fm.removeItem(at: dir) }
        let source = isolation == .pythonGuard ? CodeSandbox.guardPreamble + program : program
        try Data(source.utf8).write(to: dir.appendingPathComponent("program.py"))
        try Data(script.utf8).write(to: dir.appendingPathComponent("run.sh"))
        let errURL = dir.appendingPathComponent("stderr.txt")
        _ = fm.createFile(atPath: errURL.path, contents: nil)
        let err = try FileHandle(forWritingTo: errURL)
        defer { try? err.close() }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let shell = ["sh", dir.appendingPathComponent("run.sh").path, scratch.path, dir.path]
        p.arguments = isolation == .namespaces ? ["unshare", "-rmn"] + shell : shell
        p.currentDirectoryURL = scratch
        p.environment = ["PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": scratch.path, "TMPDIR": scratch.path,
                         "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", "LANG": "C.UTF-8"]
        p.standardInput = FileHandle.nullDevice
        p.standardOutput = FileHandle.nullDevice
        p.standardError = err
        try p.run()
        // `timeout` inside the script kills the program's process group at the limit; this outer deadline
        // only catches a stuck setup.
        let deadline = Date().addingTimeInterval(timeLimit + 10)
        while p.isRunning && Date() < deadline { usleep(5_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit(); return .timedOut }
        let status = p.terminationStatus
        let tail = String(decoding: (try? Data(contentsOf: errURL)) ?? Data(), as: UTF8.self).suffix(600)
        if status == CodeSandbox.setupFailed {
            throw BenchmarkError("code sandbox: isolation could not be set up (\(isolation.rawValue)): \(tail)")
        }
        if p.terminationReason == .exit && status == 0 { return .passed }
        // `timeout -s KILL` kills the program's process group, itself included, so the process we started
        // ends by SIGKILL (or, were it not in that group, exits 124 or 137).
        if (p.terminationReason == .uncaughtSignal && status == SIGKILL) || status == 137 || status == 124 { return .timedOut }
        return .failed(String(tail))
    }

    /// The setup script: $1 is the scratch directory, $2 its parent (holding program.py).
    var script: String {
        let limits = "ulimit -v \(memoryLimitMB * 1024) 2>/dev/null || true\n"
        let runProgram = "cd \"$1\" || exit \(CodeSandbox.setupFailed)\n" + limits
            + "exec timeout -s KILL \(timeLimit) python3 \"$2/program.py\"\n"
        guard isolation == .namespaces else { return runProgram }
        return """
        mount --bind "$1" "$1" || exit \(CodeSandbox.setupFailed)
        awk '{print $2}' /proc/self/mounts | while read -r m; do
          m=$(printf '%b' "$m")
          [ "$m" = "$1" ] || mount -o remount,bind,ro "$m" 2>/dev/null || true
        done
        # The isolation must hold before any model code runs: a write beside the scratch folder fails.
        if touch "$2/.probe" 2>/dev/null; then echo "a folder outside the scratch directory is writable" >&2; exit \(CodeSandbox.setupFailed); fi

        """ + runProgram
    }

    /// The fallback guard: Python-level removal of deletion, process and network entry points.
    static let guardPreamble = """
    import os as _os, shutil as _sh, subprocess as _sp, socket as _so
    def _blocked(*a, **k):
        raise PermissionError("blocked by the PrefLab code sandbox")
    for _m, _names in ((_os, "system remove unlink rmdir removedirs rename renames replace kill killpg fork forkpty putenv truncate chmod chown"),
                       (_sh, "rmtree move chown copytree"), (_sp, "Popen run call check_call check_output getoutput"),
                       (_so, "create_connection socketpair getaddrinfo"),
                       # the socket class itself stays (other modules subclass it); its ways out do not
                       (_so.socket, "connect connect_ex bind sendto sendmsg")):
        for _n in _names.split():
            if hasattr(_m, _n): setattr(_m, _n, _blocked)

    """
}
