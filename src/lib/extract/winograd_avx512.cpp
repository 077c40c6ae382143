// Winograd kernels for AVX-512 (F, with FMA); chosen at run time.
#pragma GCC target("avx512f,avx2,fma,prefer-vector-width=512")
#define FG_WINO_ISA avx512
#define FG_WINO_AVX512 1
#include "winograd_kernels.inc"
