// Feature tables to and from the formats other tools read: LIBSVM text,
// CSV, NumPy .npy, and a text dump for eyes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "finegrain/core/option_range.hpp"
#include "finegrain/data/table.hpp"

namespace fg {

// LIBSVM text: "<label> <i>:<v> ..." with 1-based ascending indices, zeros
// omitted except the last column (always written, so the dimension survives
// a round trip). Labels are class indices 0..k-1 (-1 = unlabeled); the class
// names go to `<path>.classes`, one per line, line i naming label i.
void write_libsvm(const std::string& path, const FeatureTable& table);
// Reads LIBSVM text strictly (file:line:token errors). Class names come from
// `<path>.classes` when it exists, else the labels themselves are the names.
// dim = 0 takes the largest index seen (at most 2^20). NaN/Inf values are
// an error unless options.allow_nonfinite; so are repeated class names.
FeatureTable read_libsvm(const std::string& path, std::size_t dim = 0,
                         TableReadOptions options = {});

// CSV with a header "key,label,f1,...,fD"; values in their shortest exact form; fields with commas
// or quotes are quoted (RFC 4180).
void write_csv(const std::string& path, const FeatureTable& table);
FeatureTable read_csv(const std::string& path, TableReadOptions options = {});

// NumPy: the matrix as float32 `<path>` (rows x dim), plus `<stem>.labels.npy`
// (int32, -1 = unlabeled), `<stem>.classes.txt` and `<stem>.keys.txt`.
void write_npy(const std::string& path, const FeatureTable& table);

// One row per line: key<TAB>label<TAB>values, after a '#' header line.
void write_text(const std::string& path, const FeatureTable& table);

// The writer of `format` (fgt, libsvm, csv, npy or text; UsageError otherwise)
// for a table in memory: the same bytes as the write_* functions above. A
// NaN/Inf value in an .fgt output is an Error unless allowed.
void write_in_format(const std::string& format, const std::string& path, const FeatureTable& table,
                     bool allow_nonfinite = false);

// Converts .fgt tables to `format` with one record in memory at a time, so
// any size converts in little memory (a 3,000 x 131,328 bilinear table is
// 1.6 GB). Several inputs are joined in order as append_table joins them
// (same dimension and provenance, class lists merged by name). npy and text
// need the row count in every input's header (files written by fg have it).
// Returns the output's header, rows = the rows written.
// `same_provenance` as for join_tables.
TableHeader convert_tables(const std::vector<std::string>& inputs, const std::string& out,
                           const std::string& format, TableReadOptions options = {},
                           const ProvenanceMatch& same_provenance = {});

// fg-convert's settings.
struct ConvertOptions {
  std::string input_format = "fgt";   // --from: fgt | libsvm | csv
  std::string output_format = "fgt";  // --to: fgt | libsvm | csv | npy | text
  std::size_t dim = 0;                // --dim of a LIBSVM input (0 = the largest index seen)
  bool allow_nonfinite = false;       // --allow-nonfinite: pass NaN/Inf values on

  // --from, --to, --dim, --allow-nonfinite.
  static void add_options(po::options_description& options);
  // Throws UsageError for a format it does not know.
  static ConvertOptions from(const po::variables_map& vm);
};

// What fg-convert does: `inputs` in options.input_format into `out` (several
// inputs only for .fgt, joined as convert_tables joins them; a UsageError
// otherwise). .fgt inputs convert record by record (convert_tables), except
// from stdin to npy or text, which need the row count first: those in memory.
// Returns the output's header, rows = the rows written.
TableHeader convert_files(const std::vector<std::string>& inputs, const std::string& out,
                          const ConvertOptions& options,
                          const ProvenanceMatch& same_provenance = {});
// "Done 720 rows of dimension 512, 12 classes (fgt -> libsvm)"
std::string convert_summary(const TableHeader& written, const ConvertOptions& options);

// A float32 .npy array (C order), e.g. the model fixtures in the assets.
struct NpyArray {
  std::vector<std::size_t> shape;
  std::vector<float> data;
};
NpyArray read_npy(const std::string& path);

}  // namespace fg
