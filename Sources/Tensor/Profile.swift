import Foundation

/// Per-phase wall times, switched on by the environment variable BENCH_PROFILE=1 (benchmarks only).
/// Off, `Profile.time` costs one branch, so the engine's hot paths can stay instrumented.
public enum Profile {
    /// Whether phases are timed (read once from BENCH_PROFILE).
    nonisolated(unsafe) public static var enabled = ProcessInfo.processInfo.environment["BENCH_PROFILE"] == "1"
    nonisolated(unsafe) private static var totals: [String: Double] = [:]
    nonisolated(unsafe) private static var order: [String] = []

    /// Runs `body`, adding its wall time to phase `name` when profiling is on. Call from one thread only.
    @inline(__always)
    public static func time<T>(_ name: String, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let start = DispatchTime.now().uptimeNanoseconds
        let r = body()
        let s = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        if totals[name] == nil { order.append(name) }
        totals[name, default: 0] += s
        return r
    }

    /// The phases timed since the last reset, in first-seen order, and clears them.
    public static func takeReport() -> [(phase: String, seconds: Double)] {
        defer { totals = [:]; order = [] }
        return order.map { ($0, totals[$0]!) }
    }
}
