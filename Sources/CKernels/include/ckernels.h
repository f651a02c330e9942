// Decode-time kernels the engine compiles for several instruction sets and picks at run time.
//
// Swift code in this package builds for baseline x86-64 (SSE2, no FMA); forcing a newer target would
// make the binary refuse older CPUs. These C kernels are compiled three times (AVX-512, AVX2+FMA,
// baseline) and dispatched once per process on the CPU's features.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Instruction sets a kernel variant targets.
typedef enum {
    CK_ISA_BASELINE = 0,  ///< what the compiler targets by default (SSE2 on x86-64)
    CK_ISA_AVX2 = 1,      ///< AVX2 + FMA
    CK_ISA_AVX512 = 2,    ///< AVX-512 F
} ck_isa;

/// The variant in use: the best this CPU supports, unless CKERNELS_ISA (baseline|avx2|avx512) names a lower one.
ck_isa ck_current_isa(void);

/// Whether this CPU can run `isa`.
int ck_isa_supported(ck_isa isa);

/// Forces a variant (tests compare them); ignored when the CPU cannot run it. Returns the variant in use.
ck_isa ck_set_isa(ck_isa isa);

/// Panel width (weight rows per panel) the current variant packs for `ck_gemm_packed`: 32, 16 or 8.
int ck_panel_width(void);

/// Panel p of the matrix stacked from `nparts` row-major parts (parts[i] (rows[i], k)), packed for
/// `ck_gemm_packed`: packed[p k width + kk width + j] = row (p width + j) of the stack at column kk, zero
/// past its last row. width <= 64.
void ck_pack_panel(const float *const *parts, const int *rows, int nparts, int k, float *packed, int width, int p);

/// Every panel, split across `threads` threads.
void ck_pack_parallel(const float *const *parts, const int *rows, int nparts, int k, float *packed, int width,
                      int threads);

/// Panels [p0, p1) of out (m, n) = a (m, k) · W^T, with W (n, k) packed by ck_pack_panel at `width`.
/// An outer-product kernel (a broadcast input element times whole weight vectors): no horizontal sums,
/// and the panels stream sequentially.
void ck_gemm_packed(int m, int k, const float *a, int lda, const float *packed, int width, int n, float *out,
                    int ldo, int p0, int p1);

/// ck_gemm_packed over all panels, split across `threads` threads in tasks of 64 columns.
void ck_gemm_packed_parallel(int m, int k, const float *a, int lda, const float *packed, int width, int n, float *out,
                             int ldo, int threads);

/// One query group of decode attention: `rep` query heads (rows of q, `hd` apart) against `n`
/// cached keys and values (rows `stride` apart). att (rep, ldAtt) receives the probabilities,
/// y (rep, hd) the outputs.
void ck_attend_decode(const float *q, const float *k, const float *v, int stride, int n, int hd, int rep,
                      float scale, float *att, int ldAtt, float *y);

/// A unit of parallel work: task `i` of a job with context `ctx`.
typedef void (*ck_task)(void *ctx, int i);

/// Runs fn(ctx, i) for every i in [0, n) on up to `threads` threads, the caller's included, and returns
/// when all are done. Tasks are handed out one at a time. Helpers spin briefly between jobs, then sleep.
/// A call made while another is running (from another thread, or from inside a task) runs inline.
void ck_parallel(int n, int threads, ck_task fn, void *ctx);

/// One ck_attend_decode call's own arguments.
typedef struct {
    const float *q, *k, *v;
    float *att, *y;
    int stride, n;
} ck_attend_item;

/// ck_attend_decode for every item (shared hd, rep, scale, ldAtt), split across `threads` threads.
void ck_attend_decode_many(const ck_attend_item *items, int count, int hd, int rep, float scale, int ldAtt,
                           int threads);


// ---------------------------------------------------------------------------------------------------
// bfloat16 products (bf16.c, bf16_avx2.c): operands rounded to bf16 (round to nearest even) as they are
// packed, products summed in fp32, fp32 results. Each output element sums its k terms in one fixed order on
// one thread, so results do not depend on the thread count; they do depend on the kernel (AMX and
// AVX-512 BF16 group the fp32 sums differently; the AVX2 kernel follows AVX-512 BF16's definition exactly).

/// The bf16 kernels.
typedef enum {
    CK_BF16_NONE = 0,    ///< the CPU has no bf16 dot-product instructions
    CK_BF16_AVX512 = 1,  ///< AVX-512 BF16 (vdpbf16ps): Cooper Lake, Sapphire Rapids, Zen 4
    CK_BF16_AMX = 2,     ///< AMX tiles (tdpbf16ps): Sapphire Rapids and later, with the OS's permission
    CK_BF16_AVX2 = 3,    ///< AVX-512 BF16's conversions and sums emulated with AVX2 + FMA: any x86-64 since 2013
} ck_bf16_kernel;

/// Whether this CPU (and, for AMX, the kernel: arch_prctl ARCH_REQ_XCOMP_PERM) can run `kernel`.
int ck_bf16_supported(ck_bf16_kernel kernel);

/// The kernel in use: AMX where supported, else AVX-512 BF16, else AVX2, else none; CKERNELS_BF16=avx512 skips
/// AMX, CKERNELS_BF16=avx2 skips both.
ck_bf16_kernel ck_bf16_current(void);

/// Forces a kernel (tests and benchmarks compare them); ignored when unsupported. Returns the kernel in use.
ck_bf16_kernel ck_bf16_set(ck_bf16_kernel kernel);

/// x rounded to bf16 as VCVTNE2PS2BF16 rounds: to nearest with ties to even, denormals to signed zero, NaN
/// stays NaN. The bits of the packed operands.
unsigned short ck_bf16_round(float x);

/// bf16 values a packed operand of `rows` rows (M of A, N of B) and depth k takes.
size_t ck_bf16_packed_size(int rows, int k);

/// Packs op(A) (m, k): a is (m, k) with row stride lda, or (k, m) when transA.
void ck_bf16_pack_a(int transA, int m, int k, const float *a, int lda, unsigned short *packed, int threads);

/// Packs op(B) (k, n): b is (k, n) with row stride ldb, or (n, k) when transB (a weight in out = in W^T).
void ck_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, unsigned short *packed, int threads);

/// c (m, n) = alpha pa . pb + beta c (row-major, row stride ldc; beta 0 never reads c), from operands packed
/// by ck_bf16_pack_a and ck_bf16_pack_b, with the current kernel; does nothing where there is none.
void ck_bf16_gemm_packed(int m, int n, int k, float alpha, const unsigned short *pa, const unsigned short *pb,
                         float beta, float *c, int ldc, int threads);

/// cblas_sgemm's row-major product in bf16: packs both operands (into per-thread buffers kept for the next
/// call), then ck_bf16_gemm_packed.
void ck_sbgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
               int ldb, float beta, float *c, int ldc, int threads);

/// bf16 values of a (rows, k) matrix packed by ck_bf16_pack_panels (rows padded to 32, k to even).
size_t ck_bf16_panels_size(int rows, int k);

/// The matrix stacked from `nparts` row-major parts (parts[i] (rows[i], k)) rounded to bf16 into 32-row decode
/// panels for ck_bf16_gemm_panels, split across `threads` threads, with the current kernel's code (callers check
/// that there is one).
void ck_bf16_pack_panels(const float *const *parts, const int *rows, int nparts, int k, unsigned short *packed,
                         int threads);

/// out (m, n) = bf16(a) (m, k) . W^T with W (n, k) packed by ck_bf16_pack_panels: products summed in fp32,
/// each output's pairs in order on one thread (results do not depend on m or the thread count).
void ck_bf16_gemm_panels(int m, int k, const float *a, int lda, const unsigned short *packed, int n, float *out,
                         int ldo, int threads);

#ifdef __cplusplus
}
#endif

#endif
