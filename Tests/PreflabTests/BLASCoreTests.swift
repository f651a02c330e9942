import Foundation
import Tensor
import XCTest

/// OpenBLAS's kernels are pinned per instruction set, so one node gives the same numbers on every CPU
/// that has it (an AMD EPYC's own "Cooperlake" choice moved the quickstart's DPO from 2.420 to 2.500).
final class BLASCoreTests: XCTestCase {
    func testTheInstructionSetDecidesTheCore() {
        let avx512: Set = ["avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"]
        XCTAssertEqual(BLASCore.pinnedCore(cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASCore.pinnedCore(cpuFlags: avx512.union(["avx512_bf16", "amx_tile"])), "SkylakeX")
        XCTAssertEqual(BLASCore.pinnedCore(cpuFlags: ["avx2", "fma", "avx512f"]), "Haswell", "partial AVX-512 is not SkylakeX")
        XCTAssertNil(BLASCore.pinnedCore(cpuFlags: ["sse2", "avx"]))
        XCTAssertNil(BLASCore.pinnedCore(cpuFlags: nil))
    }

    func testThePreflabBinaryRunsOnThePinnedCore() throws {
        guard let core = BLASCore.pinnedCore() else { throw XCTSkip("no AVX2/AVX-512 here: OpenBLAS's own choice stands") }
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else {
            throw XCTSkip("OPENBLAS_CORETYPE is set for this test run, and the binary keeps it")
        }
        let dir = FileManager.default.temporaryDirectory
        // OPENBLAS_VERBOSE=2 makes the library print its core as it loads, in each process image.
        let out = try runPreflab(["--version"], in: dir, environment: ["OPENBLAS_VERBOSE": "2"])
        XCTAssertEqual(out.status, 0, out.stderr)
        let cores = (out.stdout + out.stderr).split(separator: "\n").filter { $0.hasPrefix("Core: ") }
        XCTAssertEqual(cores.last.map(String.init), "Core: \(core)", "\(cores)")
        let kept = try runPreflab(["--version"], in: dir, environment: ["OPENBLAS_VERBOSE": "2", "BLASCORE_KEEP": "1"])
        XCTAssertEqual(kept.status, 0, kept.stderr)
    }
}
