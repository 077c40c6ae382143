// bench-pool: global pooling (avgmax) of conv maps of the shapes fg-extract
// pools, per kernel ISA the CPU has (core/cpu.hpp), one thread; checks that
// every ISA gives the same bits.
//
//   bench-pool [reps=200]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "finegrain/core/cpu.hpp"
#include "finegrain/extract/pooling.hpp"

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 200;
  struct Shape {
    const char* name;
    int channels, height, width;
  };
  const Shape shapes[] = {{"vgg16 conv5_3 at 224", 512, 14, 14},
                          {"vgg16 conv5_3 at 448", 512, 28, 28},
                          {"squeezenet fire9 at 224", 512, 13, 13}};
  const fg::Isa start = fg::kernel_isa();
  std::printf("bench-pool: avgmax, %d reps, kernels now %s (CPU best %s)\n", reps,
              fg::isa_name(start), fg::isa_name(fg::cpu_features().best()));
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> uniform(0, 30);
  bool same = true;
  for (const Shape& s : shapes) {
    const std::size_t n = std::size_t(s.channels) * s.height * s.width;
    std::vector<float> map(n);
    for (float& v : map) v = uniform(rng) > 12 ? uniform(rng) : 0.0f;  // ReLU-like zeros
    fg::PoolOptions o;
    o.pooling = fg::Pooling::avgmax;
    std::vector<float> first, out(2 * s.channels);
    for (fg::Isa isa : fg::available_isas()) {
      if (isa > start) continue;  // FG_ISA lowers the ceiling for the whole run
      fg::set_kernel_isa(isa);
      double best = 1e30;
      for (int round = 0; round < 5; ++round) {
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r)
          fg::pool(map.data(), s.channels, s.height, s.width, o, out.data());
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      if (first.empty()) first = out;
      same = same && out == first;
      std::printf("  %-24s %3d x %2d x %2d  %-8s %8.2f us per map (best of 5)\n", s.name,
                  s.channels, s.height, s.width, fg::isa_name(isa), 1e6 * best / reps);
    }
  }
  fg::set_kernel_isa(start);
  std::printf("  every ISA the same bits: %s\n", same ? "yes" : "NO");
  return same ? 0 : 1;
}
