#include <doctest/doctest.h>

#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"

using namespace fg;

TEST_CASE("cpu: ISA names read back, levels are ordered and the CPU's best is available") {
  for (Isa isa : {Isa::generic, Isa::avx2, Isa::avx512}) CHECK(parse_isa(isa_name(isa)) == isa);
  CHECK_THROWS_AS(parse_isa("sse4"), UsageError);
  const std::vector<Isa> levels = available_isas();
  REQUIRE(!levels.empty());
  CHECK(levels.front() == Isa::generic);
  CHECK(levels.back() == cpu_features().best());
  CHECK(levels.size() == static_cast<std::size_t>(cpu_features().best()) + 1);
#if defined(__AVX2__) && defined(__FMA__)
  // This build's baseline (x86-64-v3 by default) runs only where AVX2 + FMA are.
  CHECK(cpu_features().avx2_fma);
#endif
  if (cpu_features().avx512) CHECK(cpu_features().avx2_fma);
}

TEST_CASE("cpu: the kernel level can be lowered and restored, never raised beyond the CPU") {
  const Isa saved = kernel_isa();
  CHECK(saved <= cpu_features().best());
  for (Isa isa : available_isas()) {
    set_kernel_isa(isa);
    CHECK(kernel_isa() == isa);
  }
  if (cpu_features().best() < Isa::avx512) CHECK_THROWS_AS(set_kernel_isa(Isa::avx512), UsageError);
  set_kernel_isa(saved);
  CHECK(kernel_isa() == saved);
}
