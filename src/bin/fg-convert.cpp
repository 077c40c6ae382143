// fg-convert: feature tables to and from LIBSVM text, CSV, NumPy and text.
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/extract/options.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-convert",
      "convert feature tables (.fgt) to and from LIBSVM text, CSV, NumPy .npy and a text dump",
      "fg-convert [options] <in>... <out>",
      "fg-convert --to libsvm train.fgt train.svm && svm-train -t 0 train.svm",
      "fg-extract, fg-train",
      "Formats: fgt (the finegrain table), libsvm (labels = class numbers 0..k-1, names in\n"
      "<out>.classes), csv (header key,label,f1..fD), npy (float32 matrix + <stem>.labels.npy,\n"
      "<stem>.classes.txt, <stem>.keys.txt), text (for eyes; write only). '-' is stdin/stdout.\n"
      "Several .fgt inputs are joined in order (shards extracted in parallel): same dimension and\n"
      "extraction settings required, class lists merged by name."};
  cli::po::options_description options("Options");
  ConvertOptions::add_options(options);
  return cli::run(argc, argv, usage, options,
                  [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 2, 1000000);
                    const ConvertOptions convert = ConvertOptions::from(vm);
                    const TableHeader written = convert_files(
                        {args.begin(), args.end() - 1}, args.back(), convert, same_provenance);
                    log::info(convert_summary(written, convert));
                    return 0;
                  });
}
