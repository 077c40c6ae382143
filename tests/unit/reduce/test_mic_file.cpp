// The MIC selection model reader: damaged names are data errors (not usage
// errors), repeated columns and non-finite scores are refused.
#include <doctest/doctest.h>

#include <string>

#include "finegrain/core/common.hpp"
#include "finegrain/reduce/mic.hpp"
#include "test_util.hpp"

using namespace fg;

namespace {
std::string model_text(const std::string& estimator, const std::string& target,
                       const std::string& columns) {
  return "FGMIC-SELECTION 1\ninput_dim 8\noutput_dim 2\nestimator " + estimator +
         "\nalpha 0.6\nc 15\ntarget " + target +
         "\nredundancy none\nredundancy_weight 0\nsamples 40\nclasses 4\n" + columns;
}

std::string failure(const TempDir& dir, const std::string& text) {
  write_bytes(dir.file("m.model"), text);
  try {
    mic::SelectionModel::load(dir.file("m.model"));
  } catch (const UsageError& e) {
    return std::string("usage: ") + e.what();
  } catch (const Error& e) {
    return std::string("error: ") + e.what();
  }
  return "loaded";
}
}  // namespace

TEST_CASE("mic file: a valid model loads") {
  TempDir dir;
  write_bytes(dir.file("m.model"), model_text("mic_approx", "classes", "5\t0.5\n2\t0.25\n"));
  const auto m = mic::SelectionModel::load(dir.file("m.model"));
  CHECK(m.columns == std::vector<std::uint32_t>{5, 2});
}

TEST_CASE(
    "mic file: damaged target or estimator is a data error naming file, line and field (issue "
    "14.7)") {
  TempDir dir;
  const std::string path = dir.file("m.model");
  CHECK(failure(dir, model_text("mic_apprxo", "classes", "5\t0.5\n2\t0.25\n")) ==
        "error: " + path + ":4: field 'estimator' is 'mic_apprxo', expected mic_approx or mic_e");
  CHECK(failure(dir, model_text("mic_e", "clases", "5\t0.5\n2\t0.25\n")) ==
        "error: " + path + ":7: field 'target' is 'clases', expected classes or ordinal");
}

TEST_CASE("mic file: repeated columns and non-finite scores are refused (issue 14.10, 14.4)") {
  TempDir dir;
  const std::string path = dir.file("m.model");
  CHECK(failure(dir, model_text("mic_e", "classes", "5\t0.5\n5\t0.25\n")) ==
        "error: " + path + ":13: column 5 selected twice");
  CHECK(failure(dir, model_text("mic_e", "classes", "5\t0.5\n3\tnan\n")) ==
        "error: " + path + ":13: score of column 3 is nan");
}
