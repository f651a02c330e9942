// Variant selection for the kernels in variant.inc (see include/ckernels.h for why).
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// a * b + c in one expression becomes one FMA where the target has it.
#pragma clang fp contract(fast)

#define CK_SUFFIX baseline
#define VW 4
#define PMR 6  // packed tiles 6 x 2 vectors: 12 accumulators of 16 registers
#define PNV 2
#include "variant.inc"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_SUFFIX avx2
#define VW 8
#define PMR 6
#define PNV 2
#include "variant.inc"
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#define CK_SUFFIX avx512
#define VW 16
#define PMR 8  // packed tiles 8 x 2 vectors (16 of 32 registers); 6, 10, 12 rows and 1, 3, 4 vectors
#define PNV 2  // measured 2-20 % slower over a d512 decoding step's products
#include "variant.inc"
#pragma clang attribute pop
#endif

int ck_isa_supported(ck_isa isa) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    switch (isa) {
    case CK_ISA_AVX512: return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma");
    case CK_ISA_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
#else
    return isa == CK_ISA_BASELINE;
#endif
}

static ck_isa best_isa(void) {
    ck_isa cap = CK_ISA_AVX512;
    const char *env = getenv("CKERNELS_ISA");
    if (env && strcmp(env, "baseline") == 0) cap = CK_ISA_BASELINE;
    if (env && strcmp(env, "avx2") == 0) cap = CK_ISA_AVX2;
    for (int isa = cap; isa > CK_ISA_BASELINE; isa--)
        if (ck_isa_supported((ck_isa)isa)) return (ck_isa)isa;
    return CK_ISA_BASELINE;
}

static int chosen = -1;  // written with the same value by whichever thread gets there first

ck_isa ck_current_isa(void) {
    int isa = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (isa < 0) {
        isa = best_isa();
        __atomic_store_n(&chosen, isa, __ATOMIC_RELAXED);
    }
    return (ck_isa)isa;
}

ck_isa ck_set_isa(ck_isa isa) {
    if (ck_isa_supported(isa)) __atomic_store_n(&chosen, (int)isa, __ATOMIC_RELAXED);
    return ck_current_isa();
}

void ck_attend_decode(const float *q, const float *k, const float *v, int stride, int n, int hd, int rep,
                      float scale, float *att, int ldAtt, float *y) {
    switch (ck_current_isa()) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: attend_avx512(q, k, v, stride, n, hd, rep, scale, att, ldAtt, y); return;
    case CK_ISA_AVX2: attend_avx2(q, k, v, stride, n, hd, rep, scale, att, ldAtt, y); return;
#endif
    default: attend_baseline(q, k, v, stride, n, hd, rep, scale, att, ldAtt, y); return;
    }
}

int ck_panel_width(void) {
    switch (ck_current_isa()) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: return panel_width_avx512();
    case CK_ISA_AVX2: return panel_width_avx2();
#endif
    default: return panel_width_baseline();
    }
}

typedef float v8f __attribute__((vector_size(32)));
typedef float v8fu __attribute__((vector_size(32), aligned(4)));

/// The 8 x 8 block at rows src[0..7], columns kk..kk+7, transposed into dst rows kk..kk+7 (`width` apart).
static inline void transpose8(const float *const *src, int kk, float *dst, int width) {
    v8f r[8], t[8], u[8];
    for (int j = 0; j < 8; j++) r[j] = src[j] ? (v8f) * (const v8fu *)(src[j] + kk) : (v8f){0};
    for (int j = 0; j < 8; j += 2) {  // interleave row pairs
        t[j] = __builtin_shufflevector(r[j], r[j + 1], 0, 8, 1, 9, 4, 12, 5, 13);
        t[j + 1] = __builtin_shufflevector(r[j], r[j + 1], 2, 10, 3, 11, 6, 14, 7, 15);
    }
    for (int j = 0; j < 8; j += 4)  // then pairs of pairs
        for (int h = 0; h < 2; h++) {
            u[j + 2 * h] = __builtin_shufflevector(t[j + h], t[j + h + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            u[j + 2 * h + 1] = __builtin_shufflevector(t[j + h], t[j + h + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int c = 0; c < 4; c++) {  // then 128-bit halves: u[c] and u[c + 4] hold columns c and c + 4
        *(v8fu *)(dst + (long)(kk + c) * width) = __builtin_shufflevector(u[c], u[c + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        *(v8fu *)(dst + (long)(kk + c + 4) * width) = __builtin_shufflevector(u[c], u[c + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

void ck_pack_panel(const float *const *parts, const int *rows, int nparts, int k, float *packed, int width,
                   int p) {
    const float *src[64];  // each lane's weight row; NULL past the last row (zero padding)
    int part = 0, first = 0;  // the part holding row n starts at row `first`
    for (int j = 0; j < width; j++) {
        int n = p * width + j;
        while (part < nparts && n >= first + rows[part]) first += rows[part++];
        src[j] = part < nparts ? parts[part] + (long)(n - first) * k : 0;
    }
    float *dst = packed + (long)p * k * width;
    int kk = 0;
    for (; kk + 8 <= k; kk += 8)  // 8 x 8 blocks through registers; width is a multiple of 8
        for (int j = 0; j < width; j += 8) transpose8(src + j, kk, dst + j, width);
    for (; kk < k; kk++)
        for (int j = 0; j < width; j++) dst[(long)kk * width + j] = src[j] ? src[j][kk] : 0;
}

void ck_gemm_packed(int m, int k, const float *a, int lda, const float *packed, int width, int n, float *out,
                    int ldo, int p0, int p1) {
    // The variant that packed the panels (told apart by their width), whatever the current choice.
#if defined(__x86_64__)
    if (width == panel_width_avx512()) { gemm_packed_avx512(m, k, a, lda, packed, n, out, ldo, p0, p1); return; }
    if (width == panel_width_avx2()) { gemm_packed_avx2(m, k, a, lda, packed, n, out, ldo, p0, p1); return; }
#endif
    gemm_packed_baseline(m, k, a, lda, packed, n, out, ldo, p0, p1);
}
