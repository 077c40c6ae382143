#include "finegrain/chain/pca_fit.hpp"

#include <cstdio>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/eval/pca_plot.hpp"

namespace fg {

void PcaReportOptions::add_options(po::options_description& options) {
  const PcaReportOptions d;
  options.add_options()("table", po::value<std::string>()->default_value(d.table),
                        "write the explained-variance table (TSV) here")(
      "plot", po::value<std::string>()->default_value(d.plot),
      "write the cumulative explained-variance plot (PNG) here");
}

PcaReportOptions PcaReportOptions::from(const po::variables_map& vm) {
  return {vm["table"].as<std::string>(), vm["plot"].as<std::string>()};
}

std::string fit_pca_files(const std::vector<std::string>& inputs, const std::string& model_path,
                          const PcaFitOptions& options, const PcaReportOptions& reports) {
  if (model_path == "-")
    throw UsageError("the PCA model is a binary file: give a file name, not '-'");
  OutputSet outputs;
  const std::string model_stage = outputs.add(model_path, "the PCA model");
  const std::string table = reports.table.empty() ? "" : outputs.add(reports.table, "--table");
  const std::string plot = reports.plot.empty() ? "" : outputs.add(reports.plot, "--plot");
  PcaFitReport report;
  const PcaModel model = fit_pca(inputs, options, &report);
  model.save(model_stage);
  if (!table.empty()) write_pca_variance_table(table, report);
  if (!plot.empty()) write_pca_variance_plot(plot, report);
  outputs.commit();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.2f s", report.seconds);
  return cat("Done ", model.samples(), " rows: dimension ", model.input_dim(), " -> ",
             model.output_dim(), " components (", pca_method_name(report.method),
             options.whiten ? ", whitened" : "", "), explaining ",
             plot::format_percent(100.0 * model.explained_ratio()), " of the variance, in ",
             seconds);
}

}  // namespace fg
