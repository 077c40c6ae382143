#include "finegrain/core/assets.hpp"

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "finegrain/core/common.hpp"

namespace fs = std::filesystem;

namespace fg {

std::string assets_root() {
  if (const char* env = std::getenv("FINEGRAIN_ASSETS"); env && *env) return env;
#ifdef FG_DEFAULT_ASSETS
  std::error_code error;
  if (fs::is_directory(FG_DEFAULT_ASSETS, error)) return FG_DEFAULT_ASSETS;
#endif
  return "";
}

std::string asset_path(const std::string& relative) {
  std::string root = assets_root();
  if (root.empty())
    throw Error(cat("asset ", relative,
                    " needed, but no asset location is set: set FINEGRAIN_ASSETS to the folder "
                    "holding models/ and data/ (see data/fetch.sh)"));
  fs::path path = fs::path(root) / relative;
  std::error_code error;
  if (!fs::exists(path, error))
    throw Error(
        cat("asset ", relative, " not found in ", root,
            " (FINEGRAIN_ASSETS); get it with data/fetch.sh or point FINEGRAIN_ASSETS elsewhere"));
  return path.string();
}

// SHA-256 (FIPS 180-4), for verifying model files and bundle parts.
namespace {
constexpr std::array<std::uint32_t, 64> kRound = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

inline std::uint32_t rotr(std::uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

void compress(std::array<std::uint32_t, 8>& state, const unsigned char* block) {
  std::uint32_t w[64];
  for (int i = 0; i < 16; ++i)
    w[i] = (std::uint32_t(block[4 * i]) << 24) | (std::uint32_t(block[4 * i + 1]) << 16) |
           (std::uint32_t(block[4 * i + 2]) << 8) | std::uint32_t(block[4 * i + 3]);
  for (int i = 16; i < 64; ++i) {
    std::uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    std::uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto v = state;
  for (int i = 0; i < 64; ++i) {
    std::uint32_t s1 = rotr(v[4], 6) ^ rotr(v[4], 11) ^ rotr(v[4], 25);
    std::uint32_t choose = (v[4] & v[5]) ^ (~v[4] & v[6]);
    std::uint32_t t1 = v[7] + s1 + choose + kRound[i] + w[i];
    std::uint32_t s0 = rotr(v[0], 2) ^ rotr(v[0], 13) ^ rotr(v[0], 22);
    std::uint32_t majority = (v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]);
    std::uint32_t t2 = s0 + majority;
    v = {t1 + t2, v[0], v[1], v[2], v[3] + t1, v[4], v[5], v[6]};
  }
  for (int i = 0; i < 8; ++i) state[i] += v[i];
}
}  // namespace

std::string sha256_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(cat(path, ": cannot open for checksum"));
  std::array<std::uint32_t, 8> state = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                        0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  std::uint64_t total = 0;
  unsigned char block[64];
  std::size_t filled = 0;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    auto got = static_cast<std::size_t>(in.gcount());
    total += got;
    for (std::size_t i = 0; i < got; ++i) {
      block[filled++] = static_cast<unsigned char>(buffer[i]);
      if (filled == 64) {
        compress(state, block);
        filled = 0;
      }
    }
  }
  // Padding: 0x80, zeros, then the bit length big-endian.
  block[filled++] = 0x80;
  if (filled > 56) {
    std::memset(block + filled, 0, 64 - filled);
    compress(state, block);
    filled = 0;
  }
  std::memset(block + filled, 0, 56 - filled);
  std::uint64_t bits = total * 8;
  for (int i = 0; i < 8; ++i) block[56 + i] = static_cast<unsigned char>(bits >> (56 - 8 * i));
  compress(state, block);
  static const char* hex = "0123456789abcdef";
  std::string digest;
  for (auto word : state)
    for (int shift = 28; shift >= 0; shift -= 4) digest += hex[(word >> shift) & 0xf];
  return digest;
}

}  // namespace fg
