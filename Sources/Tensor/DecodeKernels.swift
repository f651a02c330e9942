import CKernels

/// The engine's own few-row kernels (Sources/CKernels), compiled per instruction set and chosen at run time.
public enum DecodeKernels {
    /// Instruction set of the variant in use: "avx512", "avx2" or "baseline".
    public static var isa: String { name(ck_current_isa()) }

    /// Every variant, best first.
    static let all = [CK_ISA_AVX512, CK_ISA_AVX2, CK_ISA_BASELINE]

    /// Variants this CPU can run, best first.
    public static var supported: [String] { all.filter { ck_isa_supported($0) != 0 }.map(name) }

    /// Uses variant `isa` from now on (tests compare them); returns false when the CPU cannot run it.
    @discardableResult
    public static func use(_ isa: String) -> Bool {
        guard let v = all.first(where: { name($0) == isa }), ck_isa_supported(v) != 0 else { return false }
        ck_set_isa(v)
        return true
    }

    static func name(_ isa: ck_isa) -> String {
        switch isa {
        case CK_ISA_AVX512: return "avx512"
        case CK_ISA_AVX2: return "avx2"
        default: return "baseline"
        }
    }
}

/// out (N, O) = inp (N, I) @ weight (O, I)^T for a few rows (decoding) without GEMM packing: every
/// weight row is dotted with all input rows while it sits in L1, so weights stream through once.
/// Output columns are split across the cores (CKernels' spinning pool). At 32 rows this ran 1.2-2x
/// faster than OpenBLAS's sgemm, which packs the whole weight matrix on every call (benchmarks/README.md).
public func matmulFewRows(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
                          _ weight: UnsafePointer<Float>, n: Int, inC: Int, outC: Int) {
    guard n > 0, outC > 0 else { return }
    let threads = n * inC * outC < 1 << 17 ? 1 : Threads.count  // below ~0.1 ms of work one core is faster
    ck_gemm_nt_parallel(Int32(n), Int32(inC), inp, Int32(inC), weight, Int32(inC), out, Int32(outC), Int32(outC),
                        Int32(threads))
}

/// One query group of decode attention (`AttendItem`), for `attendDecode`.
public typealias AttendItem = ck_attend_item

extension AttendItem {
    /// `rep` heads of q (rows `hd` apart) against `n` cached keys and values (rows `stride` apart);
    /// probabilities into att (rep rows), outputs into y (rep, hd).
    public init(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, stride: Int, n: Int,
                att: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        self.init(q: q, k: k, v: v, att: att, y: y, stride: Int32(stride), n: Int32(n))
    }
}

/// Decode attention for every item: softmax(scale q K^T) V per head of each group, items split across
/// the cores. Heads per group `rep`, head size `hd`, and the row stride of att (`ldAtt`) are shared.
public func attendDecode(_ items: [AttendItem], hd: Int, rep: Int, scale: Float, ldAtt: Int) {
    let work = items.reduce(0) { $0 + Int($1.n) } * rep * hd
    let threads = work < 1 << 16 ? 1 : Threads.count  // too little work to wake a second core
    items.withUnsafeBufferPointer {
        ck_attend_decode_many($0.baseAddress, Int32(items.count), Int32(hd), Int32(rep), scale, Int32(ldAtt),
                              Int32(threads))
    }
}
