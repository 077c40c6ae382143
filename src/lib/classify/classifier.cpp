#include "finegrain/classify/classifier.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <istream>
#include <map>
#include <ostream>

#include "finegrain/core/binary.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/memory.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/core/text.hpp"

namespace fg {
namespace po = boost::program_options;

namespace {

constexpr char kMagic[8] = {'F', 'G', 'C', 'L', 'S', 'F', 'R', '\n'};

// A damaged string from a model file, printable and short, for messages.
std::string shown(const std::string& text) {
  std::string out;
  for (unsigned char ch : text.substr(0, 40)) {
    if (ch >= 32 && ch < 127)
      out += static_cast<char>(ch);
    else
      out += cat("\\x", "0123456789abcdef"[ch >> 4], "0123456789abcdef"[ch & 15]);
  }
  return text.size() > 40 ? out + "..." : out;
}

std::string list_names(const std::vector<std::string>& names, std::size_t max = 5) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += cat(", ... (", names.size(), " in all)");
  return out;
}

}  // namespace

std::string to_string(ClassifierType type) {
  return type == ClassifierType::svm ? "svm" : "logreg";
}

ClassifierType parse_classifier_type(const std::string& text) {
  if (text == "svm") return ClassifierType::svm;
  if (text == "logreg") return ClassifierType::logreg;
  throw UsageError(cat("--type: unknown classifier '", text, "' (expected svm or logreg)"));
}

void TrainOptions::add_options(po::options_description& o) {
  const TrainOptions d;
  o.add_options()(
      "type", po::value<std::string>()->default_value(to_string(d.type)),
      "classifier: svm (LIBSVM C-SVC, one-vs-one) or logreg (multinomial logistic regression)")(
      "scale", po::value<std::string>()->default_value(to_string(d.scale)),
      "input normalisation fitted on the training data and stored in the model: none, l2 "
      "(unit-length rows), standard (zero mean, unit variance), minmax (per feature to "
      "[lower,upper], like svm-scale)")(
      "scale-range",
      po::value<std::string>()->default_value(default_text({d.scale_lower, d.scale_upper})),
      "minmax target range lower,upper")(
      "cost,c", ranged<double>(0, unbounded<double>(), Ends::open_low),
      cat("C, the inverse regularisation (default: ", default_text(d.svm.C), " for svm, ",
          default_text(d.logreg.C), " for logreg)")
          .c_str())(
      "lambda", ranged<double>(0, unbounded<double>(), Ends::open_low),
      "logreg: L2 strength of the mean-loss objective (instead of -c; lambda = 1/(C n))")(
      "class-weight", po::value<std::string>()->default_value(d.svm.balanced ? "balanced" : "none"),
      "none, or balanced (weights n/(k n_c), for C in svm and the loss in logreg)")(
      "kernel", po::value<std::string>()->default_value(to_string(d.svm.kernel)),
      "svm kernel: linear or rbf")(
      "gamma",
      po::value<std::string>()->default_value(d.svm.gamma > 0 ? default_text(d.svm.gamma)
                                                              : "scale"),
      "rbf gamma, or 'scale' = 1/(dim * variance of the scaled inputs)")(
      "probability", po::bool_switch(),
      "svm: also fit Platt sigmoids (internal 5-fold CV) so predictions carry probabilities")(
      "cv", ranged<int>(0, 1000)->default_value(d.svm.cv_folds),
      "K-fold cross-validated grid search over --c-grid (and --gamma-grid for svm rbf); keeps the "
      "best point, then trains on all rows (0 = off)")(
      "c-grid", po::value<std::string>()->default_value(default_text(d.svm.c_grid)),
      "C values for --cv")("gamma-grid",
                           po::value<std::string>()->default_value(default_text(d.svm.gamma_grid)),
                           "gamma values for --cv with rbf (default: gamma x 1/4, 1/2, 1, 2, 4)")(
      "eps", defaults_to(ranged<double>(0, unbounded<double>(), Ends::open_low), d.svm.eps),
      "svm: LIBSVM stopping tolerance (svm-train -e)")(
      "max-iter", ranged<int>(1, 10000000)->default_value(d.logreg.max_iterations),
      "logreg: L-BFGS iteration limit")(
      "tol", defaults_to(ranged<double>(0, unbounded<double>(), Ends::open_low), d.logreg.tol),
      "logreg: converged when max |gradient| of the mean-loss objective is below this")(
      "solver", po::value<std::string>()->default_value(to_string(d.logreg.solver)),
      "logreg: primal (L-BFGS on k x dim weights), basis (the same objective on the rows' "
      "coordinates in an n-dim basis of their span, from the Gram matrix; the same model, cheap "
      "when dim >> rows) or auto (basis when dim > rows)")(
      "seed", ranged<std::uint64_t>(0, unbounded<std::uint64_t>())->default_value(d.svm.seed),
      "seed for the CV folds and the probability folds");
}

static double parse_number(const std::string& token, const char* option) {
  double v;
  if (!parse_double(token, v) || !std::isfinite(v))
    throw UsageError(cat(option, ": not a finite number: '", token, "'"));
  return v;
}

TrainOptions TrainOptions::from(const po::variables_map& vm) {
  TrainOptions t;
  t.type = parse_classifier_type(vm["type"].as<std::string>());
  t.scale = parse_scale_kind(vm["scale"].as<std::string>());
  {
    auto parts = split_list(vm["scale-range"].as<std::string>());
    if (parts.size() != 2) throw UsageError("--scale-range: expected lower,upper (e.g. -1,1)");
    t.scale_lower = parse_number(parts[0], "--scale-range");
    t.scale_upper = parse_number(parts[1], "--scale-range");
    if (!(t.scale_lower < t.scale_upper))
      throw UsageError("--scale-range: lower must be below upper");
  }
  if (vm.count("cost")) {
    const double c = vm["cost"].as<double>();
    if (!(c > 0)) throw UsageError(cat("-c must be positive (got ", c, ")"));
    t.svm.C = t.logreg.C = c;
  }
  if (vm.count("lambda")) {
    t.logreg.lambda = vm["lambda"].as<double>();
    if (!(t.logreg.lambda > 0)) throw UsageError("--lambda must be positive");
  }
  const std::string cw = vm["class-weight"].as<std::string>();
  if (cw != "none" && cw != "balanced")
    throw UsageError(cat("--class-weight: expected none or balanced, got '", cw, "'"));
  t.svm.balanced = t.logreg.balanced = cw == "balanced";
  t.svm.kernel = parse_kernel(vm["kernel"].as<std::string>());
  const std::string g = vm["gamma"].as<std::string>();
  if (g != "scale") {
    t.svm.gamma = parse_number(g, "--gamma");
    if (!(t.svm.gamma > 0)) throw UsageError("--gamma must be positive (or 'scale')");
  }
  t.svm.probability = vm["probability"].as<bool>();
  t.svm.cv_folds = vm["cv"].as<int>();
  if (t.svm.cv_folds < 0 || t.svm.cv_folds == 1)
    throw UsageError("--cv: expected 0 (off) or K >= 2 folds");
  t.svm.c_grid.clear();
  for (const auto& s : split_list(vm["c-grid"].as<std::string>()))
    t.svm.c_grid.push_back(parse_number(s, "--c-grid"));
  for (double c : t.svm.c_grid)
    if (!(c > 0)) throw UsageError(cat("--c-grid: values must be > 0, got ", c));
  if (t.svm.cv_folds > 1 && t.svm.c_grid.empty()) throw UsageError("--c-grid: no values");
  for (const auto& s : split_list(vm["gamma-grid"].as<std::string>()))
    t.svm.gamma_grid.push_back(parse_number(s, "--gamma-grid"));
  for (double g : t.svm.gamma_grid)
    if (!(g > 0)) throw UsageError(cat("--gamma-grid: values must be > 0, got ", g));
  t.svm.eps = vm["eps"].as<double>();
  if (!(t.svm.eps > 0)) throw UsageError("--eps must be positive");
  t.logreg.max_iterations = vm["max-iter"].as<int>();
  t.logreg.tol = vm["tol"].as<double>();
  t.logreg.solver = parse_logreg_solver(vm["solver"].as<std::string>());
  t.svm.seed = vm["seed"].as<std::uint64_t>();
  t.logreg.cv_folds = t.svm.cv_folds;
  t.logreg.c_grid = t.svm.c_grid;
  t.logreg.seed = t.svm.seed;
  if (t.type == ClassifierType::logreg && t.svm.probability)
    throw UsageError("--probability is an svm option (logreg always gives probabilities)");
  if (t.type == ClassifierType::logreg && t.logreg.cv_folds > 1 && vm.count("lambda"))
    throw UsageError("--cv searches C (--c-grid); it does not combine with --lambda");
  return t;
}

void check_training_memory(const std::string& table_path, const TrainOptions& options) {
  if (table_path == "-") return;  // a pipe has no header to look at before reading
  const TableReader reader(table_path);
  const TableHeader& h = reader.header();
  if (h.rows)
    check_memory(
        Classifier::memory_bytes(*h.rows, h.dim, static_cast<int>(h.classes.size()), options),
        table_path,
        cat("training ", to_string(options.type), " on ", *h.rows, " rows x ", h.dim, " dims"));
}

double Classifier::memory_bytes(std::size_t rows, std::size_t dim, int classes,
                                const TrainOptions& options, bool with_table) {
  const double n = double(rows), d = double(dim);
  double bytes = 8.0 * n * d + 8.0 * d * 2;  // Z (scaled rows, double) and the scaler
  if (with_table) bytes += (4.0 * d + 64.0) * n;
  if (options.type == ClassifierType::logreg) {
    bytes += logreg_memory_bytes(options.logreg, rows, dim, classes);
  } else {
    bytes += svm_memory_bytes(options.svm, rows, dim, classes);
  }
  return bytes;
}

namespace {

bool labelled(const FeatureTable& table, std::size_t row) {
  const int l = table.labels[row];
  return l >= 0 && static_cast<std::size_t>(l) < table.classes.size();
}

// The model's classes: the table's classes that have training rows, in table
// order. to_model[table class] = model class, or -1 for a class left out.
struct TrainingClasses {
  std::vector<std::string> names;
  std::vector<int> to_model;
  std::size_t unlabeled = 0;  // rows without a class of the table
};

TrainingClasses training_classes(const FeatureTable& table, const std::string& source) {
  TrainingClasses t;
  std::vector<std::size_t> count(table.classes.size(), 0);
  for (std::size_t i = 0; i < table.rows(); ++i) {
    if (labelled(table, i))
      ++count[table.labels[i]];
    else
      ++t.unlabeled;
  }
  if (t.unlabeled) log::warn(cat(source, ": skipped ", t.unlabeled, " unlabelled rows"));
  t.to_model.assign(table.classes.size(), -1);
  std::vector<std::string> empty;
  for (std::size_t i = 0; i < table.classes.size(); ++i) {
    if (count[i] == 0) {
      empty.push_back(table.classes[i]);
      continue;
    }
    t.to_model[i] = static_cast<int>(t.names.size());
    t.names.push_back(table.classes[i]);
  }
  if (!empty.empty())
    log::warn(cat(source, ": ", empty.size(),
                  " classes have no training rows and are left out: ", list_names(empty)));
  if (t.names.size() < 2)
    throw Error(
        cat(source, ": training needs at least 2 classes with rows, found ", t.names.size(),
            t.names.empty() ? std::string(" (no labelled rows)") : cat(" (", t.names[0], ")")));
  return t;
}

// The labelled rows, in model-class order (stable) when `by_class`: svm's
// pair problems want each class's rows together (train_svm would otherwise
// copy Z).
std::vector<std::size_t> training_rows(const FeatureTable& table, const std::vector<int>& to_model,
                                       bool by_class) {
  std::vector<std::size_t> rows;
  for (std::size_t i = 0; i < table.rows(); ++i)
    if (labelled(table, i)) rows.push_back(i);
  if (by_class)
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) {
      return to_model[table.labels[a]] < to_model[table.labels[b]];
    });
  return rows;
}

// The scaler is fitted on the training rows; without unlabelled rows those
// are the table itself (no copy: at 131k dims a copy is 1.6 GB).
Scaler fit_scaler(const FeatureTable& table, std::size_t unlabeled, const TrainOptions& options) {
  const std::size_t d = table.dim, n = table.rows() - unlabeled;
  std::vector<float> X;
  const float* fit_rows = table.values.data();
  if (unlabeled) {
    X.reserve(n * d);
    for (std::size_t i = 0; i < table.rows(); ++i)
      if (labelled(table, i)) X.insert(X.end(), table.row(i), table.row(i) + d);
    fit_rows = X.data();
  }
  Scaler scaler;
  scaler.fit(options.scale, fit_rows, n, d, options.scale_lower, options.scale_upper);
  return scaler;
}

// The rows the classifier trains on: `rows` of the table, scaled, in double.
Eigen::MatrixXd scaled_rows(const FeatureTable& table, const std::vector<std::size_t>& rows,
                            const Scaler& scaler) {
  const std::size_t d = table.dim;
  Eigen::MatrixXd Z(rows.size(), d);
  std::vector<double> z(d);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    scaler.apply(table.row(rows[i]), d, z.data());
    for (std::size_t j = 0; j < d; ++j) Z(i, j) = z[j];
  }
  return Z;
}

std::string describe_fit(const SvmReport& rep, const SvmOptions& o) {
  return cat("svm ", to_string(o.kernel), " C ", rep.C,
             o.kernel == KernelType::rbf ? cat(" gamma ", rep.gamma) : std::string(),
             o.balanced ? " balanced" : "", o.probability ? " probability" : "", ", ",
             rep.support_vectors, " support vectors");
}

std::string describe_fit(const LogregReport& rep, const LogregOptions& o) {
  return cat("logreg lambda ", rep.lambda, o.lambda > 0 ? std::string() : cat(" (C ", rep.C, ")"),
             o.balanced ? " balanced" : "",
             rep.basis_dim ? cat(", fitted in a ", rep.basis_dim, "-dim row basis") : std::string(),
             ", L-BFGS ", rep.lbfgs.iterations, " iterations (", rep.lbfgs.evaluations,
             " evaluations), ", rep.lbfgs.reason, ", max |gradient| ", rep.lbfgs.gradient_max);
}

}  // namespace

Classifier Classifier::train(const FeatureTable& table, const TrainOptions& options,
                             const std::string& source) {
  if (table.rows() == 0) throw Error(cat(source, ": empty table, nothing to train on"));
  if (table.dim == 0) throw Error(cat(source, ": dimension 0, nothing to train on"));
  TrainingClasses classes = training_classes(table, source);
  const std::size_t n = table.rows() - classes.unlabeled, d = table.dim;
  const int k = static_cast<int>(classes.names.size());
  // The table is already in memory; what training adds comes on top of it.
  check_memory(memory_bytes(n, d, k, options, false), source,
               cat("training ", to_string(options.type), " on ", n, " rows x ", d, " dims"));
  const std::vector<std::size_t> rows =
      training_rows(table, classes.to_model, options.type == ClassifierType::svm);
  std::vector<int> y(n);
  for (std::size_t i = 0; i < n; ++i) y[i] = classes.to_model[table.labels[rows[i]]];
  Classifier c;
  c.classes_ = std::move(classes.names);
  c.type_ = options.type;
  c.dim_ = d;
  c.provenance_ = table.provenance;
  c.scaler_ = fit_scaler(table, classes.unlabeled, options);
  const Eigen::MatrixXd Z = scaled_rows(table, rows, c.scaler_);
  const auto start = std::chrono::steady_clock::now();
  std::string what;
  if (options.type == ClassifierType::svm) {
    SvmReport rep;
    c.svm_ = train_svm(Z, y, k, options.svm, &rep);
    what = describe_fit(rep, options.svm);
  } else {
    LogregReport rep;
    c.logreg_ = train_logreg(Z, y, k, options.logreg, &rep);
    what = describe_fit(rep, options.logreg);
    if (!rep.lbfgs.converged)
      log::warn(cat("logreg did not converge in ", rep.lbfgs.iterations,
                    " iterations (max |gradient| ", rep.lbfgs.gradient_max,
                    "); raise --max-iter or --tol"));
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (options.svm.cv_folds > 1)
    what +=
        cat("; C",
            options.type == ClassifierType::svm && options.svm.kernel == KernelType::rbf ? ", gamma"
                                                                                         : "",
            " by ", options.svm.cv_folds, "-fold CV");
  c.info_ = cat(what, "; scale ", to_string(options.scale), "; trained on ", n, " rows x ", d,
                " dims, ", k, " classes from ", source);
  log::detail(cat("training took ", secs, " s"));
  return c;
}

void Classifier::scores(const float* x, double* out) const {
  std::vector<double> z(dim_);
  scaler_.apply(x, dim_, z.data());
  if (type_ == ClassifierType::svm) {
    // A NaN or infinite decision value would still cast a vote (NaN > 0 is
    // false): a model or input too large must fail here, not mispredict.
    std::vector<double> dec(svm_.pairs.size());
    svm_.decision_values(z.data(), dec.data());
    for (std::size_t p = 0; p < dec.size(); ++p)
      if (!std::isfinite(dec[p]))
        throw Error(cat(path_, ": the decision value of the classes '", classes_[svm_.pairs[p].a],
                        "' and '", classes_[svm_.pairs[p].b], "' is ", dec[p],
                        " for this input (model values or input values too large?)"));
    svm_.scores_from_decisions(dec, out);
  } else
    logreg_.probabilities(z.data(), out);
}

std::vector<Prediction> Classifier::predict_row(const float* x, std::size_t topk) const {
  const std::size_t k = classes_.size();
  std::vector<double> s(k);
  scores(x, s.data());
  // A model whose numbers are finite can still overflow on an input far
  // outside its training range; a NaN score must not become a prediction.
  for (std::size_t c = 0; c < k; ++c)
    if (!std::isfinite(s[c]))
      throw Error(cat(path_, ": the score of class '", classes_[c], "' is ", s[c],
                      " for this input (model values or input values too large?)"));
  std::vector<int> order(k);
  for (std::size_t i = 0; i < k; ++i) order[i] = static_cast<int>(i);
  topk = std::min(std::max<std::size_t>(topk, 1), k);
  std::partial_sort(order.begin(), order.begin() + topk, order.end(),
                    [&](int a, int b) { return s[a] > s[b] || (s[a] == s[b] && a < b); });
  std::vector<Prediction> out(topk);
  for (std::size_t i = 0; i < topk; ++i) out[i] = {order[i], s[order[i]]};
  return out;
}

std::vector<int> Classifier::map_classes(const TableHeader& header,
                                         const std::string& table_name) const {
  if (header.dim != dim_)
    throw Error(cat(table_name, ": dimension ", header.dim, ", but the model ", path_,
                    " was trained on dimension ", dim_));
  std::map<std::string, int> index;
  for (std::size_t i = 0; i < classes_.size(); ++i) index[classes_[i]] = static_cast<int>(i);
  std::vector<int> map(header.classes.size(), -1);
  bool any = false;
  for (std::size_t i = 0; i < header.classes.size(); ++i) {
    auto it = index.find(header.classes[i]);
    if (it != index.end()) map[i] = it->second, any = true;
  }
  if (!provenance_.empty() && !header.provenance.empty() && provenance_ != header.provenance)
    log::detail(cat(table_name, ": its provenance differs from that of the training features of ",
                    path_, " (check that both were made the same way)"));
  if (!header.classes.empty() && !any)
    throw Error(cat(table_name, ": none of its classes (", list_names(header.classes),
                    ") is a class of the model ", path_, " (", list_names(classes_),
                    "); wrong model or wrong table?"));
  return map;
}

void Classifier::write(std::ostream& os) const {
  BinaryWriter o(os);
  o.bytes(kMagic, 8);
  o.u32(kClassifierVersion);
  o.str(to_string(type_));
  o.str(info_);
  o.str(provenance_);
  o.u64(dim_);
  o.u32(static_cast<std::uint32_t>(classes_.size()));
  for (const auto& c : classes_) o.str(c);
  o.str(to_string(scaler_.kind));
  o.f64(scaler_.lower);
  o.f64(scaler_.upper);
  o.vec(scaler_.a);
  o.vec(scaler_.b);
  if (type_ == ClassifierType::svm) {
    o.str(to_string(svm_.kernel));
    o.f64(svm_.gamma);
    o.u32(svm_.probability ? 1 : 0);
    const bool weights = svm_.w.rows() > 0;
    o.u32(weights ? 1 : 0);  // 1: per-pair weight vectors, 0: support vectors
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> sv =
        weights ? svm_.w : svm_.sv;
    o.u64(sv.rows());
    o.f64s(sv.data(), sv.size());
    o.u64(svm_.pairs.size());
    for (const auto& p : svm_.pairs) {
      o.u32(p.a);
      o.u32(p.b);
      o.f64(p.rho);
      o.f64(p.prob_A);
      o.f64(p.prob_B);
      o.u64(p.sv.size());
      for (int s : p.sv) o.u32(static_cast<std::uint32_t>(s));
      o.f64s(p.coef.data(), p.coef.size());
    }
  } else {
    Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> W = logreg_.W;
    o.f64s(W.data(), W.size());
    o.f64s(logreg_.b.data(), logreg_.b.size());
  }
  o.bytes("END\n", 4);
}

void Classifier::save(const std::string& path) const {
  AtomicOutput out(path);
  write(out.stream());
  out.commit();
}

namespace {

using RowMajorMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

[[noreturn]] void damaged(const BinaryReader& in, const std::string& what) {
  in.fail(cat("damaged classifier model: ", what));
}

// Every number of a model must be finite: a NaN or Inf weight would turn
// every score into NaN.
void check_finite(const BinaryReader& in, const double* values, std::size_t n,
                  const std::string& field) {
  for (std::size_t i = 0; i < n; ++i)
    if (!std::isfinite(values[i]))
      in.fail(
          cat("damaged classifier model: ", field, " value ", i + 1, " of ", n, " is ", values[i]));
}
void check_finite(const BinaryReader& in, const std::vector<double>& values,
                  const std::string& field) {
  check_finite(in, values.data(), values.size(), field);
}

// The first 8 bytes must be the model's magic; anything else gets a message
// saying what the file looks like instead.
void check_magic(std::istream& is, const std::string& name) {
  char magic[8] = {};
  is.read(magic, 8);
  const std::string head(magic, static_cast<std::size_t>(is.gcount()));
  if (head.size() >= 8 && std::memcmp(magic, kMagic, 8) == 0) return;
  if (head.rfind("FGTABLE", 0) == 0)
    throw Error(cat(
        name,
        ": this is a feature table (.fgt), not a classifier model; did you swap the arguments?"));
  if (head.rfind("FG", 0) == 0)
    throw Error(cat(name, ": not a classifier model (it is another finegrain file, starting '",
                    head.substr(0, head.find('\n')), "'); expected a model written by fg-train"));
  throw Error(cat(name, ": not a classifier model (it looks like ", describe_content(head),
                  "); expected a model written by fg-train"));
}

// A named field holding one of a few words: a damaged one is bad data, not a usage error.
std::string read_word(BinaryReader& in, const char* field,
                      std::initializer_list<const char*> known) {
  const std::string text = in.str(64, cat(field, " name"));
  std::string list;
  for (const char* k : known) {
    if (text == k) return text;
    list += (list.empty() ? "" : ", ") + std::string(k);
  }
  in.fail(cat("damaged classifier model: field '", field, "' is '", shown(text),
              "', expected one of ", list));
}

std::vector<std::string> read_classes(BinaryReader& in) {
  const std::uint32_t k = in.u32();
  if (k < 2 || k > (1u << 20)) damaged(in, cat("implausible class count ", k));
  in.check_count(k, k, 4, "class name");
  std::vector<std::string> classes;
  std::map<std::string, std::size_t> seen;
  for (std::uint32_t i = 0; i < k; ++i) {
    classes.push_back(in.str(1u << 16, "class name"));
    if (!seen.emplace(classes.back(), i).second)
      damaged(in, cat("class ", i + 1, " '", shown(classes.back()), "' repeats class ",
                      seen[classes.back()] + 1));
  }
  return classes;
}

Scaler read_scaler(BinaryReader& in, std::size_t dim) {
  Scaler scaler;
  scaler.kind = parse_scale_kind(read_word(in, "scale", {"none", "l2", "standard", "minmax"}));
  scaler.lower = in.f64();
  scaler.upper = in.f64();
  if (!std::isfinite(scaler.lower) || !std::isfinite(scaler.upper) ||
      (scaler.kind == ScaleKind::minmax && !(scaler.lower < scaler.upper)))
    damaged(in, cat("scale range ", scaler.lower, ",", scaler.upper));
  scaler.a = in.vec(dim, "scaler value");
  scaler.b = in.vec(dim, "scaler value");
  const bool per_feature = scaler.kind == ScaleKind::standard || scaler.kind == ScaleKind::minmax;
  if (per_feature ? (scaler.a.size() != dim || scaler.b.size() != dim)
                  : (!scaler.a.empty() || !scaler.b.empty()))
    damaged(in, "scaler size does not match the dimension");
  check_finite(in, scaler.a, "scaler");
  check_finite(in, scaler.b, "scaler");
  for (std::size_t j = 0; j < scaler.b.size(); ++j) {
    const bool ok =
        scaler.kind == ScaleKind::minmax ? scaler.a[j] <= scaler.b[j] : scaler.b[j] >= 0;
    if (!ok)
      damaged(in, cat("scaler of feature ", j + 1, " (", scaler.a[j], ", ", scaler.b[j], ")"));
  }
  return scaler;
}

// One class pair of an svm model: its classes, in LIBSVM's order (want_a,
// want_b), its sigmoid as the probability flag says, and its support
// vectors (indices below nsv, each at most once; `used` marks them).
void read_svm_pair(BinaryReader& in, SvmPair& p, std::size_t pi, int want_a, int want_b,
                   bool probability, bool weights, std::uint64_t nsv,
                   std::vector<std::uint64_t>& used) {
  p.a = static_cast<int>(in.u32());
  p.b = static_cast<int>(in.u32());
  if (p.a != want_a || p.b != want_b)
    damaged(in, cat("class pair ", pi + 1, " is (", p.a, ",", p.b, "), expected (", want_a, ",",
                    want_b, ") (pairs missing or repeated)"));
  p.rho = in.f64();
  p.prob_A = in.f64();
  p.prob_B = in.f64();
  if (!std::isfinite(p.rho) || !std::isfinite(p.prob_A) || !std::isfinite(p.prob_B))
    damaged(in, cat("class pair ", pi + 1, ": non-finite rho or probability sigmoid"));
  // A model trained without --probability has no sigmoids (A = B = 0);
  // one trained with it has one per pair.
  const bool has_sigmoid = p.prob_A != 0 || p.prob_B != 0;
  if (has_sigmoid != probability)
    damaged(in, probability
                    ? cat("probability flag set, but class pair ", pi + 1, " has no sigmoid")
                    : cat("class pair ", pi + 1,
                          " has a probability sigmoid, but the flag is not set"));
  const std::uint64_t ns = in.check_count(in.u64(), weights ? 0 : nsv, 12, "pair support vector");
  // LIBSVM keeps at least one support vector per pair (so the vectors
  // also bound the dimension by the file size).
  if (!weights && ns == 0) damaged(in, cat("class pair ", pi + 1, " has no support vectors"));
  p.sv.resize(ns);
  for (auto& s : p.sv) {
    const std::uint32_t index = in.u32();
    if (index >= nsv)
      damaged(in, cat("class pair ", pi + 1, ": support vector index ", index, " out of range"));
    if (used[index] == pi + 1)
      damaged(in, cat("class pair ", pi + 1, ": support vector ", index, " listed twice"));
    used[index] = pi + 1;
    s = static_cast<int>(index);
  }
  in.f64s(p.coef, ns, "coefficient");
  check_finite(in, p.coef, cat("class pair ", pi + 1, " coefficient"));
}

SvmModel read_svm(BinaryReader& in, std::uint32_t k, std::size_t dim) {
  SvmModel m;
  m.kernel = parse_kernel(read_word(in, "kernel", {"linear", "rbf"}));
  m.gamma = in.f64();
  if (!std::isfinite(m.gamma) || m.gamma < 0 || (m.kernel == KernelType::rbf && !(m.gamma > 0)))
    damaged(in, cat("gamma ", m.gamma));
  const std::uint32_t probability = in.u32();
  if (probability > 1) damaged(in, cat("probability flag ", probability));
  m.probability = probability == 1;
  m.classes = static_cast<int>(k);
  const std::uint32_t weights = in.u32();
  if (weights > 1) damaged(in, "unknown svm representation");
  if (weights && m.kernel != KernelType::linear)
    damaged(in, "weight vectors for a non-linear kernel");
  const std::uint64_t nsv =
      in.check_count(in.u64(), 1u << 26, dim * sizeof(double), "support vector");
  std::vector<double> values;
  in.f64s(values, nsv * dim, "support vector value");
  check_finite(in, values, weights ? "weight vector" : "support vector");
  RowMajorMatrix sv = Eigen::Map<RowMajorMatrix>(values.data(), static_cast<Eigen::Index>(nsv),
                                                 static_cast<Eigen::Index>(dim));
  values = {};
  const std::uint64_t pair_count = std::uint64_t(k) * (k - 1) / 2;
  const std::uint64_t np = in.u64();
  if (np != pair_count)
    damaged(in, cat(np, " class pairs, expected ", pair_count, " for ", k, " classes"));
  in.check_count(np, pair_count, 40, "class pair");
  if (weights) {
    if (nsv != np) damaged(in, "weight vector count does not match the pairs");
    m.w = sv;
    m.sv.resize(0, static_cast<Eigen::Index>(dim));
  } else {
    m.sv = sv;
  }
  m.pairs.resize(np);
  // LIBSVM's order (0,1), (0,2), ..., (k-2,k-1): voting and probability
  // coupling need each pair once.
  int want_a = 0, want_b = 1;
  std::vector<std::uint64_t> used(nsv, 0);
  for (std::size_t pi = 0; pi < m.pairs.size(); ++pi) {
    read_svm_pair(in, m.pairs[pi], pi, want_a, want_b, m.probability, weights, nsv, used);
    if (++want_b == static_cast<int>(k)) want_b = ++want_a + 1;
  }
  return m;
}

LogregModel read_logreg(BinaryReader& in, std::uint32_t k, std::size_t dim) {
  LogregModel m;
  std::vector<double> values;
  in.f64s(values, std::uint64_t(k) * dim, "weight");
  check_finite(in, values, "weight");
  m.W = Eigen::Map<RowMajorMatrix>(values.data(), static_cast<Eigen::Index>(k),
                                   static_cast<Eigen::Index>(dim));
  in.f64s(values, k, "bias");
  check_finite(in, values, "bias");
  m.b = Eigen::Map<Eigen::VectorXd>(values.data(), static_cast<Eigen::Index>(k));
  return m;
}

}  // namespace

Classifier Classifier::read(std::istream& is, const std::string& name) {
  check_magic(is, name);
  BinaryReader in(is, name, "classifier model");
  const std::uint32_t version = in.u32();
  if (version != kClassifierVersion)
    throw Error(cat(name, ": classifier model format version ", version,
                    ", this program reads version ", kClassifierVersion,
                    "; retrain with this fg-train"));
  Classifier c;
  c.path_ = name;
  c.type_ = parse_classifier_type(read_word(in, "type", {"svm", "logreg"}));
  c.info_ = in.str(1u << 20, "info");
  c.provenance_ = in.str(1u << 20, "provenance");
  c.dim_ = in.u64();
  if (c.dim_ == 0 || c.dim_ > (1u << 24)) damaged(in, cat("implausible dimension ", c.dim_));
  c.classes_ = read_classes(in);
  const auto k = static_cast<std::uint32_t>(c.classes_.size());
  c.scaler_ = read_scaler(in, c.dim_);
  if (c.type_ == ClassifierType::svm)
    c.svm_ = read_svm(in, k, c.dim_);
  else
    c.logreg_ = read_logreg(in, k, c.dim_);
  char end[4] = {};
  in.bytes(end, 4);
  if (std::memcmp(end, "END\n", 4) != 0) damaged(in, "missing end marker");
  return c;
}

Classifier Classifier::load(const std::string& path) {
  Input in(path);
  Classifier c = read(in.stream(), in.name());
  if (in.stream().peek() != std::char_traits<char>::eof())
    throw Error(cat(in.name(), ": damaged classifier model: unexpected data after the end marker"));
  return c;
}

}  // namespace fg
