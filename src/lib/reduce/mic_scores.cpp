// Scores of column ranges (one job each) and selections fitted from them:
// the scores file format, reading part of a table, merging.
#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/random.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"
#include "mic_internal.hpp"

namespace fg::mic {

namespace {
constexpr const char* kScoresMagic = "FGMIC-SCORES";
constexpr int kScoresVersion = 1;

bool parse_size(const std::string& text, std::size_t& out) {
  long long v = 0;
  if (!parse_int(text, v) || v < 0) return false;
  out = static_cast<std::size_t>(v);
  return true;
}

std::string range_text(const ColumnRange& r) { return cat(r.first, ":", r.end); }
}  // namespace

ColumnRange parse_column_range(const std::string& text, std::size_t dim) {
  if (text == "all") return {0, dim};
  const std::size_t colon = text.find(':'), slash = text.find('/');
  std::size_t a = 0, b = 0;
  if (colon != std::string::npos && slash == std::string::npos) {
    if (!parse_size(text.substr(0, colon), a) || !parse_size(text.substr(colon + 1), b))
      throw UsageError(cat("--columns: expected A:B (0-based, B exclusive), got '", text, "'"));
    if (a >= b || b > dim)
      throw UsageError(
          cat("--columns ", text, ": need 0 <= A < B <= ", dim, " (the table's column count)"));
    return {a, b};
  }
  if (slash != std::string::npos && colon == std::string::npos) {
    if (!parse_size(text.substr(0, slash), a) || !parse_size(text.substr(slash + 1), b) || a < 1 ||
        a > b)
      throw UsageError(cat("--columns: expected J/N with 1 <= J <= N, got '", text, "'"));
    if (b > dim)
      throw UsageError(cat("--columns ", text, ": more ranges than the table's ", dim, " columns"));
    // Range J of N: columns floor((J-1) dim / N) .. floor(J dim / N) - 1.
    return {(a - 1) * dim / b, a * dim / b};
  }
  throw UsageError(cat("--columns: expected A:B, J/N or all, got '", text, "'"));
}

std::uint64_t rows_identity(const std::vector<std::string>& keys, const std::vector<int>& labels) {
  // Length-prefixed keys: no two different row lists give the same text.
  std::string text;
  for (std::size_t i = 0; i < keys.size(); ++i)
    text += cat(keys[i].size(), ':', keys[i], ' ', i < labels.size() ? labels[i] : -1, '\n');
  return fnv1a(text);
}

void ScoresFile::save(const std::string& path) const {
  if (scores.size() != columns.size()) throw Error("MIC scores: range and scores disagree");
  std::vector<std::size_t> rank(scores.size());
  {
    std::vector<std::size_t> order(scores.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    for (std::size_t r = 0; r < order.size(); ++r) rank[order[r]] = r + 1;
  }
  AtomicOutput out(path, false);
  std::ostream& o = out.stream();
  o << "# " << kScoresMagic << ' ' << kScoresVersion << " input_dim=" << input_dim
    << " columns=" << range_text(columns) << " samples=" << samples << " classes=" << classes
    << " target=" << target_name(target) << " estimator=" << estimator_name(params.est)
    << " alpha=" << format_double(params.alpha) << " c=" << format_double(params.c)
    << " rows_id=" << std::hex << rows_id << std::dec << '\n';
  o << "feature\tscore\trank\n";
  for (std::size_t j = 0; j < scores.size(); ++j)
    o << columns.first + j << '\t' << format_double(scores[j]) << '\t' << rank[j] << '\n';
  out.commit();
}

ScoresFile ScoresFile::load(const std::string& path) {
  Input in(path, false);
  std::istream& is = in.stream();
  const std::string name = in.name();
  std::string line;
  std::size_t line_no = 1;
  auto bad = [&](const std::string& what) { return Error(cat(name, ":", line_no, ": ", what)); };
  if (!std::getline(is, line)) throw Error(cat(name, ": empty file, expected MIC scores"));
  ScoresFile f;
  {
    std::istringstream first(line);
    std::string hash, magic;
    int version = 0;
    first >> hash >> magic >> version;
    if (hash != "#" || magic != kScoresMagic)
      throw Error(cat(name, ": not a MIC scores file (first line '# ", kScoresMagic,
                      " 1 ...'); it looks like ", describe_content(line.substr(0, 64)),
                      " (files from before the header: rerun fg-mic scores)"));
    if (version != kScoresVersion)
      throw Error(cat(name, ": MIC scores version ", version, ", this program reads version ",
                      kScoresVersion));
    std::string field;
    bool have_dim = false, have_columns = false, have_id = false;
    while (first >> field) {
      const std::size_t eq = field.find('=');
      if (eq == std::string::npos) throw bad(cat("expected key=value, got '", field, "'"));
      const std::string key = field.substr(0, eq), value = field.substr(eq + 1);
      std::size_t number = 0;
      if (key == "input_dim") {
        if (!parse_size(value, f.input_dim)) throw bad(cat("bad input_dim '", value, "'"));
        have_dim = true;
      } else if (key == "columns") {
        const std::size_t colon = value.find(':');
        if (colon == std::string::npos || !parse_size(value.substr(0, colon), f.columns.first) ||
            !parse_size(value.substr(colon + 1), f.columns.end) || f.columns.first >= f.columns.end)
          throw bad(cat("bad columns '", value, "'"));
        have_columns = true;
      } else if (key == "samples") {
        if (!parse_size(value, f.samples)) throw bad(cat("bad samples '", value, "'"));
      } else if (key == "classes") {
        if (!parse_size(value, number)) throw bad(cat("bad classes '", value, "'"));
        f.classes = static_cast<int>(number);
      } else if (key == "target") {
        f.target = parse_target(value);
      } else if (key == "estimator") {
        f.params.est = parse_estimator(value);
      } else if (key == "alpha") {
        if (!parse_double(value, f.params.alpha)) throw bad(cat("bad alpha '", value, "'"));
      } else if (key == "c") {
        if (!parse_double(value, f.params.c)) throw bad(cat("bad c '", value, "'"));
      } else if (key == "rows_id") {
        std::istringstream hex(value);
        if (!(hex >> std::hex >> f.rows_id) || !hex.eof())
          throw bad(cat("bad rows_id '", value, "'"));
        have_id = true;
      } else {
        throw bad(cat("unknown field '", key, "'"));
      }
    }
    if (!have_dim || !have_columns || !have_id)
      throw bad("header lacks input_dim, columns or rows_id");
    if (f.columns.end > f.input_dim)
      throw bad(cat("columns ", range_text(f.columns), " beyond input_dim ", f.input_dim));
  }
  ++line_no;
  if (!std::getline(is, line) || line != "feature\tscore\trank")
    throw bad("expected the header 'feature<TAB>score<TAB>rank'");
  f.scores.reserve(f.columns.size());
  while (std::getline(is, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::istringstream fields(line);
    std::string feature, score, rank, extra;
    std::size_t column = 0;
    double value = 0;
    if (!(fields >> feature >> score >> rank) || (fields >> extra))
      throw bad(cat("expected 'feature<TAB>score<TAB>rank', got '", line, "'"));
    if (!parse_size(feature, column) || column != f.columns.first + f.scores.size())
      throw bad(
          cat("feature ", feature, " out of order: expected ", f.columns.first + f.scores.size()));
    if (column >= f.columns.end)
      throw bad(cat("feature ", column, " beyond the file's columns ", range_text(f.columns)));
    if (!parse_double(score, value) || !std::isfinite(value))
      throw bad(cat("bad score '", score, "'"));
    f.scores.push_back(value);
  }
  if (f.scores.size() != f.columns.size())
    throw Error(cat(name, ": truncated MIC scores: ", f.scores.size(), " of ", f.columns.size(),
                    " features (columns ", range_text(f.columns), ")"));
  return f;
}

namespace {

// Streams a table, keeping keys, labels and the columns that `pick` lists
// for the table's dimension: a table of those columns (row-major, in the
// order listed), input_dim = the file's dimension. One pass, so "-" works.
struct PartialTable {
  std::size_t input_dim = 0;
  FeatureTable table;
};

PartialTable read_columns(const std::string& path,
                          const std::function<std::vector<std::uint32_t>(std::size_t)>& pick) {
  TableReader reader(path, TableReadOptions{true});
  PartialTable t;
  t.input_dim = reader.header().dim;
  const std::vector<std::uint32_t> columns = pick(t.input_dim);
  for (std::uint32_t c : columns)
    if (c >= t.input_dim)
      throw Error(cat(reader.name(), ": has ", t.input_dim, " columns, not ", c + 1));
  FeatureTable& out = t.table;
  out.dim = columns.size();
  out.classes = reader.header().classes;
  out.provenance = reader.header().provenance;
  if (reader.header().rows) out.values.reserve(*reader.header().rows * out.dim);
  TableRow row;
  std::vector<float> kept(columns.size());
  while (reader.next(row)) {
    for (std::size_t j = 0; j < columns.size(); ++j) {
      const float v = row.values[columns[j]];
      if (!std::isfinite(v))
        throw Error(cat(reader.name(), ": column ", columns[j] + 1, " row ", reader.record(), " (",
                        row.key, ") is ", std::isnan(v) ? "NaN" : "infinite",
                        "; MIC needs finite values"));
      kept[j] = v;
    }
    out.add(std::move(row.key), row.label, kept.data());
  }
  return t;
}

}  // namespace

ScoresFile score_column_range(const std::string& table_path, const std::string& range_spec,
                              const Params& params, Target target) {
  check_params(params);
  ColumnRange range;
  PartialTable part = read_columns(table_path, [&](std::size_t dim) {
    range = parse_column_range(range_spec, dim);
    std::vector<std::uint32_t> columns(range.size());
    std::iota(columns.begin(), columns.end(), static_cast<std::uint32_t>(range.first));
    return columns;
  });
  const FeatureTable& table = part.table;
  check_table_for_scoring(table, table_path == "-" ? "<stdin>" : table_path);
  ScoresFile f;
  f.input_dim = part.input_dim;
  f.columns = range;
  f.samples = table.rows();
  f.classes = detail::distinct_labels(table.labels);
  f.params = params;
  f.target = target;
  f.rows_id = rows_identity(table.keys, table.labels);
  f.scores = score_features(table, params, target);
  return f;
}

SelectionModel fit_from_scores(const std::vector<std::string>& score_paths,
                               const std::string& table_path, const SelectOptions& options,
                               std::vector<double>* all_scores) {
  check_params(options.params);
  if (score_paths.empty()) throw UsageError("no scores files to fit from");
  std::vector<ScoresFile> files;
  for (const std::string& path : score_paths) files.push_back(ScoresFile::load(path));
  const ScoresFile& head = files.front();
  const std::string& head_name = score_paths.front();
  for (std::size_t f = 0; f < files.size(); ++f) {
    const ScoresFile& s = files[f];
    const std::string& name = score_paths[f];
    if (s.target != options.target)
      throw Error(cat(name, ": scores for --target ", target_name(s.target),
                      ", this fit has --target ", target_name(options.target)));
    if (s.params.est != options.params.est || s.params.alpha != options.params.alpha ||
        s.params.c != options.params.c)
      throw Error(cat(name, ": scores made with --est ", estimator_name(s.params.est), " --alpha ",
                      format_double(s.params.alpha), " --c ", format_double(s.params.c),
                      ", this fit has --est ", estimator_name(options.params.est), " --alpha ",
                      format_double(options.params.alpha), " --c ",
                      format_double(options.params.c)));
    if (s.input_dim != head.input_dim || s.samples != head.samples || s.rows_id != head.rows_id)
      throw Error(cat(name, ": scores of another table than ", head_name, " (", s.input_dim,
                      " columns x ", s.samples, " rows vs ", head.input_dim, " x ", head.samples,
                      s.rows_id != head.rows_id ? ", other keys or labels" : "", ")"));
  }
  // The ranges, in column order, must tile [0, input_dim).
  std::vector<std::size_t> order(files.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return files[a].columns.first < files[b].columns.first;
  });
  std::vector<double> relevance;
  relevance.reserve(head.input_dim);
  for (std::size_t r = 0; r < order.size(); ++r) {
    const ScoresFile& s = files[order[r]];
    if (s.columns.first != relevance.size()) {
      if (s.columns.first < relevance.size())
        throw Error(cat(score_paths[order[r]], ": columns ", range_text(s.columns), " overlap ",
                        score_paths[order[r - 1]], "'s"));
      throw Error(cat("no scores for columns ", relevance.size(), ":", s.columns.first, " (before ",
                      score_paths[order[r]], ")"));
    }
    relevance.insert(relevance.end(), s.scores.begin(), s.scores.end());
  }
  if (relevance.size() != head.input_dim)
    throw Error(cat("no scores for columns ", relevance.size(), ":", head.input_dim, " (after ",
                    score_paths[order.back()], ")"));
  if (all_scores) *all_scores = relevance;

  // The table: the same rows as the scores, and the candidate columns.
  auto check_rows = [&](const PartialTable& t) {
    if (t.input_dim != head.input_dim)
      throw Error(
          cat(table_path, ": ", t.input_dim, " columns, the scores are of ", head.input_dim));
    if (t.table.rows() != head.samples ||
        rows_identity(t.table.keys, t.table.labels) != head.rows_id)
      throw Error(cat(table_path, ": not the table the scores were made from (", t.table.rows(),
                      " rows vs ", head.samples, ", or other keys or labels)"));
  };
  bool gathered = false;
  auto gather = [&](const std::vector<std::uint32_t>& columns, std::vector<float>& out) {
    const PartialTable t = read_columns(table_path, [&](std::size_t) { return columns; });
    check_rows(t);
    const std::size_t n = t.table.rows(), count = columns.size();
    out.resize(count * n);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = t.table.row(i);
      for (std::size_t j = 0; j < count; ++j) out[j * n + i] = row[j];
    }
    gathered = true;
  };
  SelectionModel model = select_by_scores(relevance, head.samples, head.classes, options, gather);
  if (!gathered)
    check_rows(read_columns(table_path, [](std::size_t) { return std::vector<std::uint32_t>(); }));
  return model;
}

}  // namespace fg::mic
