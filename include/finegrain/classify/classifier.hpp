// A trained classifier as one versioned file: the input scaling, the class
// list, and an SVM (LIBSVM one-vs-one) or a multinomial logistic regression.
//
// fg-train writes it, fg-predict and the batch scorer (fg-score) load it and
// call predict_row() — one code path, so both give identical predictions.
#pragma once

#include <boost/program_options.hpp>
#include <iosfwd>
#include <string>
#include <vector>

#include "finegrain/classify/logreg.hpp"
#include "finegrain/classify/predictions.hpp"
#include "finegrain/classify/scaling.hpp"
#include "finegrain/classify/svm.hpp"
#include "finegrain/data/table.hpp"

namespace fg {

enum class ClassifierType { svm, logreg };
std::string to_string(ClassifierType type);
ClassifierType parse_classifier_type(const std::string& text);

// Everything fg-train can set; registers and reads its own options (the
// options pattern of core/cli.hpp: help defaults from the members' defaults).
struct TrainOptions {
  ClassifierType type = ClassifierType::svm;
  ScaleKind scale = ScaleKind::minmax;
  double scale_lower = -1.0, scale_upper = 1.0;
  SvmOptions svm;
  LogregOptions logreg;

  static void add_options(boost::program_options::options_description& options);
  static TrainOptions from(const boost::program_options::variables_map& vm);
};

// Model file layout (little-endian): "FGCLSFR\n", u32 version (=1), then the
// type, dimension, classes, scaler and the model's own numbers as raw
// doubles (exact round trip), ending with "END\n".
inline constexpr std::uint32_t kClassifierVersion = 1;

// Before reading anything big: will the table `table_path` (its header's row
// count) and the training fit in memory? Error naming the table if not;
// nothing to check for "-" or a table without a row count.
void check_training_memory(const std::string& table_path, const TrainOptions& options);

class Classifier {
 public:
  // Trains on the labelled rows of `table` (unlabelled rows are skipped with
  // a warning). `source` names the table in messages.
  static Classifier train(const FeatureTable& table, const TrainOptions& options,
                          const std::string& source = "training table");
  // Bytes train() needs for `rows` training rows of `dim` (with_table: plus
  // the table itself, as fg-train holds it); checked against the machine's
  // memory before training starts (core/memory.hpp).
  static double memory_bytes(std::size_t rows, std::size_t dim, int classes,
                             const TrainOptions& options, bool with_table = true);
  static Classifier load(const std::string& path);
  static Classifier read(std::istream& in, const std::string& name);
  void save(const std::string& path) const;  // atomic
  void write(std::ostream& out) const;

  ClassifierType type() const { return type_; }
  std::size_t dim() const { return dim_; }
  const std::vector<std::string>& classes() const { return classes_; }
  bool has_probabilities() const { return type_ == ClassifierType::logreg || svm_.probability; }
  const Scaler& scaler() const { return scaler_; }
  const SvmModel& svm() const { return svm_; }
  const LogregModel& logreg() const { return logreg_; }
  // A human-readable line: what was trained, on what, with which settings.
  const std::string& info() const { return info_; }
  // The training table's provenance (how its features were made).
  const std::string& provenance() const { return provenance_; }

  // Scores of all classes for one input row of dim() floats.
  void scores(const float* x, double* out) const;
  // The best `topk` classes, best first (ties: lower class index first).
  std::vector<Prediction> predict_row(const float* x, std::size_t topk = 1) const;

  // Checks that a table fits the model (dimension) and maps its class names
  // to model classes: result[i] = model class of table class i, or -1 when
  // training never saw it. `table_name`, the model's path in messages.
  std::vector<int> map_classes(const TableHeader& header, const std::string& table_name) const;

 private:
  ClassifierType type_ = ClassifierType::svm;
  std::size_t dim_ = 0;
  std::vector<std::string> classes_;
  Scaler scaler_;
  SvmModel svm_;
  LogregModel logreg_;
  std::string info_;
  std::string provenance_;
  std::string path_ = "<model>";
};

}  // namespace fg
