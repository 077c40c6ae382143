#include <doctest/doctest.h>

#include <filesystem>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/convert.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE(
    "convert: fgt -> libsvm -> fgt and fgt -> csv -> fgt keep every value exactly (720 x 4096)") {
  TempDir dir;
  FeatureTable table = random_table(720, 4096, 12, 42);
  // The last column zero in every row: the LIBSVM export must still keep the dimension.
  for (std::size_t i = 0; i < table.rows(); ++i) table.row(i)[4095] = 0.0f;

  write_libsvm(dir.file("t.svm"), table);
  FeatureTable from_libsvm = read_libsvm(dir.file("t.svm"));
  CHECK(from_libsvm.dim == 4096);
  CHECK(from_libsvm.values == table.values);
  CHECK(from_libsvm.labels == table.labels);
  CHECK(from_libsvm.classes == table.classes);

  write_csv(dir.file("t.csv"), table);
  FeatureTable from_csv = read_csv(dir.file("t.csv"));
  CHECK(from_csv.values == table.values);
  CHECK(from_csv.keys == table.keys);
  for (std::size_t i = 0; i < table.rows(); ++i)
    CHECK(from_csv.label_name(i) == table.label_name(i));
}

TEST_CASE("convert: CSV quotes keys with commas and quotes") {
  TempDir dir;
  FeatureTable table;
  table.dim = 2;
  table.classes = {"a, b", "plain"};
  float row[2] = {1.5f, -2.0f};
  table.add("dir/my \"best\", image.jpg", 0, row);
  table.add("x", 1, row);
  write_csv(dir.file("q.csv"), table);
  FeatureTable back = read_csv(dir.file("q.csv"));
  CHECK(back.keys == table.keys);
  CHECK(back.label_name(0) == "a, b");
}

TEST_CASE("convert: strict LIBSVM reading names file, line and token") {
  TempDir dir;
  auto check = [&](const std::string& text, const std::string& expected) {
    write_bytes(dir.file("bad.svm"), text);
    CHECK_THROWS_WITH_AS(read_libsvm(dir.file("bad.svm")), doctest::Contains(expected.c_str()),
                         Error);
  };
  check("1 1:0.5 2:1\n1 2:0.5 1:1\n", "bad.svm:2: '1:1': indices must be ascending");
  check("1 1:0.5 2:x\n", "bad.svm:1: '2:x': value is not a number");
  check("a 1:0.5\n", "bad.svm:1: 'a': expected an integer label");
  check("1.5 1:0.5\n", "labels must be integer class numbers");
  check("1 0:0.5\n", "index must be an integer >= 1");
  check("1 3\n", "'3': expected index:value");
}

TEST_CASE("convert: a CSV file read as LIBSVM is an error quoting a short part of its header") {
  TempDir dir;
  write_csv(dir.file("t.csv"), random_table(3, 500, 2, 1));
  try {
    read_libsvm(dir.file("t.csv"));
    FAIL("no error");
  } catch (const Error& e) {
    const std::string what = e.what();
    CHECK(what == cat(dir.file("t.csv"), ":1: '",
                      "key,label,f1,f2,f3,f4,f5,f6,f7,f8,f9,f10,f11,f12,f13,f14,f",
                      "..': expected an integer label"));
  }
}

TEST_CASE("convert: LIBSVM without a .classes file names classes by their numbers") {
  TempDir dir;
  write_bytes(dir.file("p.svm"), "3 1:1\n7 2:2\n3 2:0.5\n");
  FeatureTable table = read_libsvm(dir.file("p.svm"));
  CHECK(table.classes == std::vector<std::string>{"3", "7"});
  CHECK(table.labels == std::vector<int>{0, 1, 0});
  CHECK(table.dim == 2);
  CHECK(table.values == std::vector<float>{1, 0, 0, 2, 0, 0.5f});
}

TEST_CASE("convert: npy export is readable back as float32 with its shape") {
  TempDir dir;
  FeatureTable table = random_table(6, 5, 2, 3);
  write_npy(dir.file("x.npy"), table);
  NpyArray array = read_npy(dir.file("x.npy"));
  CHECK(array.shape == std::vector<std::size_t>{6, 5});
  CHECK(array.data == table.values);
  CHECK(std::filesystem::exists(dir.file("x.labels.npy")));
  CHECK(read_lines(dir.file("x.classes.txt")) == table.classes);
  CHECK(read_lines(dir.file("x.keys.txt")) == table.keys);
}

TEST_CASE("convert: reads the shared model fixture .npy") {
  NpyArray input = read_npy(test_assets() + "/models/vgg16_tiny_seeded.fixture_input.npy");
  CHECK(input.shape == std::vector<std::size_t>{1, 3, 224, 224});
}

TEST_CASE(
    "convert: convert_tables streams a join into every format with the in-memory writers' bytes") {
  TempDir dir;
  FeatureTable a = random_table(30, 40, 3, 7), b = random_table(20, 40, 4, 8);
  std::swap(b.classes[0],
            b.classes[3]);  // b's classes in another order: the join maps them by name
  b.labels[5] = -1;         // an unlabelled row
  write_table(dir.file("a.fgt"), a);
  write_table(dir.file("b.fgt"), b);
  FeatureTable joined;
  append_table(joined, a, "a");
  append_table(joined, b, "b");
  for (const std::string format : {"fgt", "libsvm", "csv", "npy", "text"}) {
    INFO(format);
    const TableHeader h =
        convert_tables({dir.file("a.fgt"), dir.file("b.fgt")}, dir.file("s." + format), format);
    CHECK(*h.rows == 50);
    CHECK(h.classes == joined.classes);
    write_in_format(format, dir.file("m." + format), joined);
    CHECK(read_bytes(dir.file("s." + format)) == read_bytes(dir.file("m." + format)));
    if (format == "npy") {
      CHECK(read_bytes(dir.file("s.labels.npy")) == read_bytes(dir.file("m.labels.npy")));
      CHECK(read_bytes(dir.file("s.keys.txt")) == read_bytes(dir.file("m.keys.txt")));
    }
  }
  CHECK(read_table(dir.file("s.fgt")).values == joined.values);
  // Tables made differently do not join, and nothing is written.
  FeatureTable other = random_table(5, 40, 3, 9);
  other.provenance = "other=1\n";
  write_table(dir.file("o.fgt"), other);
  CHECK_THROWS_WITH_AS(
      convert_tables({dir.file("a.fgt"), dir.file("o.fgt")}, dir.file("x.fgt"), "fgt"),
      doctest::Contains("provenance differs"), Error);
  CHECK_FALSE(std::filesystem::exists(dir.file("x.fgt")));
}

TEST_CASE("convert: fg-convert's options, and convert_files joining .fgt inputs into one output") {
  const ConvertOptions d, none = parse_option_group<ConvertOptions>({});
  CHECK(none.input_format == d.input_format);
  CHECK(none.output_format == "fgt");
  CHECK(none.dim == 0);
  CHECK(!none.allow_nonfinite);
  CHECK_THROWS_WITH_AS(parse_option_group<ConvertOptions>({"--to", "hdf5"}),
                       "--to must be fgt, libsvm, csv, npy or text, got 'hdf5'", UsageError);
  CHECK_THROWS_WITH_AS(parse_option_group<ConvertOptions>({"--from", "npy"}),
                       "--from must be fgt, libsvm or csv, got 'npy'", UsageError);

  TempDir dir;
  const FeatureTable a = random_table(5, 6, 2, 1), b = random_table(3, 6, 2, 2);
  write_table(dir.file("a.fgt"), a);
  write_table(dir.file("b.fgt"), b);
  const ConvertOptions to_csv = parse_option_group<ConvertOptions>({"--to", "csv"});
  const TableHeader written =
      convert_files({dir.file("a.fgt"), dir.file("b.fgt")}, dir.file("ab.csv"), to_csv);
  CHECK(written.rows == std::optional<std::uint64_t>(8));
  CHECK(convert_summary(written, to_csv) == "Done 8 rows of dimension 6, 2 classes (fgt -> csv)");
  const FeatureTable back = read_csv(dir.file("ab.csv"));
  REQUIRE(back.rows() == 8);
  CHECK(back.values == [&] {
    std::vector<float> joined = a.values;
    joined.insert(joined.end(), b.values.begin(), b.values.end());
    return joined;
  }());
  // Back from CSV: one input only.
  const ConvertOptions from_csv =
      parse_option_group<ConvertOptions>({"--from", "csv", "--to", "libsvm"});
  CHECK(convert_files({dir.file("ab.csv")}, dir.file("ab.svm"), from_csv).rows ==
        std::optional<std::uint64_t>(8));
  CHECK(read_libsvm(dir.file("ab.svm")).values == back.values);
  CHECK_THROWS_WITH_AS(
      convert_files({dir.file("ab.csv"), dir.file("ab.csv")}, dir.file("x.svm"), from_csv),
      "only .fgt inputs can be joined", UsageError);
}
