#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>

#include "finegrain/core/common.hpp"
#include "finegrain/data/table.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;

TEST_CASE("table: write then read returns every value, key, label and class exactly") {
  TempDir dir;
  FeatureTable table = random_table(50, 17, 3, 7);
  table.labels[4] = -1;  // an unlabeled row
  table.provenance = "model=squeezenet\nlayers=fire9\n";
  std::string path = dir.file("t.fgt");
  write_table(path, table);
  FeatureTable back = read_table(path);
  CHECK(back.dim == 17);
  CHECK(back.classes == table.classes);
  CHECK(back.keys == table.keys);
  CHECK(back.labels == table.labels);
  CHECK(back.values == table.values);
  CHECK(back.provenance == table.provenance);
  CHECK(back.label_name(4) == "");
  CHECK(back.label_name(0) == table.classes[static_cast<std::size_t>(table.labels[0])]);
  TableReader reader(path);
  REQUIRE(reader.header().rows.has_value());
  CHECK(*reader.header().rows == 50);  // patched into the header of a seekable file
}

TEST_CASE("table: a failed writer leaves no file, not even a temporary one") {
  TempDir dir;
  std::string path = dir.file("out.fgt");
  {
    TableWriter writer(path, TableHeader{4, {"a"}, {}, ""});
    float row[4] = {1, 2, 3, 4};
    writer.write("k", 0, row);
    // destroyed without commit(), as when an exception unwinds the stage
  }
  CHECK(!fs::exists(path));
  CHECK(fs::is_empty(dir.path));
}

TEST_CASE("table: readers name the file and what is wrong") {
  TempDir dir;
  FeatureTable table = random_table(5, 8, 2, 1);
  std::string good = dir.file("good.fgt");
  write_table(good, table);
  std::string bytes = read_bytes(good);

  SUBCASE("truncated in a record") {
    std::string path = dir.file("cut.fgt");
    write_bytes(path, bytes.substr(0, bytes.size() - 30));
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("record 5: truncated"), Error);
  }
  SUBCASE("truncated between records: the end marker is missing") {
    std::string path = dir.file("cut.fgt");
    write_bytes(path, bytes.substr(0, bytes.size() - 9));
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("end marker is missing"), Error);
  }
  SUBCASE("wrong magic: a LIBSVM file") {
    std::string path = dir.file("x.svm");
    write_bytes(path, "1 1:0.5 3:0.25\n2 2:1\n");
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("looks like a LIBSVM text file"),
                         Error);
  }
  SUBCASE("wrong magic: gzip") {
    std::string path = dir.file("x.fgt.gz");
    write_bytes(path, std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("gzip"), Error);
  }
  SUBCASE("empty file") {
    std::string path = dir.file("empty.fgt");
    write_bytes(path, "");
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("empty file"), Error);
  }
  SUBCASE("unknown version") {
    std::string path = dir.file("v9.fgt");
    std::string changed = bytes;
    changed[8] = 9;
    write_bytes(path, changed);
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("format version 9"), Error);
  }
  SUBCASE("NaN values are an error unless allowed") {
    FeatureTable bad = table;
    bad.values[2 * 8 + 3] = std::numeric_limits<float>::quiet_NaN();
    std::string path = dir.file("nan.fgt");
    write_table(path, bad, true);
    CHECK_THROWS_WITH_AS(read_table(path), doctest::Contains("record 3 (key2): column 4 is nan"),
                         Error);
    TableReadOptions allow;
    allow.allow_nonfinite = true;
    CHECK(std::isnan(read_table(path, allow).values[2 * 8 + 3]));
  }
  SUBCASE("missing file") {
    CHECK_THROWS_WITH_AS(read_table(dir.file("nope.fgt")),
                         doctest::Contains("nope.fgt: cannot open"), Error);
  }
}

TEST_CASE("table: a label outside the class list is refused by the writer") {
  TempDir dir;
  TableWriter writer(dir.file("t.fgt"), TableHeader{2, {"a", "b"}, {}, ""});
  float row[2] = {0, 0};
  CHECK_THROWS_AS(writer.write("k", 2, row), Error);
}

TEST_CASE(
    "table: join_tables streams shards into the table append_table builds, or onto a given class "
    "list") {
  TempDir dir;
  FeatureTable all = random_table(30, 5, 3, 11);
  all.provenance = "stage=fg-extract\n";
  // Three shards; the second sees only class 2 and the third only classes 1 and 0, in that order.
  std::vector<std::string> paths;
  FeatureTable joined;
  for (int s = 0; s < 3; ++s) {
    FeatureTable shard;
    shard.dim = all.dim;
    shard.provenance = all.provenance;
    shard.classes = s == 0   ? all.classes
                    : s == 1 ? std::vector<std::string>{"class 2"}
                             : std::vector<std::string>{"class 1", "class 0"};
    for (std::size_t i = std::size_t(s) * 10; i < std::size_t(s + 1) * 10; ++i) {
      const int label = s == 0 ? all.labels[i] : shard.class_index(all.label_name(i));
      if (s > 0 && label < 0) continue;
      shard.add(all.keys[i], label, all.row(i));
    }
    paths.push_back(dir.file(cat("s", s, ".fgt")));
    write_table(paths.back(), shard);
    append_table(joined, shard, paths.back());
  }
  CHECK(join_tables(paths, dir.file("j.fgt")) == joined.rows());
  const FeatureTable back = read_table(dir.file("j.fgt"));
  CHECK(back.classes == joined.classes);
  CHECK(back.keys == joined.keys);
  CHECK(back.labels == joined.labels);
  CHECK(back.values == joined.values);
  CHECK(back.provenance == all.provenance);
  // Onto the given class list: labels follow the names.
  const std::vector<std::string> reversed = {"class 2", "class 1", "class 0"};
  join_tables(paths, dir.file("r.fgt"), {}, reversed);
  const FeatureTable r = read_table(dir.file("r.fgt"));
  CHECK(r.classes == reversed);
  REQUIRE(r.rows() == joined.rows());
  for (std::size_t i = 0; i < r.rows(); ++i) CHECK(r.label_name(i) == joined.label_name(i));
  CHECK_THROWS_WITH_AS(join_tables(paths, dir.file("x.fgt"), {}, {"class 0", "class 1"}),
                       doctest::Contains("not in the expected class list"), Error);
  // Other settings, and a stop between rows: no output.
  FeatureTable other = random_table(2, 5, 3, 1);
  other.provenance = "stage=other\n";
  write_table(dir.file("o.fgt"), other);
  CHECK_THROWS_WITH_AS(join_tables({paths[0], dir.file("o.fgt")}, dir.file("y.fgt")),
                       doctest::Contains("provenance differs"), Error);
  int rows_seen = 0;
  CHECK_THROWS_AS(join_tables(paths, dir.file("z.fgt"), {}, {},
                              [&] {
                                if (++rows_seen > 12) throw Error("stop");
                              }),
                  Error);
  CHECK(!fs::exists(dir.file("y.fgt")));
  CHECK(!fs::exists(dir.file("z.fgt")));
  CHECK(fs::directory_iterator(dir.path) != fs::directory_iterator());
}
