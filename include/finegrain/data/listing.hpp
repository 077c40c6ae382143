// fg-list's work: an image folder listed as a manifest, optionally split in
// two, and the manifests written together.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "finegrain/core/option_range.hpp"
#include "finegrain/data/manifest.hpp"

namespace fg {

struct ListOptions {
  std::optional<double> test_fraction;  // --split: stratified, this fraction of each class to test
  std::uint64_t seed = 1;               // --seed of that split's shuffle
  std::string split_file;               // --split-file: an official split (see split_by_file)
  int train_flag = -1;                  // --train-flag of a CUB "id, flag" file; -1 = none given
  std::string train_out, test_out;      // the two parts' manifests

  bool splitting() const { return test_fraction || !split_file.empty(); }

  // --split, --seed, --split-file, --train-flag, --train-out, --test-out.
  static void add_options(po::options_description& options);
  // Throws UsageError unless the split and its outputs are given together.
  static ListOptions from(const po::variables_map& vm);
};

struct Listing {
  Manifest all, train, test;  // train and test are empty unless split
  ListReport report;
  // "Done 960 images in 12 classes (train 720, test 240); skipped ..."
  std::string summary(bool split) const;
};

// list_images(root) (no image at all is an Error), split as `options` say.
Listing list_and_split(const std::string& root, const ListOptions& options);

// Writes the parts to --train-out / --test-out and `all` to `all_out` (none:
// stdout, unless split), replacing earlier manifests together once all were written.
void write_listing(const Listing& listing, const ListOptions& options,
                   const std::optional<std::string>& all_out);

}  // namespace fg
