// fg-pca: fit a PCA on training features, apply it to any features.
#include <limits>

#include "finegrain/chain/pca_fit.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/reduce/pca.hpp"

using namespace fg;
namespace po = cli::po;

namespace {

// fit [options] <features.fgt> | <a.stats> [<b.stats> ...] <pca.model>
int fit(const po::variables_map& vm, const std::vector<std::string>& args) {
  cli::require_args(args, 3, std::numeric_limits<std::size_t>::max());
  log::info(fit_pca_files({args.begin() + 1, args.end() - 1}, args.back(), PcaFitOptions::from(vm),
                          PcaReportOptions::from(vm)));
  return 0;
}

// stats <features.fgt> <out.stats>: one shard's sufficient statistics.
int stats(const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  if (args[2] == "-")
    throw UsageError("PCA statistics are a binary file: give a file name, not '-'");
  check_writable(args[2]);
  const PcaStats s = compute_pca_stats(args[1]);
  s.save(args[2]);
  log::info(cat("Done ", s.rows(), " rows of dimension ", s.dim(), ": statistics in ", args[2]));
  return 0;
}

// apply <pca.model> <in.fgt> <out.fgt>
int apply(const std::vector<std::string>& args) {
  cli::require_args(args, 4, 4);
  const PcaModel model = PcaModel::load(args[1]);
  const std::uint64_t rows = apply_pca(model, args[1], args[2], args[3]);
  log::info(cat("Done ", rows, " rows: dimension ", model.input_dim(), " -> ", model.output_dim(),
                model.whiten() ? " (whitened)" : ""));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-pca",
      "fit a PCA on training features, or apply a fitted PCA to features",
      "fg-pca fit [options] <features.fgt> <pca.model>\n"
      "       fg-pca fit [options] <a.stats> [<b.stats> ...] <pca.model>\n"
      "       fg-pca stats [options] <features.fgt> <out.stats>\n"
      "       fg-pca apply [options] <pca.model> <in.fgt> <out.fgt>",
      "fg-pca fit --dim 256 --table pca.tsv --plot pca.png train.fgt pca.model && "
      "fg-pca apply pca.model test.fgt test.pca.fgt",
      "fg-extract, fg-mic, fg-train",
      "fit computes the components on <features.fgt> and writes them to <pca.model>\n"
      "(a versioned binary file). apply projects every row of <in.fgt> onto them;\n"
      "'-' reads stdin / writes stdout, so apply can sit in a pipe.\n"
      "Variances are those of the sample covariance (denominator n - 1); the ratio\n"
      "divides by the total variance. Each component's largest coordinate is positive.\n"
      "--table columns: component, variance, ratio, cumulative, kept (1/0).\n"
      "stats writes one shard's sufficient statistics (rows, column sums, scatter\n"
      "matrix, in double); fit on several .stats files merges them in the order\n"
      "given and fits the exact covariance method: the same components as a fit\n"
      "of all the shards' rows in one table."};

  po::options_description options("Fit options");
  PcaFitOptions::add_options(options);
  PcaReportOptions::add_options(options);
  const std::vector<std::string> fit_options = cli::option_names(options);
  po::options_description common("Threads");
  cli::add_threads_option(common);
  options.add(common);

  return cli::run(
      argc, argv, usage, options,
      [&](const po::variables_map& vm, const std::vector<std::string>& args) {
        if (args.empty())
          throw UsageError("say what to do: fg-pca fit ..., fg-pca stats ... or fg-pca apply ...");
        cli::apply_threads(vm);
        if (args[0] == "fit") return fit(vm, args);
        if (args[0] == "apply")
          cli::reject_options(vm, fit_options, "is a fit option; apply uses what the model stores");
        if (args[0] == "stats")
          cli::reject_options(vm, fit_options, "is a fit option; stats does not fit");
        if (args[0] == "apply") return apply(args);
        if (args[0] == "stats") return stats(args);
        throw UsageError(cat("unknown command '", args[0], "': expected fit, stats or apply"));
      });
}
