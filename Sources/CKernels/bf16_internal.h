// Shared between bf16.c (layouts, dispatch, the AVX-512 BF16 and AMX kernels) and bf16_avx2.c (the same
// products emulated with AVX2 + FMA). Not part of the module's public headers.
#ifndef CKERNELS_BF16_INTERNAL_H
#define CKERNELS_BF16_INTERNAL_H

#include <stdint.h>

#define TILE 512  // bf16 values per packed tile
#define KSTEP 32  // k values per tile row
#define PANEL 32  // rows of a decode panel

static inline int ceil_to(int x, int m) { return (x + m - 1) / m * m; }

/// One 16-row, 32-k tile of op(X)(i, k) = x[i * rs + k * cs] in the packed layout (bf16.c), element by
/// element: any strides, partial tiles.
void ck_bf16_pack_tile_scalar(const float *x, long rs, long cs, int rows, int k, int i0, int k0, int pairRows,
                              uint16_t *dst);

#if defined(__x86_64__)
/// The AVX2 + FMA emulation (bf16_avx2.c). Each computes what the Intel SDM defines for its AVX-512 twin in bf16.c:
/// conversions as VCVTNE2PS2BF16 (round to nearest even, denormals to signed zero, NaN quieted), products as
/// VDPBF16PS (per 32-bit lane the odd pair's product added first, then the even's, each one rounding to
/// nearest even, denormals in and out as zero: MXCSR's DAZ and FTZ, which the block and panel kernels set for
/// their own sums and restore before returning).
int ck_bf16_avx2_supported(void);
void ck_bf16_avx2_pack_tile(const float *x, long rs, long cs, int rows, int k, int i0, int k0, int pairRows,
                            uint16_t *dst);
void ck_bf16_avx2_block(const uint16_t *pa, const uint16_t *pb, int ksteps, int mrows, float *acc);
void ck_bf16_avx2_pack_panel(const float *const *src, int k, uint16_t *dst);
void ck_bf16_avx2_input(int m, int k, const float *a, int lda, float *dst);  // (m, 2 kpairs): bf16 values as floats
void ck_bf16_avx2_panel(const float *a, int m, int kpairs, const uint16_t *panel, float *out, int ldo, int ncols);
#endif

#endif
