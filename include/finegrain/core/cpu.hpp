// Which vector instructions the CPU has, and which of them the dispatched
// kernels (MIC, pooling, ...) use. The default build targets x86-64-v3
// (AVX2 + FMA); kernels with an AVX-512 form choose it at run time when the
// CPU has it. FG_ISA=avx2 (or generic) in the environment forces a lower
// path, to test and to measure the other paths on one machine.
#pragma once

#include <string_view>
#include <vector>

namespace fg {

// Ordered: a higher level may use everything of the lower ones.
enum class Isa {
  generic = 0,  // what the compiler's baseline allows (no hand-written vector code)
  avx2 = 1,     // AVX2 + FMA
  avx512 = 2,   // AVX-512 F, BW, DQ, VL
};

const char* isa_name(Isa isa);  // "generic" | "avx2" | "avx512"
// Throws UsageError unless name is one of isa_name's.
Isa parse_isa(const std::string_view name);

struct CpuFeatures {
  bool avx2_fma = false;  // AVX2 and FMA, with the OS saving ymm state
  bool avx512 = false;    // AVX-512 F/BW/DQ/VL, with the OS saving zmm state
  Isa best() const { return avx512 ? Isa::avx512 : avx2_fma ? Isa::avx2 : Isa::generic; }
};
// What this CPU offers (probed once).
const CpuFeatures& cpu_features();

// The level the kernels use now: the CPU's best, lowered by FG_ISA if set (a
// level the CPU lacks is an error at first use: the program says so and
// exits 2). Cheap: read on every kernel call.
Isa kernel_isa();
// Tests and benchmarks: use this level from now on (Error if the CPU lacks it).
void set_kernel_isa(Isa isa);
// Every level this CPU can run, lowest first (generic always).
std::vector<Isa> available_isas();

}  // namespace fg
