// fg-pca fit's work: the fit, its model and its reports. The variance table
// comes from reduce and its chart from eval; they meet here because reduce
// must not depend on eval.
#pragma once

#include <string>
#include <vector>

#include "finegrain/core/option_range.hpp"
#include "finegrain/reduce/pca.hpp"

namespace fg {

// What a fit writes besides the model ("" = not asked for).
struct PcaReportOptions {
  std::string table;  // --table: the explained-variance table (TSV)
  std::string plot;   // --plot: its cumulative chart (PNG)

  static void add_options(po::options_description& options);
  static PcaReportOptions from(const po::variables_map& vm);
};

// Fits on `inputs` (fit_pca), writes the model to `model_path` and the
// reports asked for. Every output is staged first (one that cannot be written
// fails before the fit) and all replace earlier ones together at the end.
// Returns the summary line ("Done 720 rows: dimension 512 -> 64 components ...").
std::string fit_pca_files(const std::vector<std::string>& inputs, const std::string& model_path,
                          const PcaFitOptions& options, const PcaReportOptions& reports);

}  // namespace fg
