import Foundation
import Pipeline
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM during a run: every running node's log is flushed (with the reason) and kept
/// under `logs/`, resume checkpoints stay (they are written atomically, so the last one is whole),
/// and the process exits 130 (SIGINT) or 143 (SIGTERM). Nothing half-written is ever committed:
/// a node only enters the store by the rename of its finished folder.
enum Interrupts {
    private static let queue = DispatchQueue(label: "preflab.signals")
    nonisolated(unsafe) private static var sources: [any DispatchSourceSignal] = []

    /// Installs the handlers; call once before the executor starts.
    static func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { stop(sig) }
            source.resume()
            sources.append(source)
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
