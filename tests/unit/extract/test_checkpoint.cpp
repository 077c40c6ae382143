// The <output>.partial checkpoint: resume, torn records, identity.
#include <doctest/doctest.h>

#include <filesystem>

#include <opencv2/core/utility.hpp>
#include "finegrain/core/common.hpp"

#include "finegrain/extract/checkpoint.hpp"
#include "finegrain/extract/run.hpp"
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

TEST_CASE(
    "checkpoint: the identity takes canonical settings, --on-corrupt, the threads and batch") {
  ModelSpec spec;
  spec.name = "net";
  spec.size = 224;
  spec.default_layers = {"fire9"};
  const Manifest manifest = {{"a.jpg", "x"}, {"b.jpg", "y"}};
  ExtractOptions spelled;
  spelled.size = 224;
  spelled.layers = {"fire9"};
  const RunOptions run;  // batch 8
  RunOptions batch2, skip_corrupt;
  batch2.batch = 2;
  skip_corrupt.on_corrupt = OnCorrupt::skip;
  const std::string id = checkpoint_identity(ExtractOptions(), spec, manifest, run);
  CHECK(checkpoint_identity(spelled, spec, manifest, run) == id);
  CHECK(checkpoint_identity(ExtractOptions(), spec, manifest, batch2) != id);
  CHECK(checkpoint_identity(ExtractOptions(), spec, manifest, skip_corrupt) != id);
  spelled.size = 320;
  CHECK(checkpoint_identity(spelled, spec, manifest, run) != id);
  CHECK(checkpoint_identity(ExtractOptions(), spec, {{"a.jpg", "x"}}, run) != id);
  const int threads = cv::getNumThreads();
  cv::setNumThreads(threads == 1 ? 2 : 1);
  CHECK(checkpoint_identity(ExtractOptions(), spec, manifest, run) != id);
  cv::setNumThreads(threads);
}
