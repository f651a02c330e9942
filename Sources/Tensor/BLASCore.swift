import COpenBLAS
import Foundation

/// OpenBLAS's kernel choice. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) does not know the CPU models of
/// newer virtual Xeons and falls back to its generic SSE3 "Prescott" kernels: 1024^3 sgemm at 2 threads
/// ran at ~45 GFLOP/s there against ~210 with the AVX-512 SkylakeX kernels the CPU supports. The core
/// is chosen when the library loads, from OPENBLAS_CORETYPE, so an executable fixes it by re-executing
/// itself with that variable set before doing any work.
public enum BLASCore {
    /// The kernel set OpenBLAS chose (e.g. "Haswell", "SkylakeX", "Prescott").
    public static var name: String { String(cString: openblas_get_corename()) }

    /// Whether OpenBLAS runs generic (pre-AVX) kernels (then `betterCore()` may name a better set).
    public static let isGeneric = fallbacks.contains(name.lowercased())

    /// Generic fallbacks OpenBLAS picks for CPUs it does not recognise.
    static let fallbacks: Set<String> = ["prescott", "core2", "nehalem", "katmai", "coppermine", "northwood", "banias", "atom"]

    /// The better kernel set for this CPU when OpenBLAS fell back to a generic one, from /proc/cpuinfo
    /// flags; nil when OpenBLAS's own choice stands (or OPENBLAS_CORETYPE is already set).
    public static func betterCore() -> String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, isGeneric,
              let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Re-executes this process with OPENBLAS_CORETYPE set when `betterCore()` names one (same arguments,
    /// environment otherwise unchanged). Call first thing in `main`; returns if there is nothing to do or
    /// the exec fails. BLASCORE_KEEP=1 keeps OpenBLAS's own choice (to compare).
    public static func reexecWithBetterCoreIfNeeded() {
        guard ProcessInfo.processInfo.environment["BLASCORE_KEEP"] != "1", let core = betterCore() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: carry on with the generic kernels
    }
}
