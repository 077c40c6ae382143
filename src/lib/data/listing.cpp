#include "finegrain/data/listing.hpp"

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"

namespace fg {

void ListOptions::add_options(po::options_description& options) {
  const ListOptions d;
  // clang-format off
  options.add_options()
    ("split", ranged<double>(0, 1, Ends::open),
     "fraction of each class to put in the test part (e.g. 0.25)")
    ("seed", defaults_to(ranged<std::uint64_t>(0, unbounded<std::uint64_t>()), d.seed),
     "seed of the --split shuffle")
    ("split-file", po::value<std::string>(), "official split: path list or CUB train_test_split.txt")
    ("train-flag", ranged<int>(0, 1)->default_value(d.train_flag, "none"),
     "with a CUB 'id, flag' file: the flag meaning train (CUB-200-2011: 1, cub100: 0)")
    ("train-out", po::value<std::string>(), "manifest of the train part")
    ("test-out", po::value<std::string>(), "manifest of the test part");
  // clang-format on
}

ListOptions ListOptions::from(const po::variables_map& vm) {
  ListOptions o;
  if (vm.count("split") && vm.count("split-file"))
    throw UsageError("give --split or --split-file, not both");
  if (vm.count("split")) o.test_fraction = vm["split"].as<double>();
  o.seed = vm["seed"].as<std::uint64_t>();
  if (vm.count("split-file")) {
    o.split_file = vm["split-file"].as<std::string>();
    if (o.split_file.empty()) throw UsageError("--split-file needs a file name");
  }
  o.train_flag = vm["train-flag"].as<int>();
  if (vm.count("train-out")) o.train_out = vm["train-out"].as<std::string>();
  if (vm.count("test-out")) o.test_out = vm["test-out"].as<std::string>();
  const bool outputs = vm.count("train-out") || vm.count("test-out");
  if (o.splitting() && (!vm.count("train-out") || !vm.count("test-out")))
    throw UsageError("a split needs both --train-out and --test-out");
  if (!o.splitting() && outputs)
    throw UsageError("--train-out/--test-out need --split or --split-file");
  return o;
}

std::string Listing::summary(bool split) const {
  std::string text = cat("Done ", report.images, " images in ", report.classes, " classes");
  if (split) text += cat(" (train ", train.size(), ", test ", test.size(), ")");
  const std::size_t skipped =
      report.non_images + report.empty_classes + report.unreadable_dirs + report.link_loops;
  if (skipped)
    text += cat("; skipped ", report.non_images, " non-image files, ", report.empty_classes,
                " empty classes, ", report.unreadable_dirs, " unreadable folders, ",
                report.link_loops, " links to folders already listed");
  return text;
}

Listing list_and_split(const std::string& root, const ListOptions& options) {
  Listing listing;
  listing.all = list_images(root, listing.report);
  if (listing.all.empty()) throw Error(cat(root, ": no images found in any class folder"));
  if (options.test_fraction)
    split_stratified(listing.all, *options.test_fraction, options.seed, listing.train,
                     listing.test);
  if (!options.split_file.empty())
    split_by_file(listing.all, root, options.split_file, options.train_flag, listing.train,
                  listing.test);
  return listing;
}

void write_listing(const Listing& listing, const ListOptions& options,
                   const std::optional<std::string>& all_out) {
  OutputSet outputs;
  if (options.splitting()) {
    write_manifest(outputs.add(options.train_out, "--train-out"), listing.train);
    write_manifest(outputs.add(options.test_out, "--test-out"), listing.test);
  }
  if (!options.splitting() || all_out)
    write_manifest(outputs.add(all_out.value_or("-"), "the manifest"), listing.all);
  outputs.commit();
}

}  // namespace fg
