// Winograd kernels for AVX2 + FMA; chosen at run time.
#pragma GCC target("avx2,fma")
#define FG_WINO_ISA avx2
#define FG_WINO_AVX2 1
#include "winograd_kernels.inc"
