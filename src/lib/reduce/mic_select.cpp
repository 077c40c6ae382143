// Feature selection by MIC: options, fitting (top-k, threshold, greedy
// mRMR), the selection model file, applying it; the reference vector format.
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <limits>
#include <numeric>
#include <set>
#include <sstream>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/mic.hpp"
#include "mic_internal.hpp"

namespace fg::mic {

namespace po = boost::program_options;

void Params::add_options(po::options_description& options) {
  const Params d;
  options.add_options()("est", po::value<std::string>()->default_value(estimator_name(d.est)),
                        "estimator: mic_approx|mic_e")(
      "alpha", defaults_to(ranged<double>(0, 1e9, Ends::open_low), d.alpha),
      "grid budget B = max(n^alpha, 4); alpha in (0,1], or >= 4 for B = alpha")(
      "c", defaults_to(ranged<double>(0, 1e9, Ends::open_low), d.c),
      "at most c * columns superclumps");
}

Params Params::from(const po::variables_map& vm) {
  Params p;
  p.alpha = vm["alpha"].as<double>();
  p.c = vm["c"].as<double>();
  p.est = parse_estimator(vm["est"].as<std::string>());
  check_params(p);
  return p;
}

void SelectOptions::add_options(po::options_description& options) {
  const SelectOptions d;
  options.add_options()("k", ranged<std::size_t>(0, unbounded<std::uint32_t>())->default_value(d.k),
                        "keep the N best features (0 = use --min-score)")(
      "min-score", ranged<double>(0, 1)->default_value(d.min_score, "none"),
      "keep every feature scoring at least T (used when --k is 0)");
  Params::add_options(options);
  options.add_options()(
      "target", po::value<std::string>()->default_value(target_name(d.target)),
      "label axis: classes (partitioned by the classes; renumbering-proof) | ordinal "
      "(minepy: the class number as a value)")(
      "redundancy", po::value<std::string>()->default_value(redundancy_name(d.redundancy)),
      "greedy selection against redundancy: none (rank by score) | mic (mRMR: each next "
      "feature maximises score - mean MIC with those already selected; slow) | corr "
      "(score - W * max |Pearson r| with those already selected; fast)")(
      "redundancy-weight", defaults_to(ranged<double>(0, 1e9), d.redundancy_weight),
      "W for --redundancy corr")(
      "pool", ranged<std::size_t>(0, unbounded<std::uint32_t>())->default_value(d.pool),
      "with --redundancy: candidates = the N best-scoring features (0 = all)");
}

SelectOptions SelectOptions::from(const po::variables_map& vm) {
  SelectOptions o;
  o.params = Params::from(vm);
  o.target = parse_target(vm["target"].as<std::string>());
  o.k = vm["k"].as<std::size_t>();
  o.min_score = vm["min-score"].as<double>();
  o.redundancy = parse_redundancy(vm["redundancy"].as<std::string>());
  o.redundancy_weight = vm["redundancy-weight"].as<double>();
  if (!(o.redundancy_weight >= 0) || !std::isfinite(o.redundancy_weight))
    throw UsageError(
        cat("--redundancy-weight must be a finite number >= 0, got ", o.redundancy_weight));
  o.pool = vm["pool"].as<std::size_t>();
  return o;
}

// ---- the model file ----------------------------------------------------------

namespace {
constexpr const char* kMagic = "FGMIC-SELECTION";
constexpr int kVersion = 1;
}  // namespace

void SelectionModel::check_input_dim(std::size_t dim, const std::string& name) const {
  if (dim != input_dim)
    throw Error(cat(name, ": dimension ", dim, ", but the selection model was fitted on dimension ",
                    input_dim));
}

void SelectionModel::apply_row(const float* in, float* out) const {
  const std::size_t k = columns.size();
  for (std::size_t j = 0; j < k; ++j) out[j] = in[columns[j]];
}

namespace {
// The provenance of a table after selection: the input's, plus one line.
std::string selected_provenance(const std::string& before, const SelectionModel& m) {
  std::string out = before;
  if (!out.empty() && out.back() != '\n') out += '\n';
  out += cat(
      "mic_selection=", m.output_dim(), " of ", m.input_dim, " columns, target ",
      target_name(m.target), ", estimator ", estimator_name(m.params.est), ", alpha ",
      format_double(m.params.alpha), ", c ", format_double(m.params.c),
      m.redundancy == Redundancy::none ? "" : cat(", redundancy ", redundancy_name(m.redundancy)),
      "\n");
  return out;
}
}  // namespace

FeatureTable SelectionModel::apply(const FeatureTable& table) const {
  check_input_dim(table.dim, "features");
  FeatureTable out;
  out.dim = columns.size();
  out.classes = table.classes;
  out.keys = table.keys;
  out.labels = table.labels;
  out.provenance = selected_provenance(table.provenance, *this);
  out.values.resize(table.rows() * out.dim);
  for (std::size_t i = 0; i < table.rows(); ++i) apply_row(table.row(i), out.row(i));
  return out;
}

void SelectionModel::save(const std::string& path) const {
  AtomicOutput out(path, false);
  std::ostream& o = out.stream();
  o << kMagic << ' ' << kVersion << '\n'
    << "input_dim " << input_dim << '\n'
    << "output_dim " << columns.size() << '\n'
    << "estimator " << estimator_name(params.est) << '\n'
    << "alpha " << format_double(params.alpha) << '\n'
    << "c " << format_double(params.c) << '\n'
    << "target " << target_name(target) << '\n'
    << "redundancy " << redundancy_name(redundancy) << '\n'
    << "redundancy_weight " << format_double(redundancy_weight) << '\n'
    << "samples " << samples << '\n'
    << "classes " << classes << '\n'
    << "# column (0-based input index) <TAB> score, in selection order\n";
  for (std::size_t j = 0; j < columns.size(); ++j)
    o << columns[j] << '\t' << format_double(scores[j]) << '\n';
  out.commit();
}

SelectionModel SelectionModel::load(const std::string& path) {
  Input in(path, false);
  std::istream& is = in.stream();
  const std::string name = in.name();
  std::string line;
  std::size_t line_no = 0;
  auto bad = [&](const std::string& what) { return Error(cat(name, ":", line_no, ": ", what)); };
  if (!std::getline(is, line))
    throw Error(cat(name, ": empty file, expected a MIC selection model"));
  ++line_no;
  {
    std::istringstream first(line);
    std::string magic;
    int version = 0;
    first >> magic >> version;
    if (magic != kMagic)
      throw Error(cat(name, ": not a MIC selection model (", kMagic, "); it looks like ",
                      describe_content(line.substr(0, 64))));
    if (version != kVersion)
      throw Error(cat(name, ": MIC selection model version ", version,
                      ", this program reads version ", kVersion));
  }
  SelectionModel m;
  std::size_t output_dim = 0;
  bool have_input = false, have_output = false;
  auto number = [&](const std::string& token) {
    long long v = 0;
    if (!parse_int(token, v) || v < 0) throw bad(cat("bad number '", token, "'"));
    return static_cast<std::size_t>(v);
  };
  auto real = [&](const std::string& token) {
    double v = 0;
    if (!parse_double(token, v)) throw bad(cat("bad number '", token, "'"));
    return v;
  };
  // A damaged name is bad data (exit 1), not a usage error: the parsers'
  // UsageError becomes an Error naming the file, line and field.
  auto word = [&](const std::string& key, const std::string& value, auto parse) {
    try {
      return parse(value);
    } catch (const UsageError&) {
      throw bad(cat("field '", key, "' is '", value.substr(0, 40), "', expected ",
                    key == "target" ? "classes or ordinal" : "mic_approx or mic_e"));
    }
  };
  std::set<std::uint32_t> seen_columns;
  while (std::getline(is, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::istringstream fields(line);
    std::string key, value, extra;
    fields >> key >> value;
    if (value.empty() || (fields >> extra))
      throw bad(cat("expected 'name value', got '", line, "'"));
    if (key == "input_dim") {
      m.input_dim = number(value), have_input = true;
      if (m.input_dim == 0 || m.input_dim > (std::size_t(1) << 28))  // a feature table's limits
        throw bad(cat("implausible input_dim ", m.input_dim));
    } else if (key == "output_dim")
      output_dim = number(value), have_output = true;
    else if (key == "estimator")
      m.params.est = word(key, value, parse_estimator);
    else if (key == "alpha")
      m.params.alpha = real(value);
    else if (key == "c")
      m.params.c = real(value);
    else if (key == "target")
      m.target = word(key, value, parse_target);
    else if (key == "redundancy") {
      // Files from before the corr form say 0 (none) or 1 (mic).
      if (value == "0" || value == "1")
        m.redundancy = value == "1" ? Redundancy::mic : Redundancy::none;
      else if (value == "none" || value == "mic" || value == "corr")
        m.redundancy = parse_redundancy(value);
      else
        throw bad(cat("redundancy must be none, mic or corr, got '", value, "'"));
    } else if (key == "redundancy_weight")
      m.redundancy_weight = real(value);
    else if (key == "samples")
      m.samples = number(value);
    else if (key == "classes")
      m.classes = static_cast<int>(number(value));
    else {
      if (!have_input || !have_output) throw bad("columns before input_dim/output_dim");
      const std::size_t column = number(key);
      if (column >= m.input_dim)
        throw bad(cat("column ", column, " outside the input dimension ", m.input_dim));
      if (!seen_columns.insert(static_cast<std::uint32_t>(column)).second)
        throw bad(cat("column ", column, " selected twice"));
      if (m.columns.size() >= output_dim)
        throw bad(cat("more columns than output_dim ", output_dim));
      m.columns.push_back(static_cast<std::uint32_t>(column));
      m.scores.push_back(real(value));
      if (!std::isfinite(m.scores.back()))
        throw bad(cat("score of column ", column, " is ", value));
    }
  }
  if (!have_input || !have_output)
    throw Error(cat(name, ": truncated MIC selection model (no header)"));
  if (output_dim == 0) throw Error(cat(name, ": MIC selection model selects no columns"));
  if (m.columns.size() != output_dim)
    throw Error(cat(name, ": truncated MIC selection model: ", m.columns.size(),
                    " columns, header says ", output_dim));
  return m;
}

// ---- fitting ----------------------------------------------------------------

namespace {

// Indices by score, best first; equal scores keep index order.
std::vector<std::uint32_t> ranking(const std::vector<double>& scores) {
  std::vector<std::uint32_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return scores[a] > scores[b]; });
  return order;
}

// Before any scoring: the settings, and a --k the features can meet.
void check_selection(const SelectOptions& options, std::size_t features) {
  check_params(options.params);
  if (options.k > features)
    throw UsageError(cat("--k ", options.k, " but the table has only ", features, " features"));
  if (options.k == 0 && options.min_score < 0)
    throw UsageError("give --k N or --min-score T (how many features to keep)");
}

// How many features to keep: --k, or all those scoring at least --min-score.
std::size_t kept_count(const std::vector<std::uint32_t>& order,
                       const std::vector<double>& relevance, const SelectOptions& options) {
  std::size_t keep = options.k;
  if (keep == 0)
    while (keep < order.size() && relevance[order[keep]] >= options.min_score) ++keep;
  return keep;
}

// Each of `count` columns of n values centred and scaled to unit length:
// Pearson's r of two is then their dot product.
void standardise_columns(std::vector<float>& columns, std::size_t count, std::size_t n) {
  for (std::size_t j = 0; j < count; ++j) {
    float* x = &columns[j * n];
    double mean = 0, ss = 0;
    for (std::size_t i = 0; i < n; ++i) mean += x[i];
    mean /= double(n);
    for (std::size_t i = 0; i < n; ++i) ss += (x[i] - mean) * (x[i] - mean);
    const double inv = ss > 0 ? 1.0 / std::sqrt(ss) : 0.0;  // constant: r = 0 with everything
    for (std::size_t i = 0; i < n; ++i) x[i] = float((x[i] - mean) * inv);
  }
}

// The redundancy of every candidate not yet taken with the one just chosen,
// added to `redundancy`: corr keeps the largest |r|, mic sums the MICs.
void add_redundancy(const std::vector<float>& columns, std::size_t n, const float* chosen,
                    const std::vector<char>& taken, const SelectOptions& options,
                    std::vector<double>& redundancy) {
  const std::ptrdiff_t count = static_cast<std::ptrdiff_t>(taken.size());
  if (options.redundancy == Redundancy::corr) {
#pragma omp parallel for schedule(static)
    for (std::ptrdiff_t j = 0; j < count; ++j) {
      if (taken[j]) continue;
      const float* x = &columns[static_cast<std::size_t>(j) * n];
      double r = 0;
      for (std::size_t i = 0; i < n; ++i) r += double(x[i]) * chosen[i];
      redundancy[j] = std::max(redundancy[j], std::fabs(r));
    }
    return;
  }
  const std::vector<double> reference(chosen, chosen + n);
  detail::ReferenceScorer scorer(reference, options.params);
  std::exception_ptr failure;
#pragma omp parallel
  {
    detail::FeatureWork fw;
    scorer.init(fw);
#pragma omp for schedule(dynamic, 4)
    for (std::ptrdiff_t j = 0; j < count; ++j) {
      if (taken[j]) continue;
      try {
        redundancy[j] += scorer.mic(&columns[static_cast<std::size_t>(j) * n], fw);
      } catch (...) {
#pragma omp critical
        if (!failure) failure = std::current_exception();
      }
    }
  }
  if (failure) std::rethrow_exception(failure);
}

// The candidate not yet taken with the best relevance - penalty (ties: the
// first); `selected` features are chosen so far.
std::size_t best_candidate(const std::vector<std::uint32_t>& candidates,
                           const std::vector<double>& relevance,
                           const std::vector<double>& redundancy, const std::vector<char>& taken,
                           std::size_t selected, const SelectOptions& options) {
  const bool corr = options.redundancy == Redundancy::corr;
  double best = -std::numeric_limits<double>::infinity();
  std::size_t pick = candidates.size();
  for (std::size_t j = 0; j < candidates.size(); ++j) {
    if (taken[j]) continue;
    const double penalty = corr ? options.redundancy_weight * redundancy[j]
                                : redundancy[j] / static_cast<double>(selected);
    const double value = relevance[candidates[j]] - penalty;
    if (value > best) best = value, pick = j;
  }
  return pick;
}

}  // namespace

SelectionModel fit_selection(const FeatureTable& table, const SelectOptions& options,
                             std::vector<double>* all_scores) {
  check_selection(options, table.dim);
  const std::vector<double> relevance = score_features(table, options.params, options.target);
  if (all_scores) *all_scores = relevance;
  const std::size_t n = table.rows();
  auto gather = [&](const std::vector<std::uint32_t>& columns, std::vector<float>& out) {
    out.resize(columns.size() * n);
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = table.row(i);
      for (std::size_t j = 0; j < columns.size(); ++j) out[j * n + i] = row[columns[j]];
    }
  };
  return select_by_scores(relevance, n, detail::distinct_labels(table.labels), options, gather);
}

SelectionModel select_by_scores(const std::vector<double>& relevance, std::size_t samples,
                                int classes, const SelectOptions& options,
                                const ColumnGather& gather) {
  check_selection(options, relevance.size());
  SelectionModel model;
  model.input_dim = relevance.size();
  model.params = options.params;
  model.target = options.target;
  model.redundancy = options.redundancy;
  if (options.redundancy == Redundancy::corr) model.redundancy_weight = options.redundancy_weight;
  model.samples = samples;
  model.classes = classes;
  const std::vector<std::uint32_t> order = ranking(relevance);
  const std::size_t keep = kept_count(order, relevance, options);
  auto take = [&](std::uint32_t column) {
    model.columns.push_back(column);
    model.scores.push_back(relevance[column]);
  };
  if (options.redundancy == Redundancy::none || keep <= 1) {
    for (std::size_t j = 0; j < keep; ++j) take(order[j]);
    return model;
  }

  // Greedy max-relevance min-redundancy (difference form): the next feature
  // maximises relevance - the redundancy term with the features selected so
  // far (mic: their mean MIC; corr: weight * their largest |r|).
  std::size_t pool = options.pool == 0 ? order.size() : std::max(options.pool, keep);
  pool = std::min(pool, order.size());
  const std::size_t n = samples;
  const std::vector<std::uint32_t> candidates(order.begin(), order.begin() + pool);
  std::vector<float> columns;  // candidate columns, contiguous
  gather(candidates, columns);
  if (columns.size() != pool * n) throw Error("MIC selection: candidate columns incomplete");
  if (options.redundancy == Redundancy::corr) standardise_columns(columns, pool, n);
  std::vector<double> redundancy(pool, 0.0);  // mic: sum of MICs; corr: max |r|
  std::vector<char> taken(pool, 0);
  std::size_t last = 0;  // the most relevant first
  taken[0] = 1;
  take(candidates[0]);
  while (model.columns.size() < keep) {
    add_redundancy(columns, n, &columns[last * n], taken, options, redundancy);
    last = best_candidate(candidates, relevance, redundancy, taken, model.columns.size(), options);
    taken[last] = 1;
    take(candidates[last]);
  }
  return model;
}

std::uint64_t apply_selection(const SelectionModel& model, const std::string& in_path,
                              const std::string& out_path) {
  TableReader reader(in_path, TableReadOptions{true});
  model.check_input_dim(reader.header().dim, reader.name());
  TableHeader header;
  header.dim = model.output_dim();
  header.classes = reader.header().classes;
  header.rows = reader.header().rows;
  header.provenance = selected_provenance(reader.header().provenance, model);
  TableWriter writer(out_path, header);
  TableRow row;
  std::vector<float> out(model.output_dim());
  while (reader.next(row)) {
    model.apply_row(row.values.data(), out.data());
    writer.write(row.key, row.label, out.data());
  }
  writer.commit();
  return writer.rows_written();
}

SelectionFit fit_selection_file(const std::string& table_path,
                                const std::vector<std::string>& score_paths,
                                const SelectOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  SelectionFit fit;
  std::vector<double> scores;
  if (!score_paths.empty()) {
    fit.model = fit_from_scores(score_paths, table_path, options, &scores);
    fit.scores = ScoresFile::load(score_paths.front());
    fit.scores.columns = {0, fit.model.input_dim};
  } else {
    TableReadOptions read;
    read.allow_nonfinite = true;  // checked by MIC with column and row named
    const FeatureTable table = read_table(table_path, read);
    check_table_for_scoring(table, table_path == "-" ? "<stdin>" : table_path);
    fit.read_seconds = seconds();
    fit.model = fit_selection(table, options, &scores);
    fit.scores.input_dim = table.dim;
    fit.scores.columns = {0, table.dim};
    fit.scores.samples = table.rows();
    fit.scores.classes = detail::distinct_labels(table.labels);
    fit.scores.params = options.params;
    fit.scores.target = options.target;
    fit.scores.rows_id = rows_identity(table.keys, table.labels);
  }
  fit.scores.scores = scores;
  fit.fit_seconds = seconds() - fit.read_seconds;
  if (fit.model.output_dim() == 0) {
    const double best = scores.empty() ? 0.0 : *std::max_element(scores.begin(), scores.end());
    throw Error(cat(table_path, ": no feature scores at least --min-score ",
                    format_double(options.min_score), " (the best scores ", format_double(best),
                    "); nothing to select"));
  }
  return fit;
}

void FileOptions::add_options(po::options_description& options) {
  const FileOptions d;
  options.add_options()("scores", po::value<std::string>()->default_value(d.scores, "none"),
                        "fit: also write the scores of all features to this TSV")(
      "from-scores", po::value<std::vector<std::string>>(),
      "fit: merge these scores files (comma-separated, or the option repeated) instead of "
      "scoring; the table is read for its keys and labels, and for --redundancy candidates")(
      "columns", po::value<std::string>()->default_value(d.columns),
      "scores: only columns A:B (0-based, B exclusive), or J/N (the J-th of N near-equal "
      "contiguous ranges, J = 1..N), or all");
}

FileOptions FileOptions::from(const po::variables_map& vm) {
  FileOptions o;
  o.scores = vm["scores"].as<std::string>();
  if (vm.count("from-scores"))
    for (const std::string& list : vm["from-scores"].as<std::vector<std::string>>())
      for (const std::string& path : split_list(list)) o.from_scores.push_back(path);
  o.columns = vm["columns"].as<std::string>();
  return o;
}

std::string fit_selection_files(const std::string& table_path, const std::string& model_path,
                                const FileOptions& files, const SelectOptions& options) {
  if (options.k == 0 && options.min_score < 0)
    throw UsageError("give --k N or --min-score T (how many features to keep)");
  OutputSet outputs;  // committed together, once both are written
  const std::string model_stage = outputs.add(model_path, "the selection model");
  const std::string scores_stage =
      files.scores.empty() ? "" : outputs.add(files.scores, "--scores");
  const SelectionFit fit = fit_selection_file(table_path, files.from_scores, options);
  if (!scores_stage.empty()) fit.scores.save(scores_stage);
  fit.model.save(model_stage);
  outputs.commit();
  const SelectionModel& model = fit.model;
  const bool merged = !files.from_scores.empty();
  return cat("Done: selected ", model.output_dim(), " of ", model.input_dim, " features (",
             model.samples, " rows, ", model.classes, " classes, ", target_name(options.target),
             ", ", estimator_name(options.params.est),
             options.redundancy == Redundancy::none
                 ? ""
                 : cat(", redundancy ", redundancy_name(options.redundancy)),
             merged ? cat(", from ", files.from_scores.size(), " scores files") : "", ") in ",
             fit.fit_seconds, " s", merged ? "" : cat(" (+ ", fit.read_seconds, " s reading)"));
}

std::string write_column_scores(const std::string& table_path, const std::string& scores_path,
                                const FileOptions& files, const SelectOptions& options) {
  check_writable(scores_path);
  const auto start = std::chrono::steady_clock::now();
  const ScoresFile f =
      score_column_range(table_path, files.columns, options.params, options.target);
  const double time =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  f.save(scores_path);
  return cat("Done ", f.columns.size(), " features (columns ", f.columns.first, ":", f.columns.end,
             " of ", f.input_dim, ") x ", f.samples, " rows (", target_name(options.target),
             ") in ", time, " s (with reading), ", time > 0 ? f.columns.size() / time : 0.0,
             " features/s");
}

// ---- reference vectors ---------------------------------------------------------

std::vector<VectorPair> read_vector_pairs(const std::string& path) {
  Input in(path, false);
  std::istream& is = in.stream();
  const std::string name = in.name();
  std::vector<VectorPair> pairs;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(is, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields;
    std::size_t start = 0;
    while (true) {
      std::size_t tab = line.find('\t', start);
      fields.push_back(
          line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
      if (tab == std::string::npos) break;
      start = tab + 1;
    }
    if (fields.size() < 4)
      throw Error(
          cat(name, ":", line_no, ": expected 'case<TAB>kind<TAB>n<TAB>axis<TAB>values...'"));
    long long count = 0;
    if (!parse_int(fields[2], count) || count < 0)
      throw Error(cat(name, ":", line_no, ": bad sample count '", fields[2], "'"));
    if (fields.size() != static_cast<std::size_t>(count) + 4)
      throw Error(
          cat(name, ":", line_no, ": ", fields.size() - 4, " values, expected n = ", count));
    std::vector<double> values(count);
    for (long long i = 0; i < count; ++i)
      if (!parse_double(fields[4 + i], values[i]))
        throw Error(
            cat(name, ":", line_no, ": value ", i + 1, ": not a number: '", fields[4 + i], "'"));
    const std::string& axis = fields[3];
    if (axis == "x") {
      pairs.push_back(VectorPair{fields[0], fields[1], std::move(values), {}});
    } else if (axis == "y") {
      if (pairs.empty() || pairs.back().name != fields[0] || !pairs.back().y.empty())
        throw Error(cat(name, ":", line_no, ": axis y of case ", fields[0],
                        " without its x line before it"));
      if (values.size() != pairs.back().x.size())
        throw Error(cat(name, ":", line_no, ": case ", fields[0], ": y has ", values.size(),
                        " values, x has ", pairs.back().x.size()));
      pairs.back().y = std::move(values);
    } else {
      throw Error(cat(name, ":", line_no, ": axis must be x or y, got '", axis, "'"));
    }
  }
  if (!pairs.empty() && pairs.back().y.empty())
    throw Error(cat(name, ": case ", pairs.back().name, " has no y line"));
  return pairs;
}

std::size_t write_pair_statistics(std::ostream& out, const std::string& path,
                                  const Params& params) {
  const std::vector<VectorPair> cases = read_vector_pairs(path);
  out << "case\tmic\tmas\tmev\tmcn\tmcn_general\ttic\n";
  for (const auto& c : cases) {
    Statistics s;
    try {
      s = pair_statistics(c.x.data(), c.y.data(), c.x.size(), params);
    } catch (const Error& e) {
      throw Error(cat(path, ": case ", c.name, ": ", e.what()));
    }
    out << c.name << '\t' << format_double(s.mic) << '\t' << format_double(s.mas) << '\t'
        << format_double(s.mev) << '\t' << format_double(s.mcn) << '\t'
        << format_double(s.mcn_general) << '\t' << format_double(s.tic) << '\n';
  }
  return cases.size();
}

}  // namespace fg::mic
