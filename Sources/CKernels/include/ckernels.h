// Decode-time kernels the engine compiles for several instruction sets and picks at run time.
//
// Swift code in this package builds for baseline x86-64 (SSE2, no FMA); forcing a newer target would
// make the binary refuse older CPUs. These C kernels are compiled three times (AVX-512, AVX2+FMA,
// baseline) and dispatched once per process on the CPU's features.
#ifndef CKERNELS_H
#define CKERNELS_H

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

#ifdef __cplusplus
}
#endif

#endif
