// bfloat16 GEMM: fp32 operands rounded to bf16 (round to nearest even) while packing, products summed
// in fp32, fp32 result. Three kernels over one packed layout: AMX tiles (tdpbf16ps), AVX-512 BF16
// (vdpbf16ps) and its emulation with AVX2 + FMA (bf16_avx2.c: the bits the SDM defines for vdpbf16ps, for
// CPUs without bf16 instructions). Compiled with per-function target attributes and used only when cpuid (and, for AMX,
// the kernel's permission) says the CPU runs them; see include/ckernels.h.
#include "bf16_internal.h"
#include "ckernels.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif

// Packed layout (both operands, K padded to a multiple of 32 with zeros):
//  A tile (mb, ks): 16 rows x 32 bf16, row r holding op(A)(16 mb + r, 32 ks + 0..31)        (AMX "A")
//  B tile (nb, ks): 16 pair-rows x 16 columns x 2 bf16, [pr][c][e] = op(B)(32 ks + 2 pr + e, 16 nb + c)
//                   (AMX "B", VNNI order; one pair-row is one zmm for vdpbf16ps)
// Tiles of one block row lie consecutively over ks, 1 KiB each. M is padded to 32 rows, N to 32 columns,
// so every kernel call computes a 32 x 32 block.
size_t ck_bf16_packed_size(int rows, int k) { return (size_t)ceil_to(rows, 32) * ceil_to(k, KSTEP); }

static int kernel_choice = -1;  // ck_bf16_kernel, chosen once (same value from any thread)

#if defined(__x86_64__)
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define AMX_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16,amx-tile,amx-bf16")))

static int cpu_has_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bf16");
}

/// AMX needs the CPU's amx-bf16 and, on Linux, the process's permission for the 8 KiB tile state
/// (arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA); a kernel without it faults on first use.
static int amx_permitted(void) {
    if (!cpu_has_bf16() || !__builtin_cpu_supports("amx-tile") || !__builtin_cpu_supports("amx-bf16")) return 0;
#if defined(__linux__)
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XFEATURE_XTILEDATA */) == 0;
#else
    return 0;
#endif
}

static int amx_ok = -1;

int ck_bf16_supported(ck_bf16_kernel kernel) {
    switch (kernel) {
    case CK_BF16_AVX2: return ck_bf16_avx2_supported();
    case CK_BF16_AVX512: return cpu_has_bf16();
    case CK_BF16_AMX:
        if (__atomic_load_n(&amx_ok, __ATOMIC_RELAXED) < 0) __atomic_store_n(&amx_ok, amx_permitted(), __ATOMIC_RELAXED);
        return __atomic_load_n(&amx_ok, __ATOMIC_RELAXED);
    default: return 0;
    }
}
#else
int ck_bf16_supported(ck_bf16_kernel kernel) { (void)kernel; return 0; }
#endif

static ck_bf16_kernel best_bf16(void) {
    const char *env = getenv("CKERNELS_BF16");  // "avx512" caps the choice below AMX, "avx2" below AVX-512 BF16
    int noAMX = env && (strcmp(env, "avx512") == 0 || strcmp(env, "avx2") == 0), onlyAVX2 = env && strcmp(env, "avx2") == 0;
    if (!noAMX && ck_bf16_supported(CK_BF16_AMX)) return CK_BF16_AMX;
    if (!onlyAVX2 && ck_bf16_supported(CK_BF16_AVX512)) return CK_BF16_AVX512;
    if (ck_bf16_supported(CK_BF16_AVX2)) return CK_BF16_AVX2;
    return CK_BF16_NONE;
}

ck_bf16_kernel ck_bf16_current(void) {
    int k = __atomic_load_n(&kernel_choice, __ATOMIC_RELAXED);
    if (k < 0) {
        k = best_bf16();
        __atomic_store_n(&kernel_choice, k, __ATOMIC_RELAXED);
    }
    return (ck_bf16_kernel)k;
}

ck_bf16_kernel ck_bf16_set(ck_bf16_kernel kernel) {
    if (ck_bf16_supported(kernel)) __atomic_store_n(&kernel_choice, (int)kernel, __ATOMIC_RELAXED);
    return ck_bf16_current();
}

unsigned short ck_bf16_round(float x) {  // VCVTNE2PS2BF16's conversion (Intel SDM)
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffff) > 0x7f800000) return (uint16_t)((u >> 16) | 0x40);  // NaN stays a (quiet) NaN
    if ((u & 0x7f800000) == 0) return (uint16_t)((u >> 16) & 0x8000);        // zero and denormals: signed zero
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);               // round to nearest, ties to even
}

/// Scalar packing for strides the vector paths do not cover and for partial tiles of the AVX2 path.
void ck_bf16_pack_tile_scalar(const float *x, long rs, long cs, int rows, int k, int i0, int k0, int pairRows,
                              uint16_t *dst) {
    for (int r = 0; r < 16; r++)
        for (int kk = 0; kk < KSTEP; kk++) {
            int i = i0 + r, kv = k0 + kk;
            uint16_t b = i < rows && kv < k ? ck_bf16_round(x[(long)i * rs + (long)kv * cs]) : 0;
            dst[pairRows ? (kk / 2) * 32 + r * 2 + (kk & 1) : r * 32 + kk] = b;
        }
}

#if defined(__x86_64__)
// ---------------------------------------------------------------------------------------------------
// Packing. op(X)(i, k) = x[i * rs + k * cs]: rows i of the packed operand (M for A, N for B), k along K.

/// 16 x 16 transpose of 32-bit lanes, in place.
static inline BF16_TARGET void transpose16(__m512i r[16]) {
    __m512i t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_epi32(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_epi32(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4)
        for (int h = 0; h < 2; h++) {
            r[i + h] = _mm512_unpacklo_epi64(t[i + h], t[i + h + 2]);
            r[i + h + 2] = _mm512_unpackhi_epi64(t[i + h], t[i + h + 2]);
        }
    // r[4g + s] lane L holds column 4L + col[s] of rows 4g..4g+3 (the unpacks interleave columns 1 and 2).
    static const int col[4] = {0, 2, 1, 3};
    for (int s = 0; s < 4; s++) {
        __m512i a = r[s], b = r[s + 4], c = r[s + 8], d = r[s + 12];
        int i = col[s];
        __m512i ab0 = _mm512_shuffle_i32x4(a, b, 0x88), ab1 = _mm512_shuffle_i32x4(a, b, 0xdd);
        __m512i cd0 = _mm512_shuffle_i32x4(c, d, 0x88), cd1 = _mm512_shuffle_i32x4(c, d, 0xdd);
        t[i] = _mm512_shuffle_i32x4(ab0, cd0, 0x88);
        t[i + 8] = _mm512_shuffle_i32x4(ab0, cd0, 0xdd);
        t[i + 4] = _mm512_shuffle_i32x4(ab1, cd1, 0x88);
        t[i + 12] = _mm512_shuffle_i32x4(ab1, cd1, 0xdd);
    }
    for (int i = 0; i < 16; i++) r[i] = t[i];
}

/// 32 floats (k0..k31) -> 16 bf16 pairs (k0,k1), (k2,k3), ... as 32-bit lanes; `n` < 32 reads fewer, zeros after.
static inline BF16_TARGET __m512i pairs32(const float *p, int n) {
    __m512 lo, hi;
    if (n >= 32) {
        lo = _mm512_loadu_ps(p);
        hi = _mm512_loadu_ps(p + 16);
    } else {
        lo = _mm512_maskz_loadu_ps(n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1), p);
        hi = n > 16 ? _mm512_maskz_loadu_ps((__mmask16)((1u << (n - 16)) - 1), p + 16) : _mm512_setzero_ps();
    }
    return (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
}

/// Two rows of 16 floats (k, k + 1) -> 16 pairs (row0[c], row1[c]); NULL rows read as zeros; n columns.
static inline BF16_TARGET __m512i interleave16(const float *r0, const float *r1, int n) {
    __mmask16 m = n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1);
    __m512 a = r0 ? _mm512_maskz_loadu_ps(m, r0) : _mm512_setzero_ps();
    __m512 b = r1 ? _mm512_maskz_loadu_ps(m, r1) : _mm512_setzero_ps();
    __m512i both = (__m512i)_mm512_cvtne2ps_pbh(b, a);  // a's 16 bf16, then b's
    const __m512i idx = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                                         21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    return _mm512_permutexvar_epi16(idx, both);
}

/// Tile rows `v[0..15]` each holding 16 pairs of one packed row (A) or of one pair-row (B).
/// kRowsContiguous: x's k runs along memory (cs == 1); otherwise rows do (rs == 1).
/// pairRows: the tile's 32-bit lane (row, column) order is [pair][row] (B) instead of [row][pair] (A).
static BF16_TARGET void pack_tile(const float *x, long rs, long cs, int rows, int k, int i0, int k0,
                                  int pairRows, uint16_t *dst) {
    __m512i v[16];
    int nk = k - k0 < KSTEP ? k - k0 : KSTEP, ni = rows - i0 < 16 ? rows - i0 : 16;
    if (cs == 1) {  // row i's 32 k values are contiguous: v[r] = pairs of packed row r
        for (int r = 0; r < 16; r++)
            v[r] = r < ni ? pairs32(x + (long)(i0 + r) * rs + k0, nk) : _mm512_setzero_si512();
        if (pairRows) transpose16(v);
    } else {  // 16 consecutive i at each k: v[p] = pair p over the 16 rows
        for (int p = 0; p < 16; p++) {
            int ka = k0 + 2 * p, kb = ka + 1;
            v[p] = interleave16(ka < k ? x + (long)ka * cs + i0 : NULL, kb < k ? x + (long)kb * cs + i0 : NULL, ni);
        }
        if (!pairRows) transpose16(v);
    }
    for (int r = 0; r < 16; r++) _mm512_storeu_si512(dst + r * 32, v[r]);
}

typedef struct {
    const float *x;
    long rs, cs;
    int rows, k, pairRows, avx2;
    uint16_t *dst;
} pack_job;

static void pack_task(void *p, int blk) {  // one block of 16 rows, every k step
    const pack_job *j = p;
    int ksteps = ceil_to(j->k, KSTEP) / KSTEP;
    for (int ks = 0; ks < ksteps; ks++) {
        uint16_t *dst = j->dst + ((long)blk * ksteps + ks) * TILE;
        if (blk * 16 >= j->rows) memset(dst, 0, TILE * 2);
        else if (j->avx2) ck_bf16_avx2_pack_tile(j->x, j->rs, j->cs, j->rows, j->k, blk * 16, ks * KSTEP, j->pairRows, dst);
        else if (j->cs == 1 || j->rs == 1) pack_tile(j->x, j->rs, j->cs, j->rows, j->k, blk * 16, ks * KSTEP, j->pairRows, dst);
        else ck_bf16_pack_tile_scalar(j->x, j->rs, j->cs, j->rows, j->k, blk * 16, ks * KSTEP, j->pairRows, dst);
    }
}

static void pack(const float *x, long rs, long cs, int rows, int k, int pairRows, uint16_t *dst, int threads) {
    pack_job job = {x, rs, cs, rows, k, pairRows, ck_bf16_current() == CK_BF16_AVX2, dst};
    ck_parallel(ceil_to(rows, 32) / 16, threads, pack_task, &job);
}
#endif

void ck_bf16_pack_a(int transA, int m, int k, const float *a, int lda, unsigned short *packed, int threads) {
#if defined(__x86_64__)
    pack(a, transA ? 1 : lda, transA ? lda : 1, m, k, 0, packed, threads);
#endif
}

void ck_bf16_pack_b(int transB, int k, int n, const float *b, int ldb, unsigned short *packed, int threads) {
#if defined(__x86_64__)
    pack(b, transB ? ldb : 1, transB ? 1 : ldb, n, k, 1, packed, threads);
#endif
}

#if defined(__x86_64__)
// ---------------------------------------------------------------------------------------------------
// Kernels: acc (32 x 32, row-major) = the block's A rows . B columns over every k step.

/// Rows r0..r0+7 of A tile block `pa` against the two B tile blocks `pb0`, `pb1`.
static inline __attribute__((always_inline)) BF16_TARGET void dp_8x32(const uint16_t *pa, const uint16_t *pb0,
                                                                      const uint16_t *pb1, int ksteps, float *acc) {
    __m512 c[8][2];
    for (int i = 0; i < 8; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int ks = 0; ks < ksteps; ks++, pa += TILE, pb0 += TILE, pb1 += TILE)
        for (int p = 0; p < 16; p++) {
            __m512bh b0 = (__m512bh)_mm512_loadu_si512(pb0 + p * 32), b1 = (__m512bh)_mm512_loadu_si512(pb1 + p * 32);
            for (int i = 0; i < 8; i++) {
                int32_t pair;
                memcpy(&pair, pa + i * 32 + p * 2, 4);
                __m512bh ai = (__m512bh)_mm512_set1_epi32(pair);
                c[i][0] = _mm512_dpbf16_ps(c[i][0], ai, b0);
                c[i][1] = _mm512_dpbf16_ps(c[i][1], ai, b1);
            }
        }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(acc + i * 32, c[i][0]);
        _mm512_storeu_ps(acc + i * 32 + 16, c[i][1]);
    }
}

static BF16_TARGET void block_avx512(const uint16_t *pa, const uint16_t *pb, int ksteps, int mrows, float *acc) {
    long blk = (long)ksteps * TILE;  // one 16-row (or 16-column) block's tiles
    for (int half = 0; half < 4 && half * 8 < mrows; half++) {  // rows 0-7, 8-15 of tile 0, then of tile 1
        const uint16_t *rows = pa + (half / 2) * blk + (half % 2) * 8 * 32;
        dp_8x32(rows, pb, pb + blk, ksteps, acc + half * 8 * 32);
    }
}

typedef struct __attribute__((packed)) {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/// Palette 1, tiles 0-7 each 16 rows x 64 bytes: C in 0-3, A in 4-5, B in 6-7.
static AMX_TARGET void amx_configure(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) { cfg.colsb[t] = 64; cfg.rows[t] = 16; }
    _tile_loadconfig(&cfg);
}

static AMX_TARGET void block_amx(const uint16_t *pa, const uint16_t *pb, int ksteps, float *acc) {
    long blk = (long)ksteps * TILE;
    _tile_zero(0); _tile_zero(1); _tile_zero(2); _tile_zero(3);
    for (int ks = 0; ks < ksteps; ks++) {
        _tile_loadd(4, pa + ks * TILE, 64);
        _tile_loadd(5, pa + blk + ks * TILE, 64);
        _tile_loadd(6, pb + ks * TILE, 64);
        _tile_loadd(7, pb + blk + ks * TILE, 64);
        _tile_dpbf16ps(0, 4, 6);
        _tile_dpbf16ps(1, 4, 7);
        _tile_dpbf16ps(2, 5, 6);
        _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, acc, 128);
    _tile_stored(1, acc + 16, 128);
    _tile_stored(2, acc + 16 * 32, 128);
    _tile_stored(3, acc + 16 * 32 + 16, 128);
}

static AMX_TARGET void amx_release(void) { _tile_release(); }

// ---------------------------------------------------------------------------------------------------
// Driver: tasks of (row chunk, column chunk), each a loop of 32 x 32 blocks.

typedef struct {
    int m, n, ksteps, kernel, rowChunk, colChunk, colChunks;
    float alpha, beta;
    const uint16_t *pa, *pb;
    float *c;
    long ldc;
} gemm_job;

/// c (rows x cols of the block) = alpha acc + beta c; beta 0 never reads c (it may hold garbage). Baseline code
/// without contraction, so every kernel stores the same bits.
static void store_block(const gemm_job *j, const float *acc, int i0, int j0) {
#pragma clang fp contract(off)
    int rows = j->m - i0 < 32 ? j->m - i0 : 32, cols = j->n - j0 < 32 ? j->n - j0 : 32;
    for (int i = 0; i < rows; i++) {
        float *out = j->c + (long)(i0 + i) * j->ldc + j0;
        const float *a = acc + i * 32;
        if (j->beta == 0) for (int jj = 0; jj < cols; jj++) out[jj] = j->alpha * a[jj];
        else for (int jj = 0; jj < cols; jj++) out[jj] = j->alpha * a[jj] + j->beta * out[jj];
    }
}

static void gemm_task(void *p, int t) {
    const gemm_job *j = p;
    int r0 = (t / j->colChunks) * j->rowChunk, c0 = (t % j->colChunks) * j->colChunk;
    int r1 = r0 + j->rowChunk < j->m ? r0 + j->rowChunk : j->m, c1 = c0 + j->colChunk < j->n ? c0 + j->colChunk : j->n;
    long blk = (long)j->ksteps * TILE;
    float acc[32 * 32] __attribute__((aligned(64)));
    if (j->kernel == CK_BF16_AMX) amx_configure();
    for (int i0 = r0; i0 < r1; i0 += 32)
        for (int c = c0; c < c1; c += 32) {
            const uint16_t *pa = j->pa + (i0 / 16) * blk, *pb = j->pb + (c / 16) * blk;
            if (j->kernel == CK_BF16_AMX) block_amx(pa, pb, j->ksteps, acc);
            else if (j->kernel == CK_BF16_AVX2) ck_bf16_avx2_block(pa, pb, j->ksteps, j->m - i0, acc);
            else block_avx512(pa, pb, j->ksteps, j->m - i0, acc);
            store_block(j, acc, i0, c);
        }
    if (j->kernel == CK_BF16_AMX) amx_release();  // the 8 KiB tile state is not kept across context switches
}
#endif

void ck_bf16_gemm_packed(int m, int n, int k, float alpha, const uint16_t *pa, const uint16_t *pb, float beta,
                         float *c, int ldc, int threads) {
#if defined(__x86_64__)
    ck_bf16_kernel kernel = ck_bf16_current();
    if (kernel == CK_BF16_NONE || m <= 0 || n <= 0) return;
    int ksteps = ceil_to(k, KSTEP) / KSTEP;
    // A column chunk's B panels (colChunk x K bf16) should stay in L2 while the row chunk's A blocks pass.
    int colChunk = ceil_to(n, 32) < 256 ? ceil_to(n, 32) : 256, rowChunk = 256;
    if (ksteps * KSTEP > 2048) colChunk = colChunk < 128 ? colChunk : 128;
    int colChunks = (n + colChunk - 1) / colChunk, rowChunks = (m + rowChunk - 1) / rowChunk;
    gemm_job job = {m, n, ksteps, kernel, rowChunk, colChunk, colChunks, alpha, beta, pa, pb, c, ldc};
    ck_parallel(rowChunks * colChunks, threads, gemm_task, &job);
#endif
}

/// Per-thread packing buffers, grown as needed and kept: fresh pages for every product cost more than
/// the packing itself.
static __thread uint16_t *scratch_buf;
static __thread size_t scratch_cap;

static uint16_t *scratch(size_t count) {
    if (count > scratch_cap) {
        free(scratch_buf);
        scratch_cap = count + count / 4;
        scratch_buf = aligned_alloc(64, (scratch_cap * 2 + 63) / 64 * 64);
        if (!scratch_buf) abort();
    }
    return scratch_buf;
}

void ck_sbgemm(int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda, const float *b,
               int ldb, float beta, float *c, int ldc, int threads) {
    if (m <= 0 || n <= 0) return;
    size_t sa = ck_bf16_packed_size(m, k);
    uint16_t *buf = scratch(sa + ck_bf16_packed_size(n, k));
    ck_bf16_pack_a(transA, m, k, a, lda, buf, threads);
    ck_bf16_pack_b(transB, k, n, b, ldb, buf + sa, threads);
    ck_bf16_gemm_packed(m, n, k, alpha, buf, buf + sa, beta, c, ldc, threads);
}

// ---------------------------------------------------------------------------------------------------
// bf16 decode panels: a weight matrix (or several stacked) packed once per `generate` call for few-row
// products out (m, n) = bf16(a) (m, k) . bf16(W)^T, the decoding step's products under precision bf16. Half
// the bytes of the fp32 panels, and a decoding step is bound by streaming its weights. Panel p holds rows
// 32 p .. 32 p + 31 as [pair kp][row j][e]: (W[j][2 kp], W[j][2 kp + 1]), two zmm per pair (rows 0-15, 16-31),
// K padded with a zero to even; each output sums its pairs in order on one thread, whatever m is.

size_t ck_bf16_panels_size(int rows, int k) { return (size_t)ceil_to(rows, PANEL) * ceil_to(k, 2); }

#if defined(__x86_64__)
/// Rows src[0..15] (NULL: zero rows), pairs kp0 .. kp0 + 15 of each, into `dst` ([kp][row], 64 bf16 apart).
static BF16_TARGET void pack_panel_half(const float *const *src, int k, int kp0, uint16_t *dst) {
    __m512i v[16];
    int k0 = 2 * kp0, nk = k - k0 < 32 ? k - k0 : 32;
    for (int j = 0; j < 16; j++) v[j] = src[j] ? pairs32(src[j] + k0, nk) : _mm512_setzero_si512();
    transpose16(v);  // v[kp] = the 16 rows' pairs at kp0 + kp
    int pairs = (nk + 1) / 2;
    for (int kp = 0; kp < pairs; kp++) _mm512_storeu_si512(dst + (long)(kp0 + kp) * 2 * PANEL, v[kp]);
}

typedef struct {
    const float *const *parts;
    const int *rows;
    int nparts, k, avx2;
    uint16_t *packed;
} panel_job;

static void panel_task(void *p, int panel) {
    const panel_job *j = p;
    const float *src[PANEL];
    int part = 0, first = 0;  // the part holding stacked row r starts at row `first`
    for (int i = 0; i < PANEL; i++) {
        int r = panel * PANEL + i;
        while (part < j->nparts && r >= first + j->rows[part]) first += j->rows[part++];
        src[i] = part < j->nparts ? j->parts[part] + (long)(r - first) * j->k : NULL;
    }
    int kpairs = (j->k + 1) / 2;
    uint16_t *dst = j->packed + (long)panel * kpairs * 2 * PANEL;
    if (j->avx2) {
        ck_bf16_avx2_pack_panel(src, j->k, dst);
        return;
    }
    for (int kp0 = 0; kp0 < kpairs; kp0 += 16) {
        pack_panel_half(src, j->k, kp0, dst);
        pack_panel_half(src + 16, j->k, kp0, dst + 32);
    }
}
#endif

void ck_bf16_pack_panels(const float *const *parts, const int *rows, int nparts, int k, unsigned short *packed,
                         int threads) {
#if defined(__x86_64__)
    panel_job job = {parts, rows, nparts, k, ck_bf16_current() == CK_BF16_AVX2, packed};
    int total = 0;
    for (int i = 0; i < nparts; i++) total += rows[i];
    ck_parallel((total + PANEL - 1) / PANEL, threads, panel_task, &job);
#endif
}

#if defined(__x86_64__)
/// MR rows of out against one panel: MR x 2 accumulators, one broadcast pair per row and pair index.
static inline __attribute__((always_inline)) BF16_TARGET void panel_tile(const int32_t *a, int kpairs,
                                                                         const uint16_t *panel, float *out, int ldo,
                                                                         int ncols, const int MR) {
    __m512 c[8][2];
    for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    for (int kp = 0; kp < kpairs; kp++) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(panel + (long)kp * 2 * PANEL);
        __m512bh w1 = (__m512bh)_mm512_loadu_si512(panel + (long)kp * 2 * PANEL + 32);
        for (int i = 0; i < MR; i++) {
            __m512bh x = (__m512bh)_mm512_set1_epi32(a[(long)i * kpairs + kp]);
            c[i][0] = _mm512_dpbf16_ps(c[i][0], x, w0);
            c[i][1] = _mm512_dpbf16_ps(c[i][1], x, w1);
        }
    }
    __mmask16 m0 = ncols >= 16 ? 0xffff : (__mmask16)((1u << ncols) - 1);
    __mmask16 m1 = ncols >= 32 ? 0xffff : ncols <= 16 ? 0 : (__mmask16)((1u << (ncols - 16)) - 1);
    for (int i = 0; i < MR; i++) {
        _mm512_mask_storeu_ps(out + (long)i * ldo, m0, c[i][0]);
        _mm512_mask_storeu_ps(out + (long)i * ldo + 16, m1, c[i][1]);
    }
}

typedef struct {
    int m, kpairs, n, ldo, avx2;
    const int32_t *a;  // (m, kpairs) bf16 pairs of the input rows
    const uint16_t *packed;
    float *out;
} panels_job;

static BF16_TARGET void panels_task(void *p, int t) {
    const panels_job *j = p;
    if (j->avx2) {
        for (int panel = 2 * t; panel < 2 * t + 2 && panel * PANEL < j->n; panel++) {
            int ncols = j->n - panel * PANEL < PANEL ? j->n - panel * PANEL : PANEL;
            ck_bf16_avx2_panel((const float *)j->a, j->m, j->kpairs, j->packed + (long)panel * j->kpairs * 2 * PANEL,
                               j->out + panel * PANEL, j->ldo, ncols);
        }
        return;
    }
    for (int panel = 2 * t; panel < 2 * t + 2 && panel * PANEL < j->n; panel++) {  // tasks of 64 columns
        const uint16_t *w = j->packed + (long)panel * j->kpairs * 2 * PANEL;
        int ncols = j->n - panel * PANEL < PANEL ? j->n - panel * PANEL : PANEL, i = 0;
        float *o = j->out + panel * PANEL;
        for (; i + 8 <= j->m; i += 8) panel_tile(j->a + (long)i * j->kpairs, j->kpairs, w, o + (long)i * j->ldo, j->ldo, ncols, 8);
        for (; i + 4 <= j->m; i += 4) panel_tile(j->a + (long)i * j->kpairs, j->kpairs, w, o + (long)i * j->ldo, j->ldo, ncols, 4);
        for (; i + 2 <= j->m; i += 2) panel_tile(j->a + (long)i * j->kpairs, j->kpairs, w, o + (long)i * j->ldo, j->ldo, ncols, 2);
        for (; i < j->m; i++) panel_tile(j->a + (long)i * j->kpairs, j->kpairs, w, o + (long)i * j->ldo, j->ldo, ncols, 1);
    }
}

/// Rows of a (m, k) rounded to bf16 pairs (k padded with a zero to even), as the panels' partner.
static BF16_TARGET void input_pairs(int m, int k, const float *a, int lda, int32_t *dst) {
    int kpairs = (k + 1) / 2;
    for (int i = 0; i < m; i++)
        for (int k0 = 0; k0 < k; k0 += 32) {
            int nk = k - k0 < 32 ? k - k0 : 32;
            __m512i v = pairs32(a + (long)i * lda + k0, nk);
            _mm512_mask_storeu_epi32(dst + (long)i * kpairs + k0 / 2, (__mmask16)((1u << ((nk + 1) / 2)) - 1), v);
        }
}
#endif

void ck_bf16_gemm_panels(int m, int k, const float *a, int lda, const unsigned short *packed, int n, float *out,
                         int ldo, int threads) {
#if defined(__x86_64__)
    ck_bf16_kernel kernel = ck_bf16_current();
    if (m <= 0 || n <= 0 || kernel == CK_BF16_NONE) return;
    int kpairs = (k + 1) / 2;
    int32_t *pairs = (int32_t *)scratch((size_t)m * kpairs * 4);  // the caller's thread packs, the pool only reads
    if (kernel == CK_BF16_AVX2) ck_bf16_avx2_input(m, k, a, lda, (float *)pairs);  // twice the room: floats
    else input_pairs(m, k, a, lda, pairs);
    panels_job job = {m, kpairs, n, ldo, kernel == CK_BF16_AVX2, pairs, packed, out};
    ck_parallel((n + 2 * PANEL - 1) / (2 * PANEL), threads, panels_task, &job);
#endif
}
