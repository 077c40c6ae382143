#include "finegrain/data/table.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "finegrain/core/binary.hpp"
#include "finegrain/core/common.hpp"

namespace fg {

namespace {
constexpr char kMagic[8] = {'F', 'G', 'T', 'A', 'B', 'L', 'E', '\n'};
constexpr std::uint64_t kUnknownRows = std::numeric_limits<std::uint64_t>::max();
constexpr char kRecordTag = 'R';
constexpr char kEndTag = 'E';
// Sanity limits, so that a damaged file gives a message, not a huge allocation.
constexpr std::uint32_t kMaxDim = 1u << 28;
constexpr std::uint32_t kMaxClasses = 1u << 24;
constexpr std::uint32_t kMaxName = 1u << 16;
constexpr std::uint32_t kMaxKey = 1u << 20;

template <class T>
void put(std::ostream& out, T value) {
  out.write(reinterpret_cast<const char*>(&value), sizeof value);
}

void put_string(std::ostream& out, std::string_view text) {
  put<std::uint32_t>(out, static_cast<std::uint32_t>(text.size()));
  out.write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace

// ---------------------------------------------------------------- writer

TableWriter::TableWriter(const std::string& path, TableHeader header)
    : out_(path, true), header_(std::move(header)) {
  if (header_.dim == 0 || header_.dim > kMaxDim)
    throw Error(cat(path, ": cannot write a table of dimension ", header_.dim));
  std::ostream& out = out_.stream();
  out.write(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, kTableVersion);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(header_.dim));
  // Files get the real count patched in by commit(); pipes say "unknown".
  if (out_.is_file()) rows_offset_ = out.tellp();
  put<std::uint64_t>(out, kUnknownRows);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(header_.classes.size()));
  for (const auto& name : header_.classes) put_string(out, name);
  put_string(out, header_.provenance);
}

TableWriter::~TableWriter() = default;

void TableWriter::write(std::string_view key, int label, const float* values) {
  if (label < -1 || label >= static_cast<int>(header_.classes.size()))
    throw Error(cat(out_.path(), ": label index ", label, " outside the class list of ",
                    header_.classes.size(), " (key ", key, ")"));
  if (key.size() > kMaxKey) throw Error(cat(out_.path(), ": key too long: ", key.substr(0, 80)));
  // Checked before the rename: a NaN made upstream (a damaged model, an
  // overflow) must not leave a table that looks valid.
  if (!allow_nonfinite_) {
    for (std::size_t j = 0; j < header_.dim; ++j)
      if (!std::isfinite(values[j]))
        throw Error(cat(out_.path(), ": record ", rows_ + 1, " (", key, "): column ", j + 1,
                        " would be ", values[j], "; nothing written"));
  }
  std::ostream& out = out_.stream();
  out.put(kRecordTag);
  put_string(out, key);
  put<std::int32_t>(out, label);
  out.write(reinterpret_cast<const char*>(values),
            static_cast<std::streamsize>(header_.dim * sizeof(float)));
  if (!out) throw Error(cat(out_.path(), ": write failed (disk full?)"));
  ++rows_;
}

void TableWriter::commit() {
  std::ostream& out = out_.stream();
  out.put(kEndTag);
  put<std::uint64_t>(out, rows_);
  if (out_.is_file()) {
    out.seekp(rows_offset_);
    put<std::uint64_t>(out, rows_);
    out.seekp(0, std::ios::end);
  }
  out_.commit();
}

// ---------------------------------------------------------------- reader

TableReader::TableReader(const std::string& path, TableReadOptions options)
    : in_(path, true), options_(options) {
  std::istream& stream = in_.stream();
  char magic[8] = {};
  stream.read(magic, sizeof magic);
  auto got = static_cast<std::size_t>(stream.gcount());
  if (got != sizeof magic || std::memcmp(magic, kMagic, sizeof magic) != 0) {
    std::string first(magic, got);  // a little more text helps describe it
    char more[248];
    if (got == sizeof magic) {
      stream.read(more, sizeof more);
      first.append(more, static_cast<std::size_t>(stream.gcount()));
    }
    throw Error(
        cat(name(), ": not a finegrain feature table; it looks like ", describe_content(first)));
  }
  bin_ = std::make_unique<BinaryReader>(stream, name(), "feature table");
  BinaryReader& in = *bin_;
  in.set_context("truncated header");
  const std::uint32_t version = in.u32();
  if (version != kTableVersion)
    throw Error(cat(name(), ": feature table format version ", version,
                    ", this program reads version ", kTableVersion,
                    " (written by a different finegrain?)"));
  const std::uint32_t dim = in.u32();
  const std::uint64_t rows = in.u64();
  const std::uint32_t class_count = in.u32();
  if (dim == 0 || dim > kMaxDim) throw Error(cat(name(), ": damaged header: dimension ", dim));
  if (class_count > kMaxClasses)
    throw Error(cat(name(), ": damaged header: ", class_count, " classes"));
  in.check_count(class_count, kMaxClasses, 4, "class name");
  header_.dim = dim;
  header_.classes.resize(class_count);
  in.set_context("truncated class list");
  for (auto& cls : header_.classes) {
    const std::uint32_t length = in.u32();
    if (length > kMaxName) throw Error(cat(name(), ": damaged class list"));
    in.check_count(length, kMaxName, 1, "class name byte");
    cls.resize(length);
    in.bytes(cls.data(), length);
  }
  in.set_context("truncated header");
  const std::uint32_t length = in.u32();
  if (length > kMaxKey) throw Error(cat(name(), ": damaged header (provenance)"));
  in.check_count(length, kMaxKey, 1, "provenance byte");
  header_.provenance.resize(length);
  in.bytes(header_.provenance.data(), length);
  if (rows != kUnknownRows) {
    header_.rows = rows;
    // Each record takes at least 9 bytes and its values, the end marker 9.
    // A count the file cannot hold (truncated, or a damaged header) is not
    // used to size anything; reading then says what is wrong.
    const std::uint64_t record_bytes = 9 + std::uint64_t(dim) * sizeof(float);
    const auto left = in.remaining();
    if (left && *left >= 9 && rows <= (*left - 9) / record_bytes) rows_that_fit_ = rows;
  }
}

TableReader::~TableReader() = default;

bool TableReader::next(TableRow& row) {
  if (done_) return false;
  BinaryReader& in = *bin_;
  const int tag = in.peek();
  if (tag < 0)
    throw Error(cat(name(), ": truncated after record ", record_,
                    ": the end marker is missing (was the writer interrupted?)"));
  in.u8();
  if (tag == kEndTag) {
    in.set_context("truncated end marker");
    const std::uint64_t count = in.u64();
    if (count != record_)
      throw Error(cat(name(), ": end marker says ", count, " records, found ", record_));
    if (header_.rows && *header_.rows != record_)
      throw Error(cat(name(), ": header says ", *header_.rows, " records, found ", record_));
    if (!in.at_end()) throw Error(cat(name(), ": unexpected data after the end marker"));
    done_ = true;
    return false;
  }
  std::uint64_t number = record_ + 1;
  if (tag != kRecordTag)
    throw Error(cat(name(), ": record ", number, ": damaged (bad record marker)"));
  in.set_context(cat("record ", number));
  const std::uint32_t key_length = in.u32();
  if (key_length > kMaxKey) throw Error(cat(name(), ": record ", number, ": damaged (key length)"));
  in.check_count(key_length, kMaxKey, 1, "key byte");
  row.key.resize(key_length);
  in.bytes(row.key.data(), key_length);
  const std::int32_t label = in.i32();
  in.f32s(row.values, header_.dim, "value");
  if (label < -1 || label >= static_cast<std::int32_t>(header_.classes.size()))
    throw Error(cat(name(), ": record ", number, ": label index ", label,
                    " outside the class list of ", header_.classes.size()));
  row.label = label;
  if (!options_.allow_nonfinite) {
    for (std::size_t j = 0; j < header_.dim; ++j) {
      if (!std::isfinite(row.values[j]))
        throw Error(cat(name(), ": record ", number, " (", row.key, "): column ", j + 1, " is ",
                        row.values[j],
                        " (only fg-convert reads such values, with --allow-nonfinite)"));
    }
  }
  record_ = number;
  return true;
}

// ---------------------------------------------------------------- in memory

void FeatureTable::add(std::string key, int label, const float* row_values) {
  keys.push_back(std::move(key));
  labels.push_back(label);
  values.insert(values.end(), row_values, row_values + dim);
}

const std::string& FeatureTable::label_name(std::size_t i) const {
  static const std::string none;
  return labels[i] < 0 ? none : classes[static_cast<std::size_t>(labels[i])];
}

int FeatureTable::class_index(const std::string& name) const {
  for (std::size_t i = 0; i < classes.size(); ++i)
    if (classes[i] == name) return static_cast<int>(i);
  return -1;
}

TableHeader FeatureTable::header() const {
  TableHeader header;
  header.dim = dim;
  header.classes = classes;
  header.rows = rows();
  header.provenance = provenance;
  return header;
}

FeatureTable read_table(const std::string& path, TableReadOptions options) {
  TableReader reader(path, options);
  FeatureTable table;
  table.dim = reader.header().dim;
  table.classes = reader.header().classes;
  table.provenance = reader.header().provenance;
  if (reader.rows_that_fit()) {
    auto rows = static_cast<std::size_t>(reader.rows_that_fit());
    table.keys.reserve(rows);
    table.labels.reserve(rows);
    table.values.reserve(rows * table.dim);
  }
  TableRow row;
  while (reader.next(row)) table.add(std::move(row.key), row.label, row.values.data());
  return table;
}

TableJoin::TableJoin(std::vector<std::string> classes, ProvenanceMatch same_provenance)
    : fixed_classes_(!classes.empty()), same_provenance_(std::move(same_provenance)) {
  joined_.classes = std::move(classes);
}

void TableJoin::add(const TableHeader& h, const std::string& name) {
  if (remaps_.empty()) {
    joined_.dim = h.dim;
    joined_.provenance = h.provenance;
  } else if (h.dim != joined_.dim) {
    throw Error(cat(name, ": dimension ", h.dim, ", expected ", joined_.dim,
                    " (as in the tables before it)"));
  } else if (same_provenance_ ? !same_provenance_(joined_.provenance, h.provenance)
                              : h.provenance != joined_.provenance) {
    throw Error(
        cat(name, ": made with other settings than the tables before it (provenance differs)"));
  }
  std::vector<int> remap(h.classes.size());
  for (std::size_t c = 0; c < h.classes.size(); ++c) {
    const auto it = std::find(joined_.classes.begin(), joined_.classes.end(), h.classes[c]);
    if (it == joined_.classes.end() && fixed_classes_)
      throw Error(cat(name, ": class '", h.classes[c], "' is not in the expected class list"));
    remap[c] = static_cast<int>(it - joined_.classes.begin());
    if (it == joined_.classes.end()) joined_.classes.push_back(h.classes[c]);
  }
  remaps_.push_back(std::move(remap));
}

void append_table(FeatureTable& table, const FeatureTable& more, const std::string& more_name) {
  if (table.dim == 0 && table.rows() == 0) {
    table = more;
    return;
  }
  TableJoin join;
  join.add(table.header(), "the tables before it");
  join.add(more.header(), more_name);
  table.classes = join.header().classes;
  for (std::size_t i = 0; i < more.rows(); ++i)
    table.add(more.keys[i], join.label(1, more.labels[i]), more.row(i));
}

void write_table(const std::string& path, const FeatureTable& table, bool allow_nonfinite) {
  TableWriter writer(path, table.header());
  writer.allow_nonfinite(allow_nonfinite);
  for (std::size_t i = 0; i < table.rows(); ++i)
    writer.write(table.keys[i], table.labels[i], table.row(i));
  writer.commit();
}

std::uint64_t join_tables(const std::vector<std::string>& inputs, const std::string& out_path,
                          const TableReadOptions& options, const std::vector<std::string>& classes,
                          const std::function<void()>& between_rows,
                          const ProvenanceMatch& same_provenance) {
  if (inputs.empty()) throw Error("no tables to join");
  // The headers first: the output's class list must be known before its header is written.
  std::vector<TableHeader> headers;
  for (const auto& path : inputs) headers.push_back(TableReader(path, options).header());
  TableJoin join(classes, same_provenance);
  for (std::size_t t = 0; t < inputs.size(); ++t) join.add(headers[t], inputs[t]);
  TableWriter writer(out_path, join.header());
  writer.allow_nonfinite(options.allow_nonfinite);
  TableRow row;
  for (std::size_t t = 0; t < inputs.size(); ++t) {
    TableReader reader(inputs[t], options);
    // The file may have been replaced since its header was read.
    if (reader.header().classes != headers[t].classes || reader.header().dim != headers[t].dim)
      throw Error(cat(inputs[t], ": changed while the tables were joined"));
    while (true) {
      if (between_rows) between_rows();
      if (!reader.next(row)) break;
      writer.write(row.key, join.label(t, row.label), row.values.data());
    }
  }
  writer.commit();
  return writer.rows_written();
}

}  // namespace fg
