#include <doctest/doctest.h>

#include <filesystem>

#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/core/io.hpp"
#include "test_util.hpp"

using namespace fg;

TEST_CASE("convert: fgt -> libsvm -> fgt and fgt -> csv -> fgt keep every value exactly (720 x 4096)") {
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
  for (std::size_t i = 0; i < table.rows(); ++i) CHECK(from_csv.label_name(i) == table.label_name(i));
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
    CHECK_THROWS_WITH_AS(read_libsvm(dir.file("bad.svm")), doctest::Contains(expected.c_str()), Error);
  };
  check("1 1:0.5 2:1\n1 2:0.5 1:1\n", "bad.svm:2: '1:1': indices must be ascending");
  check("1 1:0.5 2:x\n", "bad.svm:1: '2:x': value is not a number");
  check("a 1:0.5\n", "bad.svm:1: 'a': expected an integer label");
  check("1.5 1:0.5\n", "labels must be integer class numbers");
  check("1 0:0.5\n", "index must be an integer >= 1");
  check("1 3\n", "'3': expected index:value");
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
