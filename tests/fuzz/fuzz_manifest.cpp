// The manifest reader: an accepted manifest writes and reads back the same.
#include "finegrain/data/manifest.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = fuzz::write_file("in.tsv", data, size);
  fg::Manifest manifest;
  try {
    manifest = fg::read_manifest(path);
  } catch (const fg::Error&) {
    return 0;
  }
  const std::string again = fuzz::scratch_dir() + "/again.tsv";
  fg::write_manifest(again, manifest);
  const fg::Manifest back = fg::read_manifest(again);
  FUZZ_CHECK(back.size() == manifest.size());
  for (std::size_t i = 0; i < back.size(); ++i)
    FUZZ_CHECK(back[i].path == manifest[i].path && back[i].label == manifest[i].label);
  return 0;
}
