#include "finegrain/classify/predictions.hpp"

#include <algorithm>
#include <set>

#include "finegrain/classify/classifier.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/data/table.hpp"

namespace fg {

namespace {

std::string clean_field(std::string s) {
  for (char& c : s)
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  return s;
}

}  // namespace

std::string predictions_header(const std::vector<std::string>& classes, std::size_t topk) {
  topk = std::min(std::max<std::size_t>(topk, 1), classes.size());
  std::string h = "#key\ttrue\tpredicted\tscore";
  for (std::size_t i = 2; i <= topk; ++i) h += cat("\tpred", i, "\tscore", i);
  h += "\n#classes";
  for (const auto& c : classes) h += "\t" + clean_field(c);
  return h + "\n";
}

std::string prediction_line(const std::string& key, const std::string& truth,
                            const std::vector<Prediction>& predictions,
                            const std::vector<std::string>& classes) {
  std::string line = clean_field(key) + "\t" + clean_field(truth);
  for (const auto& p : predictions)
    line += "\t" + clean_field(classes[p.cls]) + "\t" + format_float(static_cast<float>(p.score));
  return line + "\n";
}

std::string PredictSummary::unseen_warning() const {
  if (!unseen) return "";
  std::string names;
  for (const auto& [name, count] : unseen_labels)
    names += cat(names.empty() ? "" : ", ", name, " (", count, ")");
  return cat(unseen, " rows have labels the model was not trained on: ", names,
             "; they are written as they are and count as errors in fg-eval");
}

std::string PredictSummary::summary() const {
  if (!labelled) return cat("Done ", rows, " rows (unlabelled)");
  return cat("Done ", rows, " rows; top-1 accuracy ", 100.0 * double(correct) / double(labelled),
             " % on ", labelled, " labelled rows");
}

void PredictOptions::add_options(po::options_description& options) {
  const PredictOptions d;
  options.add_options()("top-k,k", defaults_to(ranged<std::size_t>(1, 100000), d.top_k),
                        "also write the next best classes: pred2 score2 ... predK scoreK");
}

PredictOptions PredictOptions::from(const po::variables_map& vm) {
  PredictOptions o;
  o.top_k = vm["top-k"].as<std::size_t>();
  return o;
}

PredictSummary predict_table(const Classifier& model, const std::string& in_path,
                             const std::string& out_path, std::size_t topk) {
  TableReader reader(in_path);
  const std::vector<int> to_model = model.map_classes(reader.header(), reader.name());
  const auto& table_classes = reader.header().classes;
  AtomicOutput out(out_path, false);
  std::ostream& os = out.stream();
  os << predictions_header(model.classes(), topk);

  PredictSummary summary;
  // Batches of about 64 MB: 1024 rows of 1,024 dims, 127 rows of bilinear
  // pooling's 131,328.
  const std::size_t batch =
      std::clamp<std::size_t>((std::size_t(64) << 20) / (4 * model.dim() + 1), 16, 1024);
  std::vector<TableRow> buffer(batch);
  std::vector<std::vector<Prediction>> predictions(batch);
  for (bool more = true; more;) {
    std::size_t m = 0;
    while (m < batch && (more = reader.next(buffer[m]))) ++m;
    std::string error;  // an exception must not leave the parallel loop
#pragma omp parallel for schedule(dynamic, 16)
    for (std::size_t i = 0; i < m; ++i) {
      try {
        predictions[i] = model.predict_row(buffer[i].values.data(), topk);
      } catch (const std::exception& e) {
#pragma omp critical
        if (error.empty())
          error = cat(e.what(), " (row ", buffer[i].key, " of ", reader.name(), ")");
      }
    }
    if (!error.empty()) throw Error(error);
    for (std::size_t i = 0; i < m; ++i) {
      const int label = buffer[i].label;
      std::string truth;
      if (label >= 0 && static_cast<std::size_t>(label) < table_classes.size()) {
        truth = table_classes[label];
        ++summary.labelled;
        if (to_model[label] < 0)
          ++summary.unseen_labels[truth], ++summary.unseen;
        else if (to_model[label] == predictions[i][0].cls)
          ++summary.correct;
      }
      os << prediction_line(buffer[i].key, truth, predictions[i], model.classes());
    }
    summary.rows += m;
  }
  if (summary.rows == 0) throw Error(cat(reader.name(), ": empty table, no predictions written"));
  out.commit();
  return summary;
}

Predictions read_predictions(const std::string& path) {
  const std::vector<std::string> lines = read_lines(path);
  const std::string name = path == "-" ? "<stdin>" : path;
  if (lines.empty())
    throw Error(cat(name, ": empty file (expected predictions written by fg-predict)"));
  if (lines[0].rfind("#key\t", 0) != 0) {
    throw Error(
        cat(name,
            ":1: not a predictions file: expected a '#key<TAB>true<TAB>predicted<TAB>score' header "
            "(as fg-predict writes); this looks like ",
            describe_content(lines[0].substr(0, 64))));
  }
  // Columns by name; unknown trailing columns are ignored (the format may grow).
  const std::vector<std::string> header = split_fields(lines[0]);
  auto column = [&](const std::string& wanted) -> int {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == wanted) return static_cast<int>(i);
    return -1;
  };
  const int truth_col = column("true"), pred_col = column("predicted"), score_col = column("score");
  if (truth_col < 0 || pred_col < 0 || score_col < 0)
    throw Error(cat(name, ":1: the header lacks one of the columns true, predicted, score"));
  std::vector<int> pred_cols{pred_col}, score_cols{score_col};
  for (int j = 2;; ++j) {
    int p = column(cat("pred", j)), s = column(cat("score", j));
    if (p < 0 && s < 0) break;
    if (p < 0 || s < 0)
      throw Error(cat(name, ":1: column pred", j, " without score", j, " (or the reverse)"));
    pred_cols.push_back(p);
    score_cols.push_back(s);
  }

  Predictions out;
  out.k = pred_cols.size();
  if (lines.size() < 2 || lines[1].rfind("#classes", 0) != 0)
    throw Error(cat(name, ":2: expected the '#classes<TAB>...' line (the model's classes)"));
  std::vector<std::string> classes = split_fields(lines[1]);
  classes.erase(classes.begin());
  std::set<std::string> class_set;
  for (const std::string& c : classes) {
    if (c.empty()) throw Error(cat(name, ":2: an empty class name in the #classes line"));
    if (!class_set.insert(c).second) throw Error(cat(name, ":2: class '", c, "' is listed twice"));
  }
  if (classes.empty()) throw Error(cat(name, ":2: the #classes line names no class"));
  out.classes = std::move(classes);

  for (std::size_t i = 2; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty() && i + 1 == lines.size()) break;  // tolerate one trailing blank line
    const std::vector<std::string> fields = split_fields(line);
    if (fields.size() != header.size()) {
      throw Error(cat(name, ":", i + 1, ": ", fields.size(), " fields, expected ", header.size(),
                      " (as in the header line)"));
    }
    Predictions::Row row;
    row.key = fields[0];
    row.truth = fields[static_cast<std::size_t>(truth_col)];
    for (std::size_t j = 0; j < pred_cols.size(); ++j) {
      const std::string& predicted = fields[static_cast<std::size_t>(pred_cols[j])];
      if (!class_set.count(predicted)) {
        throw Error(cat(name, ":", i + 1, ": predicted class '", predicted,
                        "' is not in the #classes line"));
      }
      double score = 0;
      const std::string& token = fields[static_cast<std::size_t>(score_cols[j])];
      if (!parse_double(token, score))
        throw Error(cat(name, ":", i + 1, ": score '", shorten(token, 60), "' is not a number"));
      row.predicted.push_back(predicted);
      row.scores.push_back(score);
    }
    out.rows.push_back(std::move(row));
  }
  return out;
}

}  // namespace fg
