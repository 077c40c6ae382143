// fg-pca: fit a PCA on training features, apply it to any features.
#include <algorithm>
#include <cstdio>
#include <limits>

#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/pca.hpp"

using namespace fg;

namespace {

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f s", seconds);
  return buf;
}

// A fit's outputs, staged before the work (an unwritable one fails at once)
// and committed together once all were written.
struct FitOutputs {
  OutputSet set;
  std::string model, table, plot;  // where to write each ("" = not asked for)
};

// Writes the model, table and plot of a fit, commits them, and says what it did.
void write_fit(const PcaModel& model, const PcaFitReport& report, FitOutputs& out,
               std::uint64_t rows, std::size_t dim, bool whiten) {
  model.save(out.model);
  if (!out.table.empty()) write_pca_variance_table(out.table, report);
  if (!out.plot.empty()) write_pca_variance_plot(out.plot, report);
  out.set.commit();
  log::info(cat("Done ", rows, " rows: dimension ", dim, " -> ", model.output_dim(),
                " components (", pca_method_name(report.method), whiten ? ", whitened" : "",
                "), explaining ", plot::format_percent(100.0 * model.explained_ratio()),
                " of the variance, in ", seconds_text(report.seconds)));
}

// fit [options] <a.stats> [<b.stats> ...] <pca.model>: merged in the order given.
int fit_from_stats(const std::vector<std::string>& inputs, FitOutputs& outputs,
                   const PcaFitOptions& options) {
  PcaStats merged;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i];
    if (!PcaStats::is_stats_file(path)) {
      throw UsageError(cat(path,
                           ": not PCA statistics; fitting on several inputs needs files written by "
                           "fg-pca stats (one feature table is fitted alone)"));
    }
    PcaStats shard = PcaStats::load(path);
    log::detail(cat("read statistics of ", shard.rows(), " rows of dimension ", shard.dim(),
                    " from ", path));
    if (i == 0)
      merged = std::move(shard);
    else
      merged.merge(shard, path);
  }
  PcaFitReport report;
  PcaModel model;
  try {
    model = PcaModel::fit(merged, options, &report);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw Error(cat(inputs.size() == 1 ? inputs.front() : cat(inputs.size(), " statistics files"),
                    ": ", e.what()));
  }
  write_fit(model, report, outputs, merged.rows(), merged.dim(), options.whiten);
  return 0;
}

int fit(const cli::po::variables_map& vm, const std::vector<std::string>& args,
        const PcaFitOptions& options) {
  cli::require_args(args, 3, std::numeric_limits<std::size_t>::max());
  options.check();
  const std::vector<std::string> inputs(args.begin() + 1, args.end() - 1);
  const std::string& model_path = args.back();
  const std::string table_path = vm["table"].as<std::string>();
  const std::string plot_path = vm["plot"].as<std::string>();
  if (model_path == "-")
    throw UsageError("the PCA model is a binary file: give a file name, not '-'");
  FitOutputs outputs;
  outputs.model = outputs.set.add(model_path, "the PCA model");
  if (!table_path.empty()) outputs.table = outputs.set.add(table_path, "--table");
  if (!plot_path.empty()) outputs.plot = outputs.set.add(plot_path, "--plot");
  if (inputs.size() > 1 || PcaStats::is_stats_file(inputs.front()))
    return fit_from_stats(inputs, outputs, options);

  const std::string& features = inputs.front();
  FeatureTable table = read_table(features);
  const std::string source = features == "-" ? "<stdin>" : features;
  if (table.rows() < 2)
    throw Error(
        cat(source, ": ", table.rows(), " rows; PCA needs at least 2 to estimate variances"));
  log::detail(cat("read ", table.rows(), " rows of dimension ", table.dim, " from ", source));

  PcaFitReport report;
  PcaModel model;
  try {
    model = PcaModel::fit(table, options, &report);
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  write_fit(model, report, outputs, table.rows(), table.dim, options.whiten);
  return 0;
}

// stats <features.fgt> <out.stats>: one shard's sufficient statistics.
int stats(const std::vector<std::string>& args) {
  cli::require_args(args, 3, 3);
  const std::string& features = args[1];
  const std::string& out_path = args[2];
  if (out_path == "-")
    throw UsageError("PCA statistics are a binary file: give a file name, not '-'");
  check_writable(out_path);
  FeatureTable table = read_table(features);
  const std::string source = features == "-" ? "<stdin>" : features;
  PcaStats s;
  try {
    s = PcaStats::compute(table);
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
  s.save(out_path);
  log::info(cat("Done ", s.rows(), " rows of dimension ", s.dim(), ": statistics in ", out_path));
  return 0;
}

int apply(const std::vector<std::string>& args) {
  cli::require_args(args, 4, 4);
  const std::string& model_path = args[1];
  const std::string& in_path = args[2];
  const std::string& out_path = args[3];
  PcaModel model = PcaModel::load(model_path);
  TableReader reader(in_path);
  model.check_input_dim(reader.header().dim, reader.name(), model_path);

  TableHeader header = reader.header();
  header.dim = model.output_dim();
  // The provenance (how the input values were made) passes on unchanged.
  TableWriter writer(out_path, header);

  // Batches: read serially, project in parallel, write in order.
  const std::size_t batch = 1024, in_dim = model.input_dim(), out_dim = model.output_dim();
  std::vector<TableRow> rows(batch);
  std::vector<float> in(batch * in_dim), out(batch * out_dim);
  std::uint64_t done = 0;
  for (;;) {
    std::size_t count = 0;
    while (count < batch && reader.next(rows[count])) {
      std::copy(rows[count].values.begin(), rows[count].values.end(), in.begin() + count * in_dim);
      ++count;
    }
    if (count == 0) break;
    model.apply(in.data(), count, out.data());
    for (std::size_t i = 0; i < count; ++i)
      writer.write(rows[i].key, rows[i].label, out.data() + i * out_dim);
    done += count;
    if (count < batch) break;
  }
  writer.commit();
  log::info(cat("Done ", done, " rows: dimension ", in_dim, " -> ", out_dim,
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

  PcaFitOptions fit_options;
  cli::po::options_description options("Fit options");
  fit_options.register_options(options);
  options.add_options()("table", cli::po::value<std::string>()->default_value(""),
                        "write the explained-variance table (TSV) here")(
      "plot", cli::po::value<std::string>()->default_value(""),
      "write the cumulative explained-variance plot (PNG) here");
  cli::po::options_description common("Threads");
  cli::add_threads_option(common);
  options.add(common);

  return cli::run(
      argc, argv, usage, options,
      [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
        if (args.empty())
          throw UsageError("say what to do: fg-pca fit ..., fg-pca stats ... or fg-pca apply ...");
        cli::apply_threads(vm);
        if (args[0] == "fit") return fit(vm, args, fit_options);
        if (args[0] == "apply" || args[0] == "stats") {
          for (const char* name : {"dim", "variance", "whiten", "method", "seed", "oversample",
                                   "power-iterations", "table", "plot"}) {
            if (vm.count(name) && !vm[name].defaulted()) {
              throw UsageError(cat(
                  "--", name, " is a fit option; ",
                  args[0] == "apply" ? "apply uses what the model stores" : "stats does not fit"));
            }
          }
          return args[0] == "apply" ? apply(args) : stats(args);
        }
        throw UsageError(cat("unknown command '", args[0], "': expected fit, stats or apply"));
      });
}
