import CKernels
import COpenBLAS

/// The number format of the engine's matrix products. Parameters, gradients, optimiser state and every
/// other operation stay Float32 either way.
public enum Precision: String, Sendable, CaseIterable {
    /// Float32 products (OpenBLAS sgemm): the engine's results as they always were.
    case fp32
    /// bfloat16 products: both operands rounded to bf16 (to nearest, ties to even), sums in Float32
    /// (CKernels' AMX or AVX-512 BF16 kernels, or AVX-512 BF16's arithmetic emulated with AVX2 + FMA).
    case bf16
}

/// CKernels' bfloat16 products: which kernel this CPU runs, and a switch for tests and benchmarks.
public enum BF16Kernels {
    /// Every kernel, fastest first.
    static let all = [CK_BF16_AMX, CK_BF16_AVX512, CK_BF16_AVX2]

    /// The kernel in use: "amx", "avx512", "avx2" (AVX-512 BF16's results as the SDM defines them, from AVX2 + FMA: no faster
    /// products, half the bytes per decoding step), or nil where the CPU has none of them.
    public static var kernel: String? { name(ck_bf16_current()) }

    /// Whether `Precision.bf16` can run here.
    public static var available: Bool { kernel != nil }

    /// Kernels this CPU can run, fastest first.
    public static var supported: [String] { all.filter { ck_bf16_supported($0) != 0 }.compactMap(name) }

    /// Uses kernel `name` from now on; false when the CPU cannot run it.
    @discardableResult
    public static func use(_ kernel: String) -> Bool {
        guard let k = all.first(where: { name($0) == kernel }), ck_bf16_supported(k) != 0 else { return false }
        ck_bf16_set(k)
        return true
    }

    /// Why `Precision.bf16` cannot run here (nil where it can): for errors and skipped tests.
    public static var unavailableReason: String? {
        available ? nil : "this CPU has neither AVX-512 BF16 nor AVX2 + FMA, one of which precision bf16 needs"
    }

    /// x rounded to bfloat16 as the kernels round their operands, returned as a Float.
    public static func round(_ x: Float) -> Float { Float(bitPattern: UInt32(ck_bf16_round(x)) << 16) }

    static func name(_ k: ck_bf16_kernel) -> String? {
        switch k {
        case CK_BF16_AMX: return "amx"
        case CK_BF16_AVX512: return "avx512"
        case CK_BF16_AVX2: return "avx2"
        default: return nil
        }
    }
}

/// C (m, n) = alpha op(A) op(B) + beta C in `precision`, row-major with leading dimensions (cblas_sgemm's
/// arguments). bf16 on a CPU without it stops the process: callers check `BF16Kernels.available` first
/// (`LlamaModel.usePrecision` does).
@inline(__always)
public func gemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                 _ a: UnsafePointer<Float>, lda: Int, _ b: UnsafePointer<Float>, ldb: Int,
                 beta: Float, _ c: UnsafeMutablePointer<Float>, ldc: Int, precision: Precision = .fp32) {
    guard m > 0 && n > 0 else { return }
    switch precision {
    case .fp32:
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    case .bf16:
        precondition(BF16Kernels.available, BF16Kernels.unavailableReason ?? "")
        ck_sbgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb),
                  beta, c, Int32(ldc), Int32(Threads.count))
    }
}
