// The PCA model reader: an accepted model applies to a row with finite results.
#include <cmath>
#include <vector>

#include "finegrain/reduce/pca.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("pca.model", data, size);
  try {
    const fg::PcaModel model = fg::PcaModel::load(path);
    FUZZ_CHECK(model.output_dim() >= 1 && model.output_dim() <= model.input_dim());
    std::vector<float> x(model.input_dim(), 0.25f), y(model.output_dim());
    model.apply_row(x.data(), y.data());
    for (float v : y) FUZZ_CHECK(std::isfinite(v));
  } catch (const fg::Error&) {}
  return 0;
}
