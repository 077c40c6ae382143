// The MIC selection model reader: accepted columns are distinct and inside
// the input dimension.
#include <set>
#include <vector>

#include "finegrain/reduce/mic.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("mic.model", data, size);
  try {
    const fg::mic::SelectionModel model = fg::mic::SelectionModel::load(path);
    std::set<std::uint32_t> distinct(model.columns.begin(), model.columns.end());
    FUZZ_CHECK(distinct.size() == model.columns.size());
    for (std::uint32_t c : model.columns) FUZZ_CHECK(c < model.input_dim);
    if (model.input_dim <= (1u << 16)) {
      std::vector<float> x(model.input_dim, 1.0f), y(model.output_dim());
      model.apply_row(x.data(), y.data());
    }
  } catch (const fg::Error&) {}
  return 0;
}
