#include <doctest/doctest.h>

#include <filesystem>

#include "finegrain/core/common.hpp"
#include "finegrain/data/listing.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;

namespace {
const std::string kJpegHead = "\xff\xd8\xff\xe0 not really decodable, but a JPEG by its magic";
}  // namespace

TEST_CASE("listing: options default to the struct's, and a split comes with both outputs") {
  const ListOptions d, none = parse_option_group<ListOptions>({});
  CHECK(!none.splitting());
  CHECK(none.seed == d.seed);
  CHECK(none.train_flag == -1);
  const ListOptions split = parse_option_group<ListOptions>(
      {"--split", "0.25", "--seed", "7", "--train-out", "a", "--test-out", "b"});
  CHECK(split.splitting());
  CHECK(*split.test_fraction == 0.25);
  CHECK(split.seed == 7);
  CHECK(split.train_out == "a");
  CHECK(split.test_out == "b");
  CHECK_THROWS_WITH_AS(parse_option_group<ListOptions>({"--split", "0.25", "--train-out", "a"}),
                       "a split needs both --train-out and --test-out", UsageError);
  CHECK_THROWS_WITH_AS(parse_option_group<ListOptions>({"--test-out", "b"}),
                       "--train-out/--test-out need --split or --split-file", UsageError);
  CHECK_THROWS_WITH_AS(parse_option_group<ListOptions>({"--split", "0.5", "--split-file", "s.txt"}),
                       "give --split or --split-file, not both", UsageError);
  CHECK_THROWS_WITH_AS(parse_option_group<ListOptions>({"--split-file", "", "--train-out", "a"}),
                       "--split-file needs a file name", UsageError);
}

TEST_CASE("listing: a folder split by a path list; the manifests are written together") {
  TempDir dir;
  for (const char* name : {"a/1.jpg", "a/2.jpg", "b/3.jpg", "b/4.jpg", "b/5.jpg"}) {
    fs::create_directories((dir.path / name).parent_path());
    write_bytes(dir.file(name), kJpegHead);
  }
  write_bytes(dir.file("b/notes.txt"), "not an image");
  write_bytes(dir.file("train.txt"), "images/a/1.jpg\nimages/b/4.jpg\n");
  const ListOptions options = parse_option_group<ListOptions>(
      {"--split-file", dir.file("train.txt").c_str(), "--train-out", dir.file("tr.tsv").c_str(),
       "--test-out", dir.file("te.tsv").c_str()});
  const Listing listing = list_and_split(dir.path.string(), options);
  CHECK(listing.all.size() == 5);
  CHECK(listing.train.size() == 2);
  CHECK(listing.test.size() == 3);
  CHECK(listing.summary(true) ==
        "Done 5 images in 2 classes (train 2, test 3); skipped 1 non-image files, 0 empty "
        "classes, 0 unreadable folders, 0 links to folders already listed");
  write_listing(listing, options, dir.file("all.tsv"));
  CHECK(read_bytes(dir.file("tr.tsv")) ==
        cat(dir.file("a/1.jpg"), "\ta\n", dir.file("b/4.jpg"), "\tb\n"));
  CHECK(read_manifest(dir.file("te.tsv")).size() == 3);
  CHECK(read_manifest(dir.file("all.tsv")).size() == 5);
  // A part that cannot be written leaves every earlier manifest as it was.
  const std::string before = read_bytes(dir.file("tr.tsv"));
  ListOptions unwritable = options;
  unwritable.test_out = dir.file("no such folder/te.tsv");
  CHECK_THROWS_AS(write_listing(listing, unwritable, std::nullopt), Error);
  CHECK(read_bytes(dir.file("tr.tsv")) == before);
  // No image at all is an error naming the folder.
  fs::create_directories(dir.path / "empty" / "c");
  CHECK_THROWS_WITH_AS(list_and_split(dir.file("empty"), ListOptions{}),
                       doctest::Contains("no images found in any class folder"), Error);
}
