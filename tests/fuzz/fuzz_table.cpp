// The feature table reader (.fgt): every accepted table writes back and
// reads again to the same rows.
#include <cstring>

#include "finegrain/data/table.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("in.fgt", data, size);
  fg::FeatureTable table;
  try {
    table = fg::read_table(path);
  } catch (const fg::Error&) {
    return 0;
  }
  const std::string again = fuzz::scratch_dir() + "/again.fgt";
  fg::write_table(again, table);
  const fg::FeatureTable back = fg::read_table(again);
  FUZZ_CHECK(back.dim == table.dim && back.keys == table.keys && back.labels == table.labels);
  FUZZ_CHECK(back.classes == table.classes && back.provenance == table.provenance);
  FUZZ_CHECK(back.values.size() == table.values.size() &&
             std::memcmp(back.values.data(), table.values.data(), table.values.size() * 4) == 0);
  return 0;
}
