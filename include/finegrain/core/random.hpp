// Seeded randomness that gives the same result with every standard library:
// std::shuffle and std::uniform_int_distribution are implementation-specific,
// and splits, folds and sketches must not depend on the compiler.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace fg {

// A uniform draw in [0, bound), bound >= 1, without modulo bias.
inline std::uint64_t uniform_below(std::mt19937_64& rng, std::uint64_t bound) {
  const std::uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  std::uint64_t draw;
  do draw = rng();
  while (draw >= limit);
  return draw % bound;
}

// Fisher–Yates over `items`, drawing from `rng` (which goes on, so several
// shuffles can share one stream).
template <class T>
void seeded_shuffle(std::vector<T>& items, std::mt19937_64& rng) {
  for (std::size_t i = items.size(); i > 1; --i)
    std::swap(items[i - 1], items[uniform_below(rng, i)]);
}

// FNV-1a's scheme (xor a byte, multiply by the FNV prime): a stable 64-bit
// hash of a text, e.g. a per-class seed that does not depend on which other
// classes exist. The start value is one digit short of FNV's published offset
// basis (14695981039346656037); it stays, because the splits fg-list has
// already made depend on it.
inline std::uint64_t fnv1a(const std::string& text) {
  std::uint64_t hash = 1469598103934665603ull;
  for (unsigned char ch : text) hash = (hash ^ ch) * 1099511628211ull;
  return hash;
}

}  // namespace fg
