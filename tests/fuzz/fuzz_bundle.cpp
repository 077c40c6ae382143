// Bundle loading. The input is a small archive of the bundle's files:
//   u8 flags, then parts: u8 file number (below), u32 length, bytes.
// With flag bit 0 set, the target writes BUNDLE itself with the right
// checksums (a fuzzer cannot forge SHA-256), so the parts' own readers are
// reached; without it, BUNDLE is the input's, so the index parser is.
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "finegrain/chain/bundle.hpp"
#include "finegrain/core/assets.hpp"
#include "fuzz_util.hpp"

namespace {
const char* const kFiles[] = {"BUNDLE",           "extract.txt", "model.spec",
                              "classifier.model", "pca.model",   "mic.model"};
constexpr std::size_t kFileCount = sizeof kFiles / sizeof kFiles[0];
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  namespace fs = std::filesystem;
  const std::string dir = fuzz::scratch_dir() + "/bundle";
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  fs::create_directories(dir);
  const bool make_index = data[0] & 1;
  std::size_t at = 1;
  std::vector<std::string> present;
  while (at + 5 <= size) {
    const std::size_t file = data[at] % kFileCount;
    std::uint32_t length;
    std::memcpy(&length, data + at + 1, 4);
    at += 5;
    length = static_cast<std::uint32_t>(std::min<std::size_t>(length, size - at));
    fuzz::write_file(std::string("bundle/") + kFiles[file], data + at, length);
    if (file != 0) present.push_back(kFiles[file]);
    at += length;
  }
  if (make_index) {
    std::ostringstream index;
    index << "finegrain-bundle " << fg::kBundleVersion << "\n";
    for (const auto& name : present)
      index << name << ' ' << fg::sha256_file(dir + "/" + name) << '\n';
    // The network files the spec names, as fg-bundle records them.
    try {
      std::ifstream in(dir + "/model.spec", std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      const fg::ModelSpec spec = fg::parse_model_spec(text.str(), dir + "/model.spec");
      for (const std::string& file : {spec.model_path(), spec.config_path()})
        if (!file.empty()) index << "network " << fg::sha256_file(file) << ' ' << file << '\n';
    } catch (const fg::Error&) {}
    fuzz::write_file("bundle/BUNDLE", index.str());
  }
  try {
    const fg::Bundle bundle = fg::Bundle::load(dir);
    FUZZ_CHECK(bundle.input_dim() >= 1);
    if (bundle.input_dim() <= (1u << 20)) {
      std::vector<float> features(bundle.input_dim(), 0.5f), work;
      try {
        bundle.predict(features.data(), 1, work);
      } catch (const fg::Error&) {  // a score overflow is reported, not a crash
      }
    }
  } catch (const fg::Error&) {}
  return 0;
}
