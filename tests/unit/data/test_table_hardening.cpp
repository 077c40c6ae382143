// Hostile inputs to the table readers and writers (issue 14): non-finite
// values in text, repeated class names, header counts that cannot be true.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/data/table.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE(
    "table hardening: NaN and Inf in CSV and LIBSVM text are refused unless allowed (issue 14.4)") {
  TempDir dir;
  write_bytes(dir.file("t.csv"), "key,label,f1,f2\na,x,1,2\nb,y,nan,3\n");
  CHECK_THROWS_WITH_AS(
      read_csv(dir.file("t.csv")),
      (dir.file("t.csv") +
       ":3: column f1: value is nan (fg-convert accepts it with --allow-nonfinite)")
          .c_str(),
      Error);
  write_bytes(dir.file("t.svm"), "0 1:1 2:2\n1 1:inf 2:3\n");
  CHECK_THROWS_WITH_AS(read_libsvm(dir.file("t.svm")),
                       (dir.file("t.svm") +
                        ":2: '1:inf': value is inf (fg-convert accepts it with --allow-nonfinite)")
                           .c_str(),
                       Error);
  TableReadOptions allow;
  allow.allow_nonfinite = true;
  const FeatureTable csv = read_csv(dir.file("t.csv"), allow);
  CHECK(std::isnan(csv.row(1)[0]));
  CHECK(csv.row(1)[1] == 3.0f);
  const FeatureTable svm = read_libsvm(dir.file("t.svm"), 0, allow);
  CHECK(std::isinf(svm.row(1)[0]));
}

TEST_CASE(
    "table hardening: the writer refuses NaN unless allowed, and commits nothing (issue 14.4)") {
  TempDir dir;
  FeatureTable t;
  t.dim = 2;
  const float good[2] = {1, 2}, bad[2] = {3, std::numeric_limits<float>::quiet_NaN()};
  t.add("good", -1, good);
  t.add("bad", -1, bad);
  CHECK_THROWS_WITH_AS(
      write_table(dir.file("t.fgt"), t),
      (dir.file("t.fgt") + ": record 2 (bad): column 2 would be nan; nothing written").c_str(),
      Error);
  CHECK_FALSE(std::filesystem::exists(dir.file("t.fgt")));
  write_table(dir.file("t.fgt"), t, true);
  TableReadOptions allow;
  allow.allow_nonfinite = true;
  CHECK(std::isnan(read_table(dir.file("t.fgt"), allow).row(1)[1]));
  // The reader's advice names the one program that has the option.
  CHECK_THROWS_WITH_AS(
      read_table(dir.file("t.fgt")),
      (dir.file("t.fgt") + ": record 2 (bad): column 2 is nan (only fg-convert reads such values, "
                           "with --allow-nonfinite)")
          .c_str(),
      Error);
}

TEST_CASE("table hardening: repeated names in a .classes file are refused (issue 14.10)") {
  TempDir dir;
  write_bytes(dir.file("t.svm"), "0 1:1\n1 1:2\n2 1:3\n");
  write_bytes(dir.file("t.svm.classes"), "rose\ntulip\nrose\n");
  CHECK_THROWS_WITH_AS(
      read_libsvm(dir.file("t.svm")),
      (dir.file("t.svm") + ".classes:3: class 'rose' repeats line 1 (labels would be ambiguous)")
          .c_str(),
      Error);
}

TEST_CASE(
    "table hardening: a row count the file cannot hold sizes nothing and is named (issue 14.9)") {
  TempDir dir;
  FeatureTable t;
  t.dim = 4;
  const float row[4] = {1, 2, 3, 4};
  t.add("a", -1, row);
  write_table(dir.file("t.fgt"), t);
  std::string bytes = read_bytes(dir.file("t.fgt"));
  const std::uint64_t huge = 1ull << 40;  // at offset 16: magic 8, version 4, dim 4
  bytes.replace(16, 8, reinterpret_cast<const char*>(&huge), 8);
  write_bytes(dir.file("huge.fgt"), bytes);
  TableReader reader(dir.file("huge.fgt"));
  CHECK(*reader.header().rows == huge);
  CHECK(reader.rows_that_fit() == 0);
  CHECK(TableReader(dir.file("t.fgt")).rows_that_fit() == 1);
  // (On main, read_table reserved 2^40 rows: "vector::reserve", no file name.)
  CHECK_THROWS_WITH_AS(
      read_table(dir.file("huge.fgt")),
      (dir.file("huge.fgt") + ": header says 1099511627776 records, found 1").c_str(), Error);
}

TEST_CASE("table hardening: a LIBSVM index cannot size rows beyond 2^20 without --dim") {
  TempDir dir;
  write_bytes(dir.file("t.svm"), "0 1:1 999999999:2\n");
  CHECK_THROWS_WITH_AS(
      read_libsvm(dir.file("t.svm")),
      (dir.file("t.svm") + ":1: '999999999:2': index beyond 1048576 (give --dim if the data really "
                           "has so many)")
          .c_str(),
      Error);
}
