// The feature table (.fgt): the one format between stages.
//
// Rows of (key, label, float32 vector). Binary, little-endian, streamable:
//
//   header   "FGTABLE\n" (8 bytes), u32 version (=2), u32 dim,
//            u64 rows (UINT64_MAX when the writer could not know it),
//            u32 class count, then per class: u32 length, UTF-8 name,
//            u32 length, provenance text (how the values were made)
//   record   u8 'R', u32 key length, key bytes, i32 label (-1 = none),
//            dim x f32
//   end      u8 'E', u64 rows written
//
// The end marker makes a truncated stream detectable even from a pipe: a
// table without it is rejected as truncated. Labels index the class list.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finegrain/core/io.hpp"

namespace fg {

class BinaryReader;
inline constexpr std::uint32_t kTableVersion = 2;

struct TableHeader {
  std::size_t dim = 0;
  std::vector<std::string> classes;   // label names; may be empty
  std::optional<std::uint64_t> rows;  // known row count, if any
  // How the values were made, as "key=value" lines (fg-extract records its
  // model and settings here, so a bundle can reproduce them exactly).
  // Stages that transform values pass it on.
  std::string provenance;
};

struct TableRow {
  std::string key;
  int label = -1;  // index into the class list, -1 = unlabeled
  std::vector<float> values;
};

struct TableReadOptions {
  bool allow_nonfinite = false;  // NaN/Inf values are an error unless set
};

// Writes a table record by record to a file (atomically) or "-" (stdout).
// A NaN/Inf value is an Error (nothing is committed) unless allowed.
class TableWriter {
 public:
  TableWriter(const std::string& path, TableHeader header);
  ~TableWriter();
  void allow_nonfinite(bool allow) { allow_nonfinite_ = allow; }
  void write(std::string_view key, int label, const float* values);
  void write(const TableRow& row) { write(row.key, row.label, row.values.data()); }
  // Writes the end marker, fixes the row count in the header, renames.
  void commit();
  const TableHeader& header() const { return header_; }
  std::uint64_t rows_written() const { return rows_; }
  const std::string& path() const { return out_.path(); }

 private:
  AtomicOutput out_;
  TableHeader header_;
  std::uint64_t rows_ = 0;
  std::streamoff rows_offset_ = 0;
  bool allow_nonfinite_ = false;
};

// Reads a table record by record from a file or "-" (stdin). Every problem
// is an Error naming the file and the record.
class TableReader {
 public:
  explicit TableReader(const std::string& path, TableReadOptions options = {});
  ~TableReader();
  const TableHeader& header() const { return header_; }
  // Reads the next record into `row`; false at the (verified) end marker.
  bool next(TableRow& row);
  std::string name() const { return in_.name(); }
  // 1-based number of the last record read.
  std::uint64_t record() const { return record_; }
  // The header's row count when the (seekable) file can hold that many
  // records, else 0: what a reader may reserve memory for.
  std::uint64_t rows_that_fit() const { return rows_that_fit_; }

 private:
  Input in_;
  std::unique_ptr<BinaryReader> bin_;  // reads in_
  TableReadOptions options_;
  TableHeader header_;
  std::uint64_t record_ = 0;
  std::uint64_t rows_that_fit_ = 0;
  bool done_ = false;
};

// A whole table in memory, values row-major.
struct FeatureTable {
  std::size_t dim = 0;
  std::vector<std::string> classes;
  std::vector<std::string> keys;
  std::vector<int> labels;
  std::vector<float> values;
  std::string provenance;  // see TableHeader

  std::size_t rows() const { return keys.size(); }
  float* row(std::size_t i) { return values.data() + i * dim; }
  const float* row(std::size_t i) const { return values.data() + i * dim; }
  void add(std::string key, int label, const float* row_values);
  // The class name of row i, or "" when unlabeled.
  const std::string& label_name(std::size_t i) const;
  // Index of a class name, or -1.
  int class_index(const std::string& name) const;
  TableHeader header() const;
};

FeatureTable read_table(const std::string& path, TableReadOptions options = {});

// `same_provenance` decides whether two tables' provenances agree (default:
// the same text; the extract stage's fg::same_provenance compares settings).
using ProvenanceMatch = std::function<bool(const std::string&, const std::string&)>;

// The rules by which tables join in order, one header at a time (append_table,
// join_tables, fg-convert's convert_tables): the same dimension and provenance
// as the first (an Error naming the table otherwise), class lists merged by
// name (new names appended in order), or, when `classes` is given, that list,
// which must hold every class of every table.
class TableJoin {
 public:
  explicit TableJoin(std::vector<std::string> classes = {}, ProvenanceMatch same_provenance = {});
  void add(const TableHeader& header, const std::string& name);
  // The joined dimension, provenance and classes (rows unset).
  const TableHeader& header() const { return joined_; }
  // Table t's label in the joined class list (-1 stays -1).
  int label(std::size_t t, int label) const {
    return label < 0 ? -1 : remaps_[t][static_cast<std::size_t>(label)];
  }

 private:
  TableHeader joined_;
  bool fixed_classes_;
  ProvenanceMatch same_provenance_;
  std::vector<std::vector<int>> remaps_;
};

// Appends `more` to `table` (e.g. shards extracted in parallel). Dimensions and
// provenance must agree (Error naming `more_name` otherwise); class lists are
// merged by name, new names appended in order, labels remapped.
void append_table(FeatureTable& table, const FeatureTable& more, const std::string& more_name);
void write_table(const std::string& path, const FeatureTable& table, bool allow_nonfinite = false);

// Joins tables in order into `out_path` with append_table's rules (same dimension and
// provenance, class lists merged by name), streaming: one row in memory at a time, so
// shards of any size join. `classes`, when not empty, is the output's class list as
// given (it must hold every class a row uses), e.g. the whole manifest's, so a joined
// table equals the one a single process writes. `between_rows` runs before each row
// (it may throw to stop; the output is then not written). Returns the rows written.
std::uint64_t join_tables(const std::vector<std::string>& inputs, const std::string& out_path,
                          const TableReadOptions& options = {},
                          const std::vector<std::string>& classes = {},
                          const std::function<void()>& between_rows = {},
                          const ProvenanceMatch& same_provenance = {});

}  // namespace fg
