#include "finegrain/eval/metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/plot.hpp"
#include "finegrain/core/text.hpp"

namespace fg {

namespace {

double ratio(std::uint64_t a, std::uint64_t b) { return b == 0 ? 0.0 : static_cast<double>(a) / b; }

std::string percent(double fraction) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.2f %%", 100.0 * fraction);
  return buf;
}

std::string fixed(double value, int digits = 4) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) { return format_double(value); }

}  // namespace

Metrics evaluate(const Predictions& predictions, const std::string& source) {
  Metrics m;
  m.k = predictions.k;
  m.rows = predictions.rows.size();
  m.model_classes = predictions.classes.size();
  if (m.rows == 0) throw Error(cat(source, ": no prediction rows to evaluate"));

  std::unordered_map<std::string, std::size_t> index;
  for (std::size_t c = 0; c < predictions.classes.size(); ++c) {
    index.emplace(predictions.classes[c], c);
    ClassMetrics cm;
    cm.name = predictions.classes[c];
    m.classes.push_back(cm);
  }
  std::set<std::string> unseen;
  for (const auto& row : predictions.rows)
    if (!row.truth.empty() && !index.count(row.truth)) unseen.insert(row.truth);
  for (const std::string& label : unseen) {
    index.emplace(label, m.classes.size());
    ClassMetrics cm;
    cm.name = label;
    cm.seen = false;
    m.classes.push_back(cm);
  }
  m.unseen_labels.assign(unseen.begin(), unseen.end());
  m.confusion.assign(m.classes.size() * m.model_classes, 0);

  std::vector<std::uint64_t> within(m.k, 0);  // correct within the first j + 1
  for (const auto& row : predictions.rows) {
    if (row.truth.empty()) {
      ++m.unlabeled;
      continue;
    }
    ++m.evaluated;
    const std::size_t t = index.at(row.truth);
    const std::size_t p = index.at(row.predicted[0]);
    if (!m.classes[t].seen) ++m.unseen_rows;
    ++m.confusion[t * m.model_classes + p];
    ++m.classes[t].support;
    ++m.classes[p].predicted;
    if (t == p) {
      ++m.classes[t].correct;
      ++m.correct;
    }
    for (std::size_t j = 0; j < row.predicted.size(); ++j) {
      if (row.predicted[j] == row.truth) {
        for (std::size_t r = j; r < m.k; ++r) ++within[r];
        break;
      }
    }
  }
  if (m.evaluated == 0)
    throw Error(
        cat(source, ": none of the ", m.rows, " rows has a true label; nothing to evaluate"));

  m.top1 = ratio(m.correct, m.evaluated);
  for (std::uint64_t w : within) m.topk.push_back(ratio(w, m.evaluated));

  std::size_t labels = 0, true_labels = 0;
  double sum_p = 0, sum_r = 0, sum_f = 0, sum_weighted = 0, sum_recall_true = 0;
  for (ClassMetrics& c : m.classes) {
    c.precision = ratio(c.correct, c.predicted);
    c.recall = ratio(c.correct, c.support);
    c.f1 =
        (c.precision + c.recall) > 0 ? 2 * c.precision * c.recall / (c.precision + c.recall) : 0.0;
    if (c.support == 0 && c.predicted == 0) continue;  // occurs nowhere: not in the averages
    ++labels;
    sum_p += c.precision;
    sum_r += c.recall;
    sum_f += c.f1;
    sum_weighted += c.f1 * static_cast<double>(c.support);
    if (c.support > 0) {
      ++true_labels;
      sum_recall_true += c.recall;
    }
  }
  m.macro_precision = sum_p / labels;
  m.macro_recall = sum_r / labels;
  m.macro_f1 = sum_f / labels;
  m.weighted_f1 = sum_weighted / static_cast<double>(m.evaluated);
  m.mean_per_class_accuracy = sum_recall_true / true_labels;
  m.micro_f1 = m.top1;  // micro precision = micro recall = accuracy for single-label predictions
  return m;
}

std::string metrics_report(const Metrics& m, bool brief) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "rows                     " << m.rows << " (" << m.evaluated << " evaluated, "
      << m.unlabeled << " unlabeled skipped)\n";
  if (m.unseen_rows > 0) {
    out << "unseen true labels       " << m.unseen_rows << " rows with " << m.unseen_labels.size()
        << " label(s) the model never saw, counted as errors:";
    for (const auto& label : m.unseen_labels) out << ' ' << label;
    out << '\n';
  }
  out << "top-1 accuracy           " << percent(m.top1) << "  (" << m.correct << " / "
      << m.evaluated << ")\n";
  for (std::size_t j = 1; j < m.topk.size(); ++j)
    out << "top-" << (j + 1) << " accuracy" << std::string(j + 1 < 10 ? 11 : 10, ' ')
        << percent(m.topk[j]) << '\n';
  out << "mean per-class accuracy  " << percent(m.mean_per_class_accuracy) << '\n';
  out << "macro precision          " << fixed(m.macro_precision) << '\n';
  out << "macro recall             " << fixed(m.macro_recall) << '\n';
  out << "macro F1                 " << fixed(m.macro_f1) << '\n';
  out << "micro F1                 " << fixed(m.micro_f1) << '\n';
  out << "weighted F1              " << fixed(m.weighted_f1) << '\n';
  if (!brief) {
    std::size_t width = 5;
    for (const auto& c : m.classes) width = std::max(width, c.name.size() + (c.seen ? 0 : 9));
    out << '\n'
        << "class" << std::string(width - 5, ' ') << "  support  precision  recall      F1\n";
    for (const auto& c : m.classes) {
      const std::string label = c.seen ? c.name : c.name + " (unseen)";
      char buf[96];
      std::snprintf(buf, sizeof buf, "  %7llu  %9s  %6s  %6s",
                    static_cast<unsigned long long>(c.support), fixed(c.precision).c_str(),
                    fixed(c.recall).c_str(), fixed(c.f1).c_str());
      out << label << std::string(width - label.size(), ' ') << buf << '\n';
    }
  }
  return out.str();
}

std::string metrics_json(const Metrics& m) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  out << "{\n";
  out << "  \"rows\": " << m.rows << ",\n";
  out << "  \"evaluated\": " << m.evaluated << ",\n";
  out << "  \"unlabeled\": " << m.unlabeled << ",\n";
  out << "  \"unseen_rows\": " << m.unseen_rows << ",\n";
  out << "  \"unseen_labels\": [";
  for (std::size_t i = 0; i < m.unseen_labels.size(); ++i)
    out << (i ? ", " : "") << json_string(m.unseen_labels[i]);
  out << "],\n";
  out << "  \"k\": " << m.k << ",\n";
  out << "  \"correct\": " << m.correct << ",\n";
  out << "  \"top1_accuracy\": " << json_number(m.top1) << ",\n";
  out << "  \"topk_accuracy\": {";
  for (std::size_t j = 0; j < m.topk.size(); ++j)
    out << (j ? ", " : "") << "\"" << j + 1 << "\": " << json_number(m.topk[j]);
  out << "},\n";
  out << "  \"mean_per_class_accuracy\": " << json_number(m.mean_per_class_accuracy) << ",\n";
  out << "  \"macro_precision\": " << json_number(m.macro_precision) << ",\n";
  out << "  \"macro_recall\": " << json_number(m.macro_recall) << ",\n";
  out << "  \"macro_f1\": " << json_number(m.macro_f1) << ",\n";
  out << "  \"micro_f1\": " << json_number(m.micro_f1) << ",\n";
  out << "  \"weighted_f1\": " << json_number(m.weighted_f1) << ",\n";
  out << "  \"classes\": [\n";
  for (std::size_t i = 0; i < m.classes.size(); ++i) {
    const ClassMetrics& c = m.classes[i];
    out << "    {\"class\": " << json_string(c.name)
        << ", \"seen\": " << (c.seen ? "true" : "false") << ", \"support\": " << c.support
        << ", \"predicted\": " << c.predicted << ", \"correct\": " << c.correct
        << ", \"precision\": " << json_number(c.precision)
        << ", \"recall\": " << json_number(c.recall) << ", \"f1\": " << json_number(c.f1) << "}"
        << (i + 1 < m.classes.size() ? "," : "") << "\n";
  }
  out << "  ]\n}\n";
  return out.str();
}

void write_confusion_tsv(const std::string& path, const Metrics& m) {
  AtomicOutput out(path, false);
  std::ostream& s = out.stream();
  s << "true\\predicted";
  for (std::size_t c = 0; c < m.model_classes; ++c) s << '\t' << m.classes[c].name;
  s << '\n';
  for (std::size_t t = 0; t < m.classes.size(); ++t) {
    s << m.classes[t].name;
    for (std::size_t p = 0; p < m.model_classes; ++p) s << '\t' << m.count(t, p);
    s << '\n';
  }
  out.commit();
}

plot::HeatMap confusion_heat_map(const Metrics& m, const std::string& title) {
  plot::HeatMap map;
  char buf[160];
  std::snprintf(buf, sizeof buf, "top-1 %.1f %%, mean per-class %.1f %%, %llu rows", 100 * m.top1,
                100 * m.mean_per_class_accuracy, static_cast<unsigned long long>(m.evaluated));
  map.title = title.empty() ? cat("Confusion matrix: ", buf) : cat(title, ": ", buf);
  map.x_label = "predicted class";
  map.y_label = "true class";
  map.legend_label = "share of the true class (row %; white = none)";
  const bool counts = m.model_classes <= 30;
  for (std::size_t c = 0; c < m.model_classes; ++c) map.col_names.push_back(m.classes[c].name);
  for (const auto& c : m.classes) map.row_names.push_back(c.seen ? c.name : c.name + " (unseen)");
  for (std::size_t t = 0; t < m.classes.size(); ++t) {
    const std::uint64_t support = m.classes[t].support;
    for (std::size_t p = 0; p < m.model_classes; ++p) {
      const std::uint64_t n = m.count(t, p);
      map.values.push_back(ratio(n, support));
      if (counts) map.cell_text.push_back(n > 0 ? cat(n) : "");
    }
  }
  return map;
}

void write_confusion_plot(const std::string& path, const Metrics& m, const std::string& title) {
  plot::write_png(path, plot::draw(confusion_heat_map(m, title)));
}

void EvalOptions::add_options(boost::program_options::options_description& options) {
  namespace po = boost::program_options;
  const EvalOptions d;  // json and brief are switches: false unless given
  options.add_options()("json", po::bool_switch(),
                        "print the metrics as one JSON object on stdout instead of the report")(
      "json-out", po::value<std::string>()->default_value(d.json_out),
      "also write the metrics as JSON to this file (the report still goes to stdout)")(
      "brief", po::bool_switch(), "report without the per-class table")(
      "confusion", po::value<std::string>()->default_value(d.confusion),
      "write the confusion matrix (counts; rows = true, columns = predicted) as TSV here")(
      "plot", po::value<std::string>()->default_value(d.plot),
      "write the confusion matrix as a heat map (PNG) here")(
      "title", po::value<std::string>()->default_value(d.title),
      "title of the heat map (default: the metrics)");
}

EvalOptions EvalOptions::from(const boost::program_options::variables_map& vm) {
  EvalOptions o;
  o.json = vm["json"].as<bool>();
  o.json_out = vm["json-out"].as<std::string>();
  o.brief = vm["brief"].as<bool>();
  o.confusion = vm["confusion"].as<std::string>();
  o.plot = vm["plot"].as<std::string>();
  o.title = vm["title"].as<std::string>();
  if (o.plot == "-") throw UsageError("--plot needs a file name");
  return o;
}

EvalFiles::EvalFiles(const EvalOptions& options) : options_(options) {
  if (!options.confusion.empty()) confusion_ = outputs_.add(options.confusion, "--confusion");
  if (!options.json_out.empty()) json_ = outputs_.add(options.json_out, "--json-out");
  if (!options.plot.empty()) plot_ = outputs_.add(options.plot, "--plot");
}

void EvalFiles::write(const Metrics& metrics) {
  if (!confusion_.empty()) write_confusion_tsv(confusion_, metrics);
  if (!plot_.empty()) write_confusion_plot(plot_, metrics, options_.title);
  if (!json_.empty()) {
    AtomicOutput out(json_, false);
    out.stream() << metrics_json(metrics);
    out.commit();
  }
  outputs_.commit();
}

}  // namespace fg
