// Classification metrics from a predictions file (the one fg-predict writes).
//
// Definitions (those of scikit-learn): rows whose true label is empty are
// skipped (and counted). A true label the model never saw counts as an error
// and takes part in the per-class tables like any other label. Per-class
// precision = correct / predicted as the class, recall = correct / support,
// F1 their harmonic mean; 0 when undefined. Macro averages run over the
// labels that occur as a true or a predicted label; weighted F1 weights by
// support; micro F1 equals top-1 accuracy (single-label data); mean per-class
// accuracy is the mean recall over the labels that occur as true labels.
#pragma once

#include <boost/program_options.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "finegrain/classify/predictions.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/plot.hpp"

namespace fg {

struct ClassMetrics {
  std::string name;
  bool seen = true;             // one of the model's classes
  std::uint64_t support = 0;    // rows with this true label
  std::uint64_t predicted = 0;  // rows predicted as this class
  std::uint64_t correct = 0;
  double precision = 0, recall = 0, f1 = 0;
};

struct Metrics {
  std::uint64_t rows = 0;                  // rows in the file
  std::uint64_t evaluated = 0;             // rows with a true label
  std::uint64_t unlabeled = 0;             // rows skipped: empty true label
  std::uint64_t unseen_rows = 0;           // evaluated rows whose label the model never saw
  std::vector<std::string> unseen_labels;  // sorted
  std::size_t k = 1;
  std::uint64_t correct = 0;  // top-1
  double top1 = 0;
  std::vector<double> topk;  // topk[j] = accuracy within the first j + 1 candidates
  double mean_per_class_accuracy = 0;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double micro_f1 = 0, weighted_f1 = 0;
  // Model classes (in model order) then unseen true labels (sorted). The
  // confusion matrix has a row per entry and a column per model class.
  std::vector<ClassMetrics> classes;
  std::size_t model_classes = 0;
  std::vector<std::uint64_t> confusion;  // classes.size() x model_classes, row-major
  std::uint64_t count(std::size_t truth, std::size_t predicted) const {
    return confusion[truth * model_classes + predicted];
  }
};

// Throws Error when nothing can be evaluated (no rows, or no labeled rows).
Metrics evaluate(const Predictions& predictions, const std::string& source = "predictions");

// Human report (summary, then per-class table unless brief).
std::string metrics_report(const Metrics& metrics, bool brief = false);
// One JSON object, for machines.
std::string metrics_json(const Metrics& metrics);
// Counts: header "true\\predicted<TAB>class...", a row per true label.
void write_confusion_tsv(const std::string& path, const Metrics& metrics);
// The heat map write_confusion_plot draws (exposed for tests).
plot::HeatMap confusion_heat_map(const Metrics& metrics, const std::string& title = "");
// Heat map, colours = share of each true class (row-normalised), counts in
// the cells when there are few classes.
void write_confusion_plot(const std::string& path, const Metrics& metrics,
                          const std::string& title = "");

// What fg-eval prints and writes (the options pattern of core/cli.hpp).
struct EvalOptions {
  bool json = false;      // print JSON instead of the report
  std::string json_out;   // also write the JSON here ("" = no)
  bool brief = false;     // report without the per-class table
  std::string confusion;  // the confusion matrix as TSV here
  std::string plot;       // the heat map as PNG here
  std::string title;      // of the heat map ("" = the metrics)

  static void add_options(boost::program_options::options_description& options);
  static EvalOptions from(const boost::program_options::variables_map& vm);
};

// The files of EvalOptions: staged when made (an unwritable one fails before
// any work), written by write(), which replaces earlier ones together.
class EvalFiles {
 public:
  explicit EvalFiles(const EvalOptions& options);
  void write(const Metrics& metrics);

 private:
  EvalOptions options_;
  OutputSet outputs_;
  std::string confusion_, json_, plot_;  // staged paths ("" = not asked for)
};

}  // namespace fg
