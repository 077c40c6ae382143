#include <doctest/doctest.h>

#include <cstdlib>
#include <string>

#include "finegrain/core/common.hpp"
#include "finegrain/core/memory.hpp"

using namespace fg;

namespace {
// Sets FG_MAX_MEMORY for one scope, restoring what was there.
struct MemoryCap {
  std::string saved;
  bool had = false;
  explicit MemoryCap(const char* value) {
    if (const char* v = std::getenv("FG_MAX_MEMORY")) saved = v, had = true;
    setenv("FG_MAX_MEMORY", value, 1);
  }
  ~MemoryCap() { had ? setenv("FG_MAX_MEMORY", saved.c_str(), 1) : unsetenv("FG_MAX_MEMORY"); }
};
}  // namespace

TEST_CASE("memory: byte sizes parse with binary suffixes and print in decimal units") {
  CHECK(*parse_byte_size("1000") == 1000.0);
  CHECK(*parse_byte_size("2K") == 2048.0);
  CHECK(*parse_byte_size("512m") == 512.0 * 1024 * 1024);
  CHECK(*parse_byte_size("1.5G") == 1.5 * 1024 * 1024 * 1024);
  CHECK(*parse_byte_size("1T") == 1024.0 * 1024 * 1024 * 1024);
  CHECK_FALSE(parse_byte_size(""));
  CHECK_FALSE(parse_byte_size("G"));
  CHECK_FALSE(parse_byte_size("-1G"));
  CHECK_FALSE(parse_byte_size("12 apples"));
  CHECK(format_bytes(999) == "999 bytes");
  CHECK(format_bytes(1.576e9) == "1.58 GB");
  CHECK(format_bytes(250e6) == "250 MB");
}

TEST_CASE("memory: the budget is MemAvailable, capped by FG_MAX_MEMORY") {
  const double machine = memory_budget();
  CHECK(machine > 0);
  {
    MemoryCap cap("100M");
    CHECK(memory_budget() == doctest::Approx(std::min(machine * 1.5, 100.0 * 1024 * 1024)));
    CHECK_NOTHROW(check_memory(50e6, "t.fgt", "training"));
    CHECK_THROWS_WITH_AS(
        check_memory(3e9, "t.fgt", "training svm on 3000 rows x 131328 dims"),
        "t.fgt: training svm on 3000 rows x 131328 dims needs about 3 GB of memory, "
        "only 105 MB available (MemAvailable, capped by FG_MAX_MEMORY); use fewer rows "
        "or dimensions (fg-pca, fg-mic) or a bigger machine",
        Error);
  }
  {
    MemoryCap cap("lots");
    CHECK_THROWS_AS(memory_budget(), UsageError);
  }
}
