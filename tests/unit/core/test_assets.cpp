#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;

TEST_CASE("assets: SHA-256 of known inputs and of a shared model (SHA256SUMS)") {
  TempDir dir;
  write_bytes(dir.file("empty"), "");
  CHECK(sha256_file(dir.file("empty")) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  write_bytes(dir.file("abc"), "abc");
  CHECK(sha256_file(dir.file("abc")) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding needs a second block.
  write_bytes(dir.file("two"), "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq");
  CHECK(sha256_file(dir.file("two")) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");

  std::string sums = test_assets() + "/models/SHA256SUMS";
  int checked = 0;
  for (const std::string& line : read_lines(sums)) {
    auto space = line.find(' ');
    if (space == std::string::npos) continue;
    std::string expected = line.substr(0, space);
    std::string name = line.substr(line.find_first_not_of(" *", space));
    if (name.find("squeezenet1_1_imagenet_notop.onnx") != std::string::npos) {
      CHECK(sha256_file(test_assets() + "/models/" + name) == expected);
      ++checked;
    }
  }
  CHECK(checked == 1);
}

TEST_CASE("assets: a missing asset says which file, where it looked, and how to get it") {
  const char* saved = std::getenv("FINEGRAIN_ASSETS");
  std::string previous = saved ? saved : "";
  setenv("FINEGRAIN_ASSETS", "/nonexistent-assets", 1);
  CHECK_THROWS_WITH_AS(asset_path("models/x.onnx"),
                       doctest::Contains("models/x.onnx not found in /nonexistent-assets"), Error);
  CHECK_THROWS_WITH_AS(asset_path("models/x.onnx"), doctest::Contains("data/fetch.sh"), Error);
  if (saved)
    setenv("FINEGRAIN_ASSETS", previous.c_str(), 1);
  else
    unsetenv("FINEGRAIN_ASSETS");
}
