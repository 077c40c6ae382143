#include "finegrain/core/cpu.hpp"

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "finegrain/core/common.hpp"

namespace fg {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::avx512:
      return "avx512";
    case Isa::avx2:
      return "avx2";
    case Isa::generic:
      break;
  }
  return "generic";
}

Isa parse_isa(const std::string_view name) {
  if (name == "avx512") return Isa::avx512;
  if (name == "avx2") return Isa::avx2;
  if (name == "generic") return Isa::generic;
  throw UsageError(cat("FG_ISA must be avx512, avx2 or generic, got '", name, "'"));
}

namespace {

CpuFeatures probe() {
  CpuFeatures f;
#if defined(__x86_64__) && defined(__GNUC__)
  // libgcc's probe also checks (XGETBV) that the OS saves the ymm/zmm state.
  __builtin_cpu_init();
  f.avx2_fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  f.avx512 = f.avx2_fma && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl");
#endif
  return f;
}

constexpr int kUnset = -1;
std::atomic<int> chosen{kUnset};
std::mutex choose_mutex;

Isa check_available(Isa isa, const char* what) {
  const Isa best = cpu_features().best();
  if (isa > best)
    throw UsageError(cat(what, isa_name(isa), " but this CPU has only ", isa_name(best)));
  return isa;
}

}  // namespace

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = probe();
  return features;
}

Isa kernel_isa() {
  const int now = chosen.load(std::memory_order_relaxed);
  if (now != kUnset) return static_cast<Isa>(now);
  std::lock_guard<std::mutex> lock(choose_mutex);
  if (chosen.load() == kUnset) {
    Isa isa = cpu_features().best();
    if (const char* env = std::getenv("FG_ISA"); env && *env)
      isa = check_available(parse_isa(env), "FG_ISA=");
    chosen.store(static_cast<int>(isa));
  }
  return static_cast<Isa>(chosen.load());
}

void set_kernel_isa(Isa isa) {
  check_available(isa, "kernel ISA ");
  std::lock_guard<std::mutex> lock(choose_mutex);
  chosen.store(static_cast<int>(isa));
}

std::vector<Isa> available_isas() {
  std::vector<Isa> out;
  for (int level = 0; level <= static_cast<int>(cpu_features().best()); ++level)
    out.push_back(static_cast<Isa>(level));
  return out;
}

}  // namespace fg
