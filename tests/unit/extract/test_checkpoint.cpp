// The <output>.partial checkpoint: resume, torn records, identity.
#include <doctest/doctest.h>

#include <filesystem>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/checkpoint.hpp"
#include "test_util.hpp"

using namespace fg;
namespace fs = std::filesystem;

TEST_CASE("checkpoint: resumes and drops a torn last record") {
  TempDir dir;
  const std::string path = dir.file("out.fgt.partial");
  const std::vector<float> r0 = {1, 2, 3}, r2 = {7, 8, 9};
  {
    ExtractCheckpoint cp(path, "id", 3, 1, false);
    cp.add_rows(0, r0.data());
    cp.add_skip(1, "truncated JPEG");
    cp.add_rows(2, r2.data());
    cp.flush();
  }
  // Tear the last record.
  fs::resize_file(path, fs::file_size(path) - 5);
  CHECK_THROWS_WITH_AS(ExtractCheckpoint(path, "other", 3, 1, true),
                       doctest::Contains("different options"), Error);
  ExtractCheckpoint cp(path, "id", 3, 1, true);
  CHECK(cp.resumed() == 2);
  CHECK(cp.done(0));
  CHECK(cp.done(1));
  CHECK(!cp.done(2));
  cp.add_rows(2, r2.data());
  std::vector<std::size_t> rows, skips;
  std::vector<float> seen;
  cp.replay(
      [&](std::size_t i, const float* v) {
        rows.push_back(i);
        seen.insert(seen.end(), v, v + 3);
      },
      [&](std::size_t i, const std::string& p) {
        skips.push_back(i);
        CHECK(p == "truncated JPEG");
      });
  CHECK(rows == std::vector<std::size_t>{0, 2});
  CHECK(skips == std::vector<std::size_t>{1});
  CHECK(seen == std::vector<float>{1, 2, 3, 7, 8, 9});
}

