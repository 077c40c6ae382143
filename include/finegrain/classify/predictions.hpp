// predictions.tsv, the file of a classifier's answers: fg-predict and fg-score
// write it, fg-eval, fg-viz and fg-jobs read it (format in README).
//
//   #key<TAB>true<TAB>predicted<TAB>score[<TAB>pred2<TAB>score2 ... predK<TAB>scoreK]
//   #classes<TAB><the model's classes, model order>
//   <key><TAB><true label or empty><TAB><class><TAB><score>...   one line per record
//
// It lives with the classifier that writes it; the evaluation stage reads it
// from here (a downward dependency, like every other in the library).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "finegrain/core/option_range.hpp"

namespace fg {

class Classifier;

// One candidate class of a row.
struct Prediction {
  int cls = 0;         // index into the model's classes
  double score = 0.0;  // probability, or SVM votes / (classes - 1)
};

// ---- writing ------------------------------------------------------------------

// The two header lines for `topk` candidates per row (at most classes.size()).
std::string predictions_header(const std::vector<std::string>& classes, std::size_t topk);
// One row; tabs and line breaks inside key, truth or class names become spaces.
std::string prediction_line(const std::string& key, const std::string& truth,
                            const std::vector<Prediction>& predictions,
                            const std::vector<std::string>& classes);

// What predict_table did, for the program's report.
struct PredictSummary {
  std::uint64_t rows = 0;      // rows predicted
  std::uint64_t labelled = 0;  // rows with a true label
  std::uint64_t correct = 0;   // labelled rows whose top-1 class is the true one
  std::uint64_t unseen = 0;    // labelled rows whose label the model was not trained on
  std::map<std::string, std::uint64_t> unseen_labels;  // those labels and their rows

  // "" when every label was seen, else the warning naming the unseen ones.
  std::string unseen_warning() const;
  // "Done 240 rows; top-1 accuracy 96.25 % on 240 labelled rows"
  std::string summary() const;
};

// fg-predict's settings.
struct PredictOptions {
  std::size_t top_k = 1;  // --top-k, -k: candidates per row, best first (1..100000)

  static void add_options(po::options_description& options);
  static PredictOptions from(const po::variables_map& vm);
};

// Predicts every row of the feature table `in_path` with `model` and writes
// predictions.tsv to `out_path` (either may be "-"), `topk` candidates per
// row. Rows are read and predicted in batches of about 64 MB, in parallel
// (OpenMP), so memory stays flat whatever the table's size. Error (nothing
// written) on a table that does not fit the model, an empty table, or a
// non-finite score.
PredictSummary predict_table(const Classifier& model, const std::string& in_path,
                             const std::string& out_path, std::size_t topk);

// ---- reading ------------------------------------------------------------------

struct Predictions {
  std::vector<std::string> classes;  // the model's classes, model order
  std::size_t k = 1;                 // candidates per row
  struct Row {
    std::string key;
    std::string truth;                   // "" = unlabeled
    std::vector<std::string> predicted;  // k names, best first
    std::vector<double> scores;          // k scores
  };
  std::vector<Row> rows;
};

// Strict reader ("-" = stdin): errors name the file and line. Columns are
// found by name; unknown trailing columns are ignored (the format may grow).
Predictions read_predictions(const std::string& path);

}  // namespace fg
