// fg-convert: feature tables to and from LIBSVM text, CSV, NumPy and text.
#include <algorithm>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/data/table.hpp"
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
  options.add_options()("from", cli::po::value<std::string>()->default_value("fgt"),
                        "input format: fgt|libsvm|csv")(
      "to", cli::po::value<std::string>()->default_value("fgt"),
      "output format: fgt|libsvm|csv|npy|text")(
      "dim", ranged<std::size_t>(0, 100000000)->default_value(0),
      "with --from libsvm: the dimension (0 = the largest index seen)")(
      "allow-nonfinite",
      "accept NaN/Inf values in the input (.fgt, libsvm or csv) and pass them on");

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        cli::require_args(args, 2, 1000000);
        const std::string from = vm["from"].as<std::string>(), to = vm["to"].as<std::string>();
        if (from != "fgt" && from != "libsvm" && from != "csv")
          throw UsageError(cat("--from must be fgt, libsvm or csv, got '", from, "'"));
        if (to != "fgt" && to != "libsvm" && to != "csv" && to != "npy" && to != "text")
          throw UsageError(cat("--to must be fgt, libsvm, csv, npy or text, got '", to, "'"));

        if (args.size() > 2 && from != "fgt") throw UsageError("only .fgt inputs can be joined");
        const std::string& out = args.back();
        TableReadOptions read_options;
        read_options.allow_nonfinite = vm.count("allow-nonfinite") > 0;
        const std::vector<std::string> inputs(args.begin(), args.end() - 1);
        const bool from_stdin = std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
        if (from == "fgt" && from_stdin && (to == "npy" || to == "text")) {
          // A stream does not say its row count, which these formats need first: in memory.
          FeatureTable table;
          for (const auto& path : inputs) append_table(table, read_table(path, read_options), path);
          write_in_format(to, out, table, read_options.allow_nonfinite);
          log::info(cat("Done ", table.rows(), " rows of dimension ", table.dim, ", ",
                        table.classes.size(), " classes (", from, " -> ", to, ")"));
          return 0;
        }
        if (from == "fgt") {
          // Record by record: any table size converts in the memory of one row.
          const TableHeader done = convert_tables(inputs, out, to, read_options, same_provenance);
          log::info(cat("Done ", *done.rows, " rows of dimension ", done.dim, ", ",
                        done.classes.size(), " classes (", from, " -> ", to, ")"));
          return 0;
        }
        const FeatureTable table =
            from == "libsvm" ? read_libsvm(args[0], vm["dim"].as<std::size_t>(), read_options)
                             : read_csv(args[0], read_options);
        write_in_format(to, out, table, read_options.allow_nonfinite);
        log::info(cat("Done ", table.rows(), " rows of dimension ", table.dim, ", ",
                      table.classes.size(), " classes (", from, " -> ", to, ")"));
        return 0;
      });
}
