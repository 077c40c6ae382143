// The classifier model reader: an accepted model must score any finite
// input without touching memory it does not own.
#include <vector>

#include "finegrain/classify/classifier.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("classifier.model", data, size);
  try {
    const fg::Classifier model = fg::Classifier::load(path);
    FUZZ_CHECK(model.classes().size() >= 2 && model.dim() >= 1);
    std::vector<float> x(model.dim(), 0.5f);
    const auto top = model.predict_row(x.data(), model.classes().size());
    FUZZ_CHECK(top.size() == model.classes().size());
    for (const auto& p : top)
      FUZZ_CHECK(p.cls >= 0 && static_cast<std::size_t>(p.cls) < model.classes().size());
  } catch (const fg::Error&) {}
  return 0;
}
