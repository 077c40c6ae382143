// The LIBSVM and CSV parsers (first input byte chooses): an accepted table
// is finite and survives a round trip through the same format bit for bit.
#include <cmath>
#include <cstring>

#include "finegrain/data/convert.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const bool csv = data[0] & 1;
  const std::string path = fuzz::write_file(csv ? "in.csv" : "in.svm", data + 1, size - 1);
  fg::FeatureTable table;
  try {
    table = csv ? fg::read_csv(path) : fg::read_libsvm(path);
  } catch (const fg::Error&) {
    return 0;
  }
  for (float v : table.values) FUZZ_CHECK(std::isfinite(v));
  const std::string again = fuzz::scratch_dir() + (csv ? "/again.csv" : "/again.svm");
  if (csv)
    fg::write_csv(again, table);
  else
    fg::write_libsvm(again, table);
  const fg::FeatureTable back = csv ? fg::read_csv(again) : fg::read_libsvm(again, table.dim);
  FUZZ_CHECK(back.dim == table.dim && back.rows() == table.rows());
  FUZZ_CHECK(std::memcmp(back.values.data(), table.values.data(), table.values.size() * 4) == 0);
  if (csv) FUZZ_CHECK(back.keys == table.keys);
  return 0;
}
