// fg-list: an image folder root/<class>/<image> into a manifest.
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/listing.hpp"

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
  ListOptions::add_options(options);
  return cli::run(argc, argv, usage, options,
                  [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 1, 2);
                    const ListOptions split = ListOptions::from(vm);
                    const Listing listing = list_and_split(args[0], split);
                    write_listing(listing, split,
                                  args.size() > 1 ? std::optional(args[1]) : std::nullopt);
                    log::info(listing.summary(split.splitting()));
                    return 0;
                  });
}
