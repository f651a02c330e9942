import COpenBLAS
import Foundation

/// OpenBLAS's kernel choice, pinned so that a node computes the same numbers on every CPU with the same
/// instruction set. Debian's OpenBLAS 0.3.21 (DYNAMIC_ARCH) picks its kernels per CPU model: generic
/// SSE3 "Prescott" kernels on the virtual Xeons it does not know (1024^3 sgemm at 2 threads ~45 GFLOP/s
/// against ~210 with the AVX-512 SkylakeX kernels), and "Cooperlake" on an AMD EPYC with avx512_bf16,
/// whose sgemm blocks differently: the quickstart's DPO came out 2.500 there and 2.420 with SkylakeX, the
/// kernels every Result in Results/ was computed with. The core is chosen when the library loads, from
/// OPENBLAS_CORETYPE, so an executable pins it by re-executing itself with that variable set before doing
/// any work: SkylakeX wherever AVX-512 F/BW/VL/DQ/CD are present, Haswell wherever AVX2 + FMA are.
/// Between those two sets the sums still differ (the quickstart: 0.830 / 2.490 / 1.820 with Haswell), so
/// every node records the set it was computed with (`hostFacts`, node.json's `host`).
public enum BLASCore {
    /// The kernel set OpenBLAS chose (e.g. "Haswell", "SkylakeX", "Prescott").
    public static var name: String { String(cString: openblas_get_corename()) }

    /// The kernel set PrefLab pins for this CPU's instruction set, from /proc/cpuinfo flags; nil where
    /// neither AVX2 + FMA nor AVX-512 is present (OpenBLAS's own choice then stands).
    public static func pinnedCore(cpuFlags: Set<String>? = cpuFlags()) -> String? {
        guard let flags = cpuFlags else { return nil }
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// The flags line of /proc/cpuinfo; nil where there is none.
    public static func cpuFlags() -> Set<String>? {
        cpuInfoLine("flags").map { Set($0.split(separator: " ").map(String.init)) }
    }

    /// The first /proc/cpuinfo line starting with `key`; nil where there is none.
    static func cpuInfoLine(_ key: String) -> Substring? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        return info.split(separator: "\n").first { $0.hasPrefix(key) }
    }

    /// The core to re-execute with: the pinned one when OpenBLAS chose another and OPENBLAS_CORETYPE is unset.
    public static func coreToPin() -> String? {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil, let core = pinnedCore(),
              core.lowercased() != name.lowercased() else { return nil }
        return core
    }

    /// What a node's numbers depend on here, for its node.json (`Executor.host`): the kernel set in use, the
    /// bf16 kernel a `precision: bf16` stage runs with (AMX sums otherwise than the AVX-512 BF16 and AVX2 ones),
    /// and the CPU's model name.
    public static func hostFacts() -> [String: String] {
        var facts = ["blas_core": name]
        if let kernel = BF16Kernels.kernel { facts["bf16_kernel"] = kernel }
        if let model = cpuInfoLine("model name")?.split(separator: ":", maxSplits: 1).last {
            facts["cpu"] = model.trimmingCharacters(in: .whitespaces)
        }
        return facts
    }

    /// Re-executes this process with OPENBLAS_CORETYPE set when `coreToPin()` names a core (same arguments,
    /// environment otherwise unchanged). Call first thing in `main`; returns if there is nothing to do or
    /// the exec fails. BLASCORE_KEEP=1 keeps OpenBLAS's own choice (to compare; numbers may then differ).
    public static func reexecWithPinnedCoreIfNeeded() {
        guard ProcessInfo.processInfo.environment["BLASCORE_KEEP"] != "1", let core = coreToPin() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        execv("/proc/self/exe", CommandLine.unsafeArgv)
        unsetenv("OPENBLAS_CORETYPE")  // exec failed: carry on with OpenBLAS's own choice
    }
}
