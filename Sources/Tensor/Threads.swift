import COpenBLAS
import Dispatch
import Foundation

/// The engine's thread width: OpenBLAS threads for big GEMMs and the width of `parallelFor` loops.
public enum Threads {
    nonisolated(unsafe) private static var width: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Sets the width (at least 1) for OpenBLAS and the engine's own parallel loops.
    public static func set(_ n: Int) {
        width = max(1, n)
        openblas_set_num_threads(Int32(width))
    }

    /// The current width.
    public static var count: Int { width }
}

/// Runs `body(i)` for i in 0..<n across `Threads.count` workers (contiguous chunks, static split).
public func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let workers = min(Threads.count, n)
    if workers <= 1 {
        for i in 0..<n { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = n * w / workers, hi = n * (w + 1) / workers
            for i in lo..<hi { body(i) }
        }
    }
}
