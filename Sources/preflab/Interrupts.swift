import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The write end of the self-pipe; the signal handler may only make async-signal-safe calls, so it
/// writes the signal number there and a watcher thread does the rest.
nonisolated(unsafe) private var interruptPipe: Int32 = -1

/// SIGINT and SIGTERM during a run: every running node's log is flushed (with the reason) and kept
/// under `logs/`, resume checkpoints stay (they are written atomically, so the last one is whole),
/// and the process exits 130 (SIGINT) or 143 (SIGTERM). Nothing half-written is ever committed:
/// a node only enters the store by the rename of its finished folder.
enum Interrupts {
    /// Installs the handlers; call once before the executor starts.
    static func install() {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        interruptPipe = fds[1]
        let reader = fds[0]
        let watcher = Thread {
            var byte: UInt8 = 0
            while read(reader, &byte, 1) != 1 {}
            stop(Int32(byte))
        }
        watcher.start()
        for sig in [SIGINT, SIGTERM] {
            signal(sig) { s in
                var byte = UInt8(truncatingIfNeeded: s)
                _ = write(interruptPipe, &byte, 1)
            }
        }
    }

    private static func stop(_ sig: Int32) {
        Executor.interruptRunningNodes(signal: sig)
        let text = "\ninterrupted (\(sig == SIGINT ? "SIGINT" : "SIGTERM")) — rerun to resume\n"
        try? FileHandle.standardError.write(contentsOf: Data(text.utf8))
        fflush(nil)
        _exit(128 + sig)
    }
}
