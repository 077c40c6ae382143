// The PCA model reader on hand-made files (layout in pca.cpp): values that
// would make apply() write NaN are refused, and header counts are checked
// against the file size before anything is allocated.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "finegrain/core/binary.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/reduce/pca.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {
// D = 2, K = 1: component (0.6, 0.8), mean (1, 2), variance 4.
struct HandPca {
  std::uint32_t dim = 2, k = 1;
  std::uint8_t whiten = 0;
  std::vector<double> mean = {1, 2}, variances = {4}, components = {0.6, 0.8};
  std::string bytes() const {
    std::ostringstream s;
    BinaryWriter o(s);
    o.bytes("FGPCA\n\0\0", 8);
    o.u32(1);
    o.u32(dim);
    o.u32(k);
    o.u8(whiten);
    o.u64(10);
    o.f64(5.0);
    o.str("cov");
    o.f64s(mean.data(), mean.size());
    o.f64s(variances.data(), variances.size());
    o.f64s(components.data(), components.size());
    o.u32(0x444e4521);
    return s.str();
  }
};

std::string failure(const TempDir& dir, const HandPca& m) {
  write_bytes(dir.file("p.model"), m.bytes());
  try {
    PcaModel::load(dir.file("p.model"));
  } catch (const Error& e) {
    return e.what();
  }
  return "loaded";
}
}  // namespace

TEST_CASE("pca file: the hand-made model applies as written") {
  TempDir dir;
  write_bytes(dir.file("p.model"), HandPca{}.bytes());
  const PcaModel m = PcaModel::load(dir.file("p.model"));
  const float x[2] = {2, 4};
  float y = 0;
  m.apply_row(x, &y);
  CHECK(y == doctest::Approx(0.6 * 1 + 0.8 * 2));
}

TEST_CASE("pca file: NaN, overflowing and non-unit values are refused (issue 14.4)") {
  TempDir dir;
  const std::string where = dir.file("p.model") + ": corrupt PCA model (";
  HandPca nan_component, huge_mean, long_component, tiny_variance;
  nan_component.components[1] = std::numeric_limits<double>::quiet_NaN();
  CHECK(failure(dir, nan_component) == where + "component 1 value 2 is nan)");
  huge_mean.mean[0] = 1e300;  // finite as a double, inf as the float apply() uses
  CHECK(failure(dir, huge_mean) == where + "mean 1 is 1e+300)");
  long_component.components = {6, 8};
  CHECK(failure(dir, long_component) == where + "component 1 has length 10, not 1)");
  tiny_variance.whiten = 1;
  tiny_variance.variances = {1e-300};  // 1/sqrt(var) overflows float
  CHECK(failure(dir, tiny_variance) ==
        where + "a whitened component overflows float (variance too small))");
}

TEST_CASE("pca file: a short file claiming huge counts fails before allocating (issue 14.9)") {
  TempDir dir;
  HandPca m;
  m.dim = 1u << 16;
  m.k = 1u << 15;  // 2^31 component values = 16 GB, in a file of ~90 bytes
  const std::uint64_t needed = 3 + (65536ull + 32768ull + 65536ull * 32768ull) * 8 + 4;
  const std::size_t after_header = m.bytes().size() - 41;  // the fixed header is 41 bytes
  CHECK(failure(dir, m) ==
        dir.file("p.model") + ": truncated PCA model (the header says 65536 x 32768, which needs " +
            std::to_string(needed) + " more bytes; the file has " + std::to_string(after_header) +
            ")");
}
