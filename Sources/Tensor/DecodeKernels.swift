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

/// A weight matrix, or several stacked, regrouped into CKernels' panels: packed once, then multiplied by
/// few-row inputs many times (every decoding step of one `generate` call). The outer-product kernel over
/// panels needs no horizontal sums and reads each thread's weights as one sequential stream. With weights
/// coming from memory (a d512 decoding step) it ran the step's products ~15 % faster than the unpacked
/// few-row kernel it replaced, which dotted each weight row with every input row (benchmarks/README.md).
public final class PackedMatrix {
    /// Output columns: the stacked parts' rows.
    public let rows: Int
    /// Input width (columns of every part).
    public let inC: Int
    /// fp32 panels of the current kernel variant, or (bf16) CKernels' 32-row bf16 pair panels, half the bytes:
    /// both operands rounded to bf16 and the products summed in fp32, as the model's bf16 GEMMs do.
    public let precision: Precision
    let width: Int
    let data: UnsafeMutableRawPointer  // fp32: (panels, inC, width) floats; bf16: ck_bf16_pack_panels' layout

    /// Room for a (rows, inC) matrix in `precision`'s panels (bf16 needs `BF16Kernels.available`); `pack` fills it.
    public init(rows: Int, inC: Int, precision: Precision = .fp32) {
        precondition(rows > 0 && inC > 0, "PackedMatrix: empty matrix")
        precondition(precision == .fp32 || BF16Kernels.available, BF16Kernels.unavailableReason ?? "")
        width = precision == .fp32 ? Int(ck_panel_width()) : 32
        self.rows = rows
        self.inC = inC
        self.precision = precision
        data = UnsafeMutableRawPointer(allocateAligned(Self.floats(rows: rows, inC: inC, precision: precision)))
    }

    /// Floats a (rows, inC) matrix takes in `precision`'s panels (rows padded to whole panels; bf16 values
    /// two to a float).
    public static func floats(rows: Int, inC: Int, precision: Precision = .fp32) -> Int {
        guard precision == .fp32 else { return (ck_bf16_panels_size(Int32(rows), Int32(inC)) + 1) / 2 }
        let width = Int(ck_panel_width())
        return (rows + width - 1) / width * inC * width
    }

    /// Packs the matrix stacked from `parts` (pointer to a row-major (r, inC) matrix, its r), which must
    /// add up to `rows`.
    public func pack(_ parts: [(UnsafePointer<Float>, Int)]) {
        precondition(parts.reduce(0) { $0 + $1.1 } == rows, "PackedMatrix: parts hold other than \(rows) rows")
        let pointers: [UnsafePointer<Float>?] = parts.map { $0.0 }, counts = parts.map { Int32($0.1) }
        switch precision {
        case .fp32:
            ck_pack_parallel(pointers, counts, Int32(parts.count), Int32(inC), data.assumingMemoryBound(to: Float.self),
                             Int32(width), Int32(Threads.count))
        case .bf16:
            ck_bf16_pack_panels(pointers, counts, Int32(parts.count), Int32(inC), data.assumingMemoryBound(to: UInt16.self),
                                Int32(Threads.count))
        }
    }

    deinit { data.deallocate() }

    /// out (n, rows) = inp (n, inC) · W^T, output columns split across the cores.
    public func multiply(_ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>, n: Int) {
        guard n > 0 else { return }
        let threads = n * inC * rows < 1 << 17 ? 1 : Threads.count  // below ~0.1 ms of work one core is faster
        switch precision {
        case .fp32:
            ck_gemm_packed_parallel(Int32(n), Int32(inC), inp, Int32(inC), data.assumingMemoryBound(to: Float.self), Int32(width),
                                    Int32(rows), out, Int32(rows), Int32(threads))
        case .bf16:
            ck_bf16_gemm_panels(Int32(n), Int32(inC), inp, Int32(inC), data.assumingMemoryBound(to: UInt16.self), Int32(rows), out,
                                Int32(rows), Int32(threads))
        }
    }
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
