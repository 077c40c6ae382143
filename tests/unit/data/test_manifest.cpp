#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "finegrain/core/common.hpp"
#include "finegrain/data/manifest.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;

namespace {
std::map<std::string, int> count_by_label(const Manifest& manifest) {
  std::map<std::string, int> counts;
  for (const auto& entry : manifest) ++counts[entry.label];
  return counts;
}
const std::string kJpegHead = "\xff\xd8\xff\xe0 not really decodable, but a JPEG by its magic";
}  // namespace

TEST_CASE(
    "manifest: flowers12/train lists 720 images in 12 classes, split 45/15 per class, "
    "reproducibly") {
  ListReport report;
  Manifest all = list_images(test_assets() + "/data/flowers12/train", report);
  CHECK(all.size() == 720);
  CHECK(report.classes == 12);
  CHECK(manifest_classes(all).size() == 12);
  CHECK(std::is_sorted(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.label != b.label ? a.label < b.label : a.path < b.path;
  }));
  Manifest train, test, train2, test2;
  split_stratified(all, 0.25, 1, train, test);
  for (const auto& [label, count] : count_by_label(train)) CHECK(count == 45);
  for (const auto& [label, count] : count_by_label(test)) CHECK(count == 15);
  split_stratified(all, 0.25, 1, train2, test2);
  CHECK(test2.size() == test.size());
  for (std::size_t i = 0; i < test.size(); ++i) CHECK(test[i].path == test2[i].path);
  split_stratified(all, 0.25, 2, train2, test2);
  bool differs = false;
  for (std::size_t i = 0; i < test.size(); ++i) differs |= test[i].path != test2[i].path;
  CHECK(differs);  // another seed, another split
}

TEST_CASE("manifest: the cub100 official split gives 2,999 train and 2,903 test in 100 classes") {
  std::string root = test_assets() + "/data/cub100/images";
  ListReport report;
  Manifest all = list_images(root, report);
  CHECK(all.size() == 5902);
  Manifest train, test, train2, test2;
  split_by_file(all, root, test_assets() + "/data/cub100/train.txt", -1, train, test);
  CHECK(train.size() == 2999);
  CHECK(test.size() == 2903);
  CHECK(manifest_classes(train).size() == 100);
  CHECK(manifest_classes(test).size() == 100);
  // CUB's own layout (images.txt + train_test_split.txt, 0 = train here) agrees.
  split_by_file(all, root, test_assets() + "/data/cub100/train_test_split.txt", 0, train2, test2);
  REQUIRE(train2.size() == train.size());
  for (std::size_t i = 0; i < train.size(); ++i) CHECK(train2[i].path == train[i].path);
  CHECK_THROWS_WITH_AS(split_by_file(all, root, test_assets() + "/data/cub100/train_test_split.txt",
                                     -1, train2, test2),
                       doctest::Contains("--train-flag"), UsageError);
}

TEST_CASE("manifest: images by content, spaces and non-ASCII, nested folders, empty classes") {
  TempDir dir;
  fs::create_directories(dir.path / "Rosa canina" / "sub dir");
  fs::create_directories(dir.path / "Löwenzahn");
  fs::create_directories(dir.path / "empty class");
  write_bytes(dir.file("Rosa canina/b image.jpg"), kJpegHead);
  write_bytes(dir.file("Rosa canina/sub dir/a.png"), "\x89PNG\r\n\x1a\n....");
  write_bytes(dir.file("Rosa canina/notes.txt"), "not an image");
  write_bytes(dir.file("Rosa canina/fake.jpg"), "");  // zero bytes: not an image
  write_bytes(dir.file("Löwenzahn/blüte.jpeg"), kJpegHead);
  write_bytes(dir.file("Löwenzahn/.hidden.jpg"), kJpegHead);
  write_bytes(dir.file("readme.txt"), "loose");
  ListReport report;
  Manifest all = list_images(dir.path.string(), report);
  REQUIRE(all.size() == 3);
  CHECK(all[0].label == "Löwenzahn");
  CHECK(all[0].path == dir.file("Löwenzahn/blüte.jpeg"));
  CHECK(all[1].path == dir.file("Rosa canina/b image.jpg"));
  CHECK(all[2].path == dir.file("Rosa canina/sub dir/a.png"));
  CHECK(report.non_images == 2);
  CHECK(report.empty_classes == 1);
  CHECK(report.loose_files == 1);
  CHECK(report.classes == 2);

  write_manifest(dir.file("m.tsv"), all);
  Manifest back = read_manifest(dir.file("m.tsv"));
  REQUIRE(back.size() == 3);
  CHECK(back[1].path == all[1].path);
  CHECK(back[1].label == "Rosa canina");
}

TEST_CASE("manifest: a split-file line that matches no image is an error naming the line") {
  TempDir dir;
  fs::create_directories(dir.path / "c");
  write_bytes(dir.file("c/1.jpg"), kJpegHead);
  write_bytes(dir.file("list.txt"), "images/c/1.jpg\nimages/c/2.jpg\n");
  ListReport report;
  Manifest all = list_images(dir.path.string(), report), train, test;
  CHECK_THROWS_WITH_AS(split_by_file(all, dir.path.string(), dir.file("list.txt"), -1, train, test),
                       doctest::Contains("list.txt:2: images/c/2.jpg is not among the images"),
                       Error);
}

TEST_CASE("manifest: reading rejects malformed lines") {
  TempDir dir;
  write_bytes(dir.file("bad.tsv"), "a.jpg\tx\nb.jpg\tx\ty\n");
  CHECK_THROWS_WITH_AS(read_manifest(dir.file("bad.tsv")), doctest::Contains("bad.tsv:2:"), Error);
  write_bytes(dir.file("empty.tsv"), "# nothing\n");
  CHECK_THROWS_WITH_AS(read_manifest(dir.file("empty.tsv")), doctest::Contains("no images listed"),
                       Error);
}

TEST_CASE("manifest: symbolic links are followed, folder loops listed once and counted") {
  TempDir dir;
  const fs::path root = dir.path / "root";
  fs::create_directories(root / "a");
  fs::create_directories(root / "b");
  write_bytes((root / "a" / "1.jpg").string(), "\xff\xd8\xff\xe0 fake jpeg");
  write_bytes((root / "b" / "2.jpg").string(), "\xff\xd8\xff\xe0 fake jpeg");
  fs::create_directory_symlink(".", root / "a" / "loop");      // a cycle
  fs::create_directory_symlink("../a", root / "b" / "other");  // another class's folder: listed
  fs::create_symlink("1.jpg", root / "a" / "alias.jpg");       // a link to a file: followed
  ListReport report;
  const Manifest listed = list_images(root.string(), report);
  std::vector<std::string> paths;
  for (const auto& e : listed)
    paths.push_back(fs::path(e.path).lexically_relative(root).generic_string());
  CHECK(paths == std::vector<std::string>{"a/1.jpg", "a/alias.jpg", "b/2.jpg", "b/other/1.jpg",
                                          "b/other/alias.jpg"});
  CHECK(report.link_loops == 2);  // a/loop, and b/other/loop
  CHECK(report.images == 5);
}

TEST_CASE("manifest: a UTF-8 byte-order mark does not hide the first image") {
  TempDir dir;
  const std::string path = dir.file("bom.tsv");
  write_bytes(path,
              "\xef\xbb\xbf"
              "img/1.jpg\tcat\nimg/2.jpg\tdog\n");
  const Manifest manifest = read_manifest(path);
  REQUIRE(manifest.size() == 2);
  CHECK(manifest[0].path == "img/1.jpg");
  CHECK(manifest[0].label == "cat");
}

// Found by fuzz_manifest (issue 14): a manifest that reads must write and read back the same.
TEST_CASE("manifest: a doubled byte-order mark and CR CR LF lines survive or are refused") {
  TempDir dir;
  const std::string bom = "\xef\xbb\xbf";
  write_bytes(dir.file("two.tsv"), bom + bom + "g.jpg\tcat\n");
  const Manifest two = read_manifest(dir.file("two.tsv"));
  REQUIRE(two.size() == 1);
  CHECK(two[0].path == bom + "g.jpg");  // one mark dropped, as documented
  write_manifest(dir.file("again.tsv"), two);
  const Manifest back = read_manifest(dir.file("again.tsv"));
  REQUIRE(back.size() == 1);
  CHECK(back[0].path == two[0].path);
  CHECK(back[0].label == "cat");

  write_bytes(dir.file("crcr.tsv"), "a.jpg\tcat\r\nb.jpg\tdog\r\r\n");
  CHECK_THROWS_WITH_AS(read_manifest(dir.file("crcr.tsv")),
                       doctest::Contains("crcr.tsv:2: a carriage return at the end of the label"),
                       Error);
  write_bytes(dir.file("crpath.tsv"), "a.jpg\r\r\n");
  CHECK_THROWS_WITH_AS(read_manifest(dir.file("crpath.tsv")),
                       doctest::Contains("crpath.tsv:1: a carriage return at the end of the path"),
                       Error);
  write_bytes(dir.file("crtab.tsv"), "a.jpg\r\t\n");  // no label: written back as "a.jpg\r\n"
  CHECK_THROWS_WITH_AS(read_manifest(dir.file("crtab.tsv")),
                       doctest::Contains("crtab.tsv:1: a carriage return at the end of the path"),
                       Error);
}
