// Winograd kernels for any x86-64 CPU (the build's baseline instructions).
#define FG_WINO_ISA generic
#include "winograd_kernels.inc"
