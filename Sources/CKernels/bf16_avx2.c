// bfloat16 products on CPUs without bf16 instructions: the packed layouts of bf16.c, converted and summed
// with AVX2 + FMA exactly as VCVTNE2PS2BF16 and VDPBF16PS define it (Intel SDM), so a bf16 run gives
// the bits the SDM defines for the AVX-512 BF16 kernel (tested against that definition; against a real
// vdpbf16ps, within tolerance where a CPU has one: BF16EmulationTests). Why it meets the definition: a
// product of two bf16 values has at most 16 significant bits, so fp32 holds it exactly and fma(a, b, c) rounds once, as the instruction's
// accumulation does; the order per output (odd element of a pair, then even, pairs in k order) is the
// AVX-512 kernel's; MXCSR's DAZ and FTZ give its treatment of denormals. No bf16 arithmetic is faster
// here (the operands are widened to fp32 in registers); what halves is the bytes a decoding step reads.
#include "bf16_internal.h"
#include "ckernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>

int ck_bf16_avx2_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Everything below runs only where ck_bf16_avx2_supported() said yes.
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)

/// Sets MXCSR's FTZ (bit 15) and DAZ (bit 6) on this thread, VDPBF16PS's treatment of denormals, for the sums of
/// one kernel call only (the caller's own arithmetic, the block store included, runs as before); returns the
/// MXCSR to restore.
static unsigned flush_zero(void) {
    unsigned old = _mm_getcsr();
    _mm_setcsr(old | 0x8040);
    return old;
}

// ---------------------------------------------------------------------------------------------------
// Conversion and packing.

/// 8 floats -> their bf16 bits in the low half of each 32-bit lane, as ck_bf16_round.
static inline __m256i bf16_of8(__m256 x) {
    __m256i u = _mm256_castps_si256(x), hi = _mm256_srli_epi32(u, 16);
    __m256i bias = _mm256_add_epi32(_mm256_set1_epi32(0x7fff), _mm256_and_si256(hi, _mm256_set1_epi32(1)));
    __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(u, bias), 16);
    __m256i isnan = _mm256_cmpgt_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7fffffff)), _mm256_set1_epi32(0x7f800000));
    __m256i tiny = _mm256_cmpeq_epi32(_mm256_and_si256(u, _mm256_set1_epi32(0x7f800000)), _mm256_setzero_si256());
    __m256i r = _mm256_blendv_epi8(rounded, _mm256_or_si256(hi, _mm256_set1_epi32(0x40)), isnan);
    return _mm256_blendv_epi8(r, _mm256_and_si256(hi, _mm256_set1_epi32(0x8000)), tiny);
}

/// 16 consecutive floats -> 8 bf16 pairs (k0, k1), (k2, k3), ... as 32-bit lanes.
static inline __m256i pairs16(const float *p) {
    __m256i lo = bf16_of8(_mm256_loadu_ps(p)), hi = bf16_of8(_mm256_loadu_ps(p + 8));
    return _mm256_permute4x64_epi64(_mm256_packus_epi32(lo, hi), 0xd8);  // packus interleaves 128-bit halves
}

/// 8 floats of k (a) and of k + 1 (b) -> 8 pairs (a[c], b[c]).
static inline __m256i interleave8(const float *a, const float *b) {
    return _mm256_or_si256(bf16_of8(_mm256_loadu_ps(a)), _mm256_slli_epi32(bf16_of8(_mm256_loadu_ps(b)), 16));
}

/// 8 x 8 transpose of 32-bit lanes, in place.
static inline void transpose8(__m256i r[8]) {
    __m256 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(_mm256_castsi256_ps(r[i]), _mm256_castsi256_ps(r[i + 1]));
        t[i + 1] = _mm256_unpackhi_ps(_mm256_castsi256_ps(r[i]), _mm256_castsi256_ps(r[i + 1]));
    }
    for (int g = 0; g < 8; g += 4)
        for (int h = 0; h < 2; h++) {
            s[g + h * 2] = _mm256_shuffle_ps(t[g + h], t[g + h + 2], 0x44);
            s[g + h * 2 + 1] = _mm256_shuffle_ps(t[g + h], t[g + h + 2], 0xee);
        }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_castps_si256(_mm256_permute2f128_ps(s[i], s[i + 4], 0x20));
        r[i + 4] = _mm256_castps_si256(_mm256_permute2f128_ps(s[i], s[i + 4], 0x31));
    }
}

/// 16 x 16 transpose of 32-bit lanes held as v[row][half] (lanes 8 half .. 8 half + 7), in place.
static inline void transpose16(__m256i v[16][2]) {
    __m256i b[8];
    for (int bi = 0; bi < 2; bi++)
        for (int bj = 0; bj < 2; bj++) {
            if (bj < bi) continue;  // off-diagonal blocks are swapped together below
            for (int i = 0; i < 8; i++) b[i] = v[8 * bi + i][bj];
            transpose8(b);
            if (bi == bj) {
                for (int i = 0; i < 8; i++) v[8 * bi + i][bj] = b[i];
                continue;
            }
            __m256i o[8];
            for (int i = 0; i < 8; i++) o[i] = v[8 * bj + i][bi];
            transpose8(o);
            for (int i = 0; i < 8; i++) {
                v[8 * bj + i][bi] = b[i];
                v[8 * bi + i][bj] = o[i];
            }
        }
}

void ck_bf16_avx2_pack_tile(const float *x, long rs, long cs, int rows, int k, int i0, int k0, int pairRows,
                            uint16_t *dst) {
    if (rows - i0 < 16 || k - k0 < KSTEP || (cs != 1 && rs != 1)) {  // edges: element by element, same bits
        ck_bf16_pack_tile_scalar(x, rs, cs, rows, k, i0, k0, pairRows, dst);
        return;
    }
    __m256i v[16][2];
    if (cs == 1) {  // row i's k values are contiguous: v[r] = the pairs of packed row r
        for (int r = 0; r < 16; r++)
            for (int h = 0; h < 2; h++) v[r][h] = pairs16(x + (long)(i0 + r) * rs + k0 + 16 * h);
        if (pairRows) transpose16(v);
    } else {  // 16 consecutive i at each k: v[p] = pair p over the 16 rows
        for (int p = 0; p < 16; p++) {
            const float *a = x + (long)(k0 + 2 * p) * cs + i0;
            for (int h = 0; h < 2; h++) v[p][h] = interleave8(a + 8 * h, a + cs + 8 * h);
        }
        if (!pairRows) transpose16(v);
    }
    for (int r = 0; r < 16; r++)
        for (int h = 0; h < 2; h++) _mm256_storeu_si256((__m256i *)(dst + r * 32 + 16 * h), v[r][h]);
}

// ---------------------------------------------------------------------------------------------------
// The block kernel: acc (32 x 32, row-major) = the block's A rows . B columns over every k step.

/// The widened halves of 8 packed pairs: odd elements (the high 16 bits) and even ones, as fp32.
#define ODD(x) _mm256_castsi256_ps(_mm256_and_si256((x), _mm256_set1_epi32((int)0xffff0000)))
#define EVEN(x) _mm256_castsi256_ps(_mm256_slli_epi32((x), 16))

/// Rows 0-3 of the A tile rows at `pa` against the 16 columns of the B tile block `pb`: 4 x 2 accumulators.
static inline __attribute__((always_inline)) void dp_4x16(const uint16_t *pa, const uint16_t *pb,
                                                                      int ksteps, float *acc) {
    __m256 c[4][2];
    for (int i = 0; i < 4; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
    for (int ks = 0; ks < ksteps; ks++, pa += TILE, pb += TILE)
        for (int p = 0; p < 16; p++) {
            __m256i b0 = _mm256_loadu_si256((const __m256i *)(pb + p * 32));
            __m256i b1 = _mm256_loadu_si256((const __m256i *)(pb + p * 32 + 16));
            __m256 b0o = ODD(b0), b0e = EVEN(b0), b1o = ODD(b1), b1e = EVEN(b1);
            for (int i = 0; i < 4; i++) {
                int32_t pair;
                memcpy(&pair, pa + i * 32 + p * 2, 4);
                __m256i ai = _mm256_set1_epi32(pair);
                __m256 ao = ODD(ai), ae = EVEN(ai);
                c[i][0] = _mm256_fmadd_ps(ae, b0e, _mm256_fmadd_ps(ao, b0o, c[i][0]));
                c[i][1] = _mm256_fmadd_ps(ae, b1e, _mm256_fmadd_ps(ao, b1o, c[i][1]));
            }
        }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(acc + i * 32, c[i][0]);
        _mm256_storeu_ps(acc + i * 32 + 8, c[i][1]);
    }
}

void ck_bf16_avx2_block(const uint16_t *pa, const uint16_t *pb, int ksteps, int mrows, float *acc) {
    unsigned mxcsr = flush_zero();
    long blk = (long)ksteps * TILE;  // one 16-row (or 16-column) block's tiles
    for (int g = 0; g < 8 && g * 4 < mrows; g++) {  // rows 4g .. 4g + 3: A tile g / 4, its rows from 4 (g % 4)
        const uint16_t *rows = pa + (g / 4) * blk + (g % 4) * 4 * 32;
        for (int h = 0; h < 2; h++) dp_4x16(rows, pb + h * blk, ksteps, acc + g * 4 * 32 + 16 * h);
    }
    _mm_setcsr(mxcsr);
}

// ---------------------------------------------------------------------------------------------------
// Decode panels (layout in bf16.c: panel p = rows 32 p .. 32 p + 31 as [pair kp][row j][e]).

void ck_bf16_avx2_pack_panel(const float *const *src, int k, uint16_t *dst) {
    int kpairs = (k + 1) / 2;
    for (int kp0 = 0; kp0 < kpairs; kp0 += 8)
        for (int g = 0; g < 4; g++) {  // rows 8g .. 8g + 7
            if (2 * kp0 + 16 <= k) {
                __m256i v[8];
                for (int j = 0; j < 8; j++) v[j] = src[8 * g + j] ? pairs16(src[8 * g + j] + 2 * kp0) : _mm256_setzero_si256();
                transpose8(v);  // v[kp] = the 8 rows' pairs at kp0 + kp
                for (int kp = 0; kp < 8; kp++)
                    _mm256_storeu_si256((__m256i *)(dst + (long)(kp0 + kp) * 2 * PANEL + 16 * g), v[kp]);
                continue;
            }
            for (int kp = kp0; kp < kpairs; kp++)  // the last pairs of k
                for (int j = 0; j < 8; j++) {
                    const float *row = src[8 * g + j];
                    uint16_t *d = dst + (long)kp * 2 * PANEL + (8 * g + j) * 2;
                    d[0] = row ? ck_bf16_round(row[2 * kp]) : 0;
                    d[1] = row && 2 * kp + 1 < k ? ck_bf16_round(row[2 * kp + 1]) : 0;
                }
        }
}

/// The input rows rounded to bf16 but kept as floats (k padded to even with a zero): the kernel broadcasts each
/// straight from memory, leaving the vector ALUs to the weights' widening.
void ck_bf16_avx2_input(int m, int k, const float *a, int lda, float *dst) {
    int kp2 = (k + 1) / 2 * 2;
    for (int i = 0; i < m; i++) {
        const float *row = a + (long)i * lda;
        float *d = dst + (long)i * kp2;
        int kk = 0;
        for (; kk + 8 <= k; kk += 8)
            _mm256_storeu_ps(d + kk, _mm256_castsi256_ps(_mm256_slli_epi32(bf16_of8(_mm256_loadu_ps(row + kk)), 16)));
        for (; kk < kp2; kk++) {
            uint32_t bits = kk < k ? (uint32_t)ck_bf16_round(row[kk]) << 16 : 0;
            memcpy(d + kk, &bits, 4);
        }
    }
}

/// MR rows of out against NV vectors (8 columns each) of a panel from vector v0: MR x NV accumulators.
static inline __attribute__((always_inline)) void panel_tile(const float *a, int kpairs, const uint16_t *panel, int v0,
                                                             float *out, int ldo, int ncols, const int MR, const int NV) {
    __m256 c[8][4];
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) c[i][v] = _mm256_setzero_ps();
    const float *ai = a;
    for (int kp = 0; kp < kpairs; kp++, ai += 2) {
        const uint16_t *w = panel + (long)kp * 2 * PANEL + 16 * v0;
        __m256 wo[4], we[4];
        for (int v = 0; v < NV; v++) {
            __m256i x = _mm256_loadu_si256((const __m256i *)(w + 16 * v));
            wo[v] = ODD(x);
            we[v] = EVEN(x);
        }
        for (int i = 0; i < MR; i++) {
            __m256 ao = _mm256_broadcast_ss(ai + (long)i * 2 * kpairs + 1);
            for (int v = 0; v < NV; v++) c[i][v] = _mm256_fmadd_ps(ao, wo[v], c[i][v]);
        }
        for (int i = 0; i < MR; i++) {
            __m256 ae = _mm256_broadcast_ss(ai + (long)i * 2 * kpairs);
            for (int v = 0; v < NV; v++) c[i][v] = _mm256_fmadd_ps(ae, we[v], c[i][v]);
        }
    }
    for (int v = 0; v < NV; v++) {
        int col = 8 * (v0 + v);
        for (int i = 0; i < MR && col < ncols; i++) {
            if (col + 8 <= ncols) { _mm256_storeu_ps(out + (long)i * ldo + col, c[i][v]); continue; }
            float t[8];
            _mm256_storeu_ps(t, c[i][v]);
            memcpy(out + (long)i * ldo + col, t, sizeof(float) * (size_t)(ncols - col));
        }
    }
}

void ck_bf16_avx2_panel(const float *a, int m, int kpairs, const uint16_t *panel, float *out, int ldo, int ncols) {
    unsigned mxcsr = flush_zero();
    if (m == 1) {  // the whole panel in one pass: the step is bound by streaming it
        panel_tile(a, kpairs, panel, 0, out, ldo, ncols, 1, 4);
    } else {
        long lda = 2L * kpairs;
        for (int v = 0; v < 4 && 8 * v < ncols; v++) {  // one vector of 8 columns at a time: 8 rows x 1 vector,
            int i = 0;                                  // the other passes over the panel come from cache
            for (; i + 8 <= m; i += 8) panel_tile(a + i * lda, kpairs, panel, v, out + (long)i * ldo, ldo, ncols, 8, 1);
            for (; i + 4 <= m; i += 4) panel_tile(a + i * lda, kpairs, panel, v, out + (long)i * ldo, ldo, ncols, 4, 1);
            for (; i + 2 <= m; i += 2) panel_tile(a + i * lda, kpairs, panel, v, out + (long)i * ldo, ldo, ncols, 2, 1);
            for (; i < m; i++) panel_tile(a + i * lda, kpairs, panel, v, out + (long)i * ldo, ldo, ncols, 1, 1);
        }
    }
    _mm_setcsr(mxcsr);
}
#pragma clang attribute pop
#endif
