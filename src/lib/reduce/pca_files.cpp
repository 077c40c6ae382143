// PCA on files: fitting on a table or on merged statistics files, the
// statistics of a table, streaming a table through a model, the variance
// table. What fg-pca composes; the numerical work is in pca.cpp.
#include <algorithm>
#include <ostream>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/reduce/pca.hpp"

namespace fg {

namespace {

std::string source_name(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// Statistics files merged in the order given.
PcaStats merged_stats(const std::vector<std::string>& inputs) {
  PcaStats merged;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const std::string& path = inputs[i];
    if (!PcaStats::is_stats_file(path)) {
      throw UsageError(cat(path,
                           ": not PCA statistics; fitting on several inputs needs files written by "
                           "fg-pca stats (one feature table is fitted alone)"));
    }
    PcaStats shard = PcaStats::load(path);
    log::detail(cat("read statistics of ", shard.rows(), " rows of dimension ", shard.dim(),
                    " from ", path));
    if (i == 0)
      merged = std::move(shard);
    else
      merged.merge(shard, path);
  }
  return merged;
}

// Runs a fit, naming `source` in its errors (usage errors pass as they are).
template <class Fit>
PcaModel named_fit(const std::string& source, const Fit& fit) {
  try {
    return fit();
  } catch (const UsageError&) {
    throw;
  } catch (const Error& e) {
    throw Error(cat(source, ": ", e.what()));
  }
}

}  // namespace

PcaModel fit_pca(const std::vector<std::string>& inputs, const PcaFitOptions& options,
                 PcaFitReport* report) {
  if (inputs.empty()) throw UsageError("PCA: no input to fit on");
  if (inputs.size() > 1 || PcaStats::is_stats_file(inputs.front())) {
    const PcaStats merged = merged_stats(inputs);
    const std::string source =
        inputs.size() == 1 ? inputs.front() : cat(inputs.size(), " statistics files");
    return named_fit(source, [&] { return PcaModel::fit(merged, options, report); });
  }
  const std::string source = source_name(inputs.front());
  const FeatureTable table = read_table(inputs.front());
  if (table.rows() < 2)
    throw Error(
        cat(source, ": ", table.rows(), " rows; PCA needs at least 2 to estimate variances"));
  log::detail(cat("read ", table.rows(), " rows of dimension ", table.dim, " from ", source));
  return named_fit(source, [&] { return PcaModel::fit(table, options, report); });
}

PcaStats compute_pca_stats(const std::string& table_path) {
  const FeatureTable table = read_table(table_path);
  try {
    return PcaStats::compute(table);
  } catch (const Error& e) {
    throw Error(cat(source_name(table_path), ": ", e.what()));
  }
}

std::uint64_t apply_pca(const PcaModel& model, const std::string& model_name,
                        const std::string& in_path, const std::string& out_path) {
  TableReader reader(in_path);
  model.check_input_dim(reader.header().dim, reader.name(), model_name);
  TableHeader header = reader.header();
  header.dim = model.output_dim();
  // The provenance (how the input values were made) passes on unchanged.
  TableWriter writer(out_path, header);

  // Batches: read serially, project in parallel, write in order.
  const std::size_t batch = 1024, in_dim = model.input_dim(), out_dim = model.output_dim();
  std::vector<TableRow> rows(batch);
  std::vector<float> in(batch * in_dim), out(batch * out_dim);
  std::uint64_t done = 0;
  for (;;) {
    std::size_t count = 0;
    while (count < batch && reader.next(rows[count])) {
      std::copy(rows[count].values.begin(), rows[count].values.end(), in.begin() + count * in_dim);
      ++count;
    }
    if (count == 0) break;
    model.apply(in.data(), count, out.data());
    for (std::size_t i = 0; i < count; ++i)
      writer.write(rows[i].key, rows[i].label, out.data() + i * out_dim);
    done += count;
    if (count < batch) break;
  }
  writer.commit();
  return done;
}

void write_pca_variance_table(const std::string& path, const PcaFitReport& report) {
  AtomicOutput out(path, false);
  std::ostream& s = out.stream();
  s << "component\tvariance\tratio\tcumulative\tkept\n";
  double cumulative = 0.0;
  for (std::size_t k = 0; k < report.spectrum.size(); ++k) {
    const double v = report.spectrum[k];
    const double ratio = report.total_variance > 0 ? v / report.total_variance : 0.0;
    cumulative += ratio;
    s << (k + 1) << '\t' << format_double(v) << '\t' << format_double(ratio) << '\t'
      << format_double(cumulative) << '\t' << (k < report.kept ? 1 : 0) << '\n';
  }
  out.commit();
}

}  // namespace fg
