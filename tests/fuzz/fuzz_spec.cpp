// The model-spec parser: an accepted spec prints (to_text) and parses back
// to the same spec.
#include "finegrain/extract/model_spec.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  fg::ModelSpec spec;
  try {
    spec = fg::parse_model_spec(text, "/fuzz/in.spec");
  } catch (const fg::Error&) {
    return 0;
  }
  const std::string printed = spec.to_text();
  fg::ModelSpec back;
  try {
    back = fg::parse_model_spec(printed, "/fuzz/in.spec");
  } catch (const fg::Error& e) {
    std::fprintf(stderr, "printed spec does not parse: %s\n%s", e.what(), printed.c_str());
    std::abort();
  }
  FUZZ_CHECK(back.to_text() == printed);
  return 0;
}
