// Variant selection for the kernels in variant.inc (see include/ckernels.h for why).
#include "ckernels.h"
#include <stdlib.h>
#include <string.h>

// a * b + c in one expression becomes one FMA where the target has it.
#pragma clang fp contract(fast)

#define CK_SUFFIX baseline
#define VW 4
#define MR 4
#define NR 3
#include "variant.inc"

#if defined(__x86_64__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#define CK_SUFFIX avx2
#define VW 8
#define MR 4
#define NR 3
#include "variant.inc"
#pragma clang attribute pop

#pragma clang attribute push(__attribute__((target("avx512f,avx2,fma"))), apply_to = function)
#define CK_SUFFIX avx512
#define VW 16
#define MR 4
#define NR 4  // 4 x 4 tiles: a 2 x 8 tile halves the input-row loads but its 8 weight rows (45 KB at
              // K = 1408) no longer fit L1; measured 105-139 vs 88-102 GFLOP/s on (32, 1408, 512)
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

void ck_gemm_nt(int m, int k, const float *a, int lda, const float *w, int ldw, float *out, int ldo,
                int n0, int n1) {
    switch (ck_current_isa()) {
#if defined(__x86_64__)
    case CK_ISA_AVX512: gemm_nt_avx512(m, k, a, lda, w, ldw, out, ldo, n0, n1); return;
    case CK_ISA_AVX2: gemm_nt_avx2(m, k, a, lda, w, ldw, out, ldo, n0, n1); return;
#endif
    default: gemm_nt_baseline(m, k, a, lda, w, ldw, out, ldo, n0, n1); return;
    }
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
