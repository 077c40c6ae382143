// fg-list: an image folder root/<class>/<image> into a manifest.
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/manifest.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-list",
      "list the images of a folder root/<class>/... as a manifest (path<TAB>label), optionally "
      "split",
      "fg-list [options] <image-root> [<manifest-out>|-]",
      "fg-list data/flowers12/train all.tsv --split 0.25 --seed 1 --train-out tr.tsv --test-out "
      "va.tsv",
      "fg-extract, fg-score",
      "Files are images by content (JPEG, PNG, BMP, TIFF, WebP, PNM, ...), not by extension.\n"
      "Order: classes, then paths, in byte order: the same on every machine.\n"
      "A split needs --train-out and --test-out; <manifest-out> (default: stdout) gets every "
      "image.\n"
      "--split-file takes a list of relative paths (CUB-100 train.txt: listed = train) or\n"
      "CUB's 'id, flag' train_test_split.txt (with images.txt beside it, and --train-flag)."};
  cli::po::options_description options("Options");
  options.add_options()("split", ranged<double>(0, 1, Ends::open),
                        "fraction of each class to put in the test part (e.g. 0.25)")(
      "seed", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(1),
      "seed of the --split shuffle")("split-file", cli::po::value<std::string>(),
                                     "official split: path list or CUB train_test_split.txt")(
      "train-flag", ranged<int>(0, 1)->default_value(-1, "none"),
      "with a CUB 'id, flag' file: the flag meaning train (CUB-200-2011: 1, cub100: 0)")(
      "train-out", cli::po::value<std::string>(), "manifest of the train part")(
      "test-out", cli::po::value<std::string>(), "manifest of the test part");

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 1, 2);
        const std::string& root = args[0];
        std::string out = args.size() > 1 ? args[1] : "-";
        bool splitting = vm.count("split") || vm.count("split-file");
        if (vm.count("split") && vm.count("split-file"))
          throw UsageError("give --split or --split-file, not both");
        if (splitting && (!vm.count("train-out") || !vm.count("test-out")))
          throw UsageError("a split needs both --train-out and --test-out");
        if (!splitting && (vm.count("train-out") || vm.count("test-out")))
          throw UsageError("--train-out/--test-out need --split or --split-file");

        ListReport report;
        Manifest all = list_images(root, report);
        if (all.empty()) throw Error(cat(root, ": no images found in any class folder"));
        Manifest train, test;
        if (vm.count("split"))
          split_stratified(all, vm["split"].as<double>(), vm["seed"].as<std::uint64_t>(), train,
                           test);
        if (vm.count("split-file"))
          split_by_file(all, root, vm["split-file"].as<std::string>(), vm["train-flag"].as<int>(),
                        train, test);

        // The manifests replace earlier ones together, once all were written.
        OutputSet outputs;
        if (splitting) {
          write_manifest(outputs.add(vm["train-out"].as<std::string>(), "--train-out"), train);
          write_manifest(outputs.add(vm["test-out"].as<std::string>(), "--test-out"), test);
        }
        if (!splitting || args.size() > 1) write_manifest(outputs.add(out, "the manifest"), all);
        outputs.commit();

        std::string summary =
            cat("Done ", report.images, " images in ", report.classes, " classes");
        if (splitting) summary += cat(" (train ", train.size(), ", test ", test.size(), ")");
        std::size_t skipped =
            report.non_images + report.empty_classes + report.unreadable_dirs + report.link_loops;
        if (skipped)
          summary +=
              cat("; skipped ", report.non_images, " non-image files, ", report.empty_classes,
                  " empty classes, ", report.unreadable_dirs, " unreadable folders, ",
                  report.link_loops, " links to folders already listed");
        log::info(summary);
        return 0;
      });
}
