#include "finegrain/data/convert.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"

namespace fs = std::filesystem;

namespace fg {

namespace {
std::string display(const std::string& path) { return path == "-" ? "<stdin>" : path; }

// Splits on runs of spaces/tabs.
std::vector<std::string> tokens_of(const std::string& line) {
  std::vector<std::string> tokens;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) tokens.push_back(line.substr(start, i - start));
  }
  return tokens;
}

void write_lines_file(const std::string& path, const std::vector<std::string>& lines) {
  AtomicOutput out(path, false);
  for (const auto& line : lines) out.stream() << line << '\n';
  out.commit();
}
}  // namespace

// ---------------------------------------------------------------- LIBSVM

void write_libsvm(const std::string& path, const FeatureTable& table) {
  write_in_format("libsvm", path, table);
}

namespace {
// A value read from text: NaN and Inf are refused unless allowed.
void check_text_value(float value, bool allow_nonfinite, const std::string& where) {
  if (!allow_nonfinite && !std::isfinite(value))
    throw Error(where + cat("value is ", value, " (fg-convert accepts it with --allow-nonfinite)"));
}
// The largest dimension a LIBSVM file sets by its indices alone: one
// stray index would otherwise size every row (give --dim to go further).
constexpr std::size_t kMaxInferredDim = std::size_t(1) << 20;
}  // namespace

FeatureTable read_libsvm(const std::string& path, std::size_t dim, TableReadOptions options) {
  std::string name = display(path);
  std::vector<std::string> lines = read_lines(path);
  struct Sparse {
    long long label;
    std::vector<std::pair<std::size_t, float>> entries;
  };
  std::vector<Sparse> rows;
  std::size_t max_index = 0;
  for (std::size_t n = 0; n < lines.size(); ++n) {
    auto tokens = tokens_of(lines[n]);
    if (tokens.empty()) continue;
    auto where = [&](const std::string& token) {
      return cat(name, ":", n + 1, ": '", shorten(token, 60), "': ");
    };
    Sparse row{};
    double label_value = 0;
    if (!parse_int(tokens[0], row.label)) {
      if (parse_double(tokens[0], label_value))
        throw Error(where(tokens[0]) + "labels must be integer class numbers");
      throw Error(where(tokens[0]) + "expected an integer label");
    }
    std::size_t previous = 0;
    for (std::size_t t = 1; t < tokens.size(); ++t) {
      const std::string& token = tokens[t];
      if (token[0] == '#') break;  // a trailing comment
      auto colon = token.find(':');
      long long index = 0;
      float value = 0;
      if (colon == std::string::npos) throw Error(where(token) + "expected index:value");
      if (!parse_int(token.substr(0, colon), index) || index < 1)
        throw Error(where(token) + "index must be an integer >= 1");
      if (static_cast<std::size_t>(index) <= previous)
        throw Error(where(token) + "indices must be ascending");
      if (!parse_float(token.substr(colon + 1), value))
        throw Error(where(token) + "value is not a number");
      check_text_value(value, options.allow_nonfinite, where(token));
      if (dim && static_cast<std::size_t>(index) > dim)
        throw Error(where(token) + cat("index beyond the dimension ", dim));
      if (!dim && static_cast<std::size_t>(index) > kMaxInferredDim)
        throw Error(where(token) + cat("index beyond ", kMaxInferredDim,
                                       " (give --dim if the data really has so many)"));
      previous = static_cast<std::size_t>(index);
      row.entries.emplace_back(previous - 1, value);
    }
    max_index = std::max(max_index, previous);
    rows.push_back(std::move(row));
  }
  if (rows.empty()) throw Error(cat(name, ": no rows"));
  FeatureTable table;
  table.dim = dim ? dim : max_index;
  if (table.dim == 0) throw Error(cat(name, ": no feature values in any row"));

  // Class names: from the .classes file, else the distinct labels in numeric order.
  std::map<long long, int> label_to_class;
  if (path != "-" && fs::exists(path + ".classes")) {
    table.classes = read_lines(path + ".classes");
    std::map<std::string, std::size_t> seen;
    for (std::size_t c = 0; c < table.classes.size(); ++c)
      if (!seen.emplace(table.classes[c], c).second)
        throw Error(cat(path, ".classes:", c + 1, ": class '", table.classes[c], "' repeats line ",
                        seen[table.classes[c]] + 1, " (labels would be ambiguous)"));
    for (std::size_t c = 0; c < table.classes.size(); ++c)
      label_to_class[static_cast<long long>(c)] = static_cast<int>(c);
  } else {
    std::set<long long> labels;
    for (const auto& row : rows)
      if (row.label >= 0) labels.insert(row.label);
    for (long long label : labels) {
      label_to_class[label] = static_cast<int>(table.classes.size());
      table.classes.push_back(std::to_string(label));
    }
  }
  std::vector<float> dense(table.dim);
  table.values.reserve(rows.size() * table.dim);
  std::size_t line_number = 0;
  for (const auto& row : rows) {
    ++line_number;
    int label = -1;
    if (row.label >= 0) {
      auto hit = label_to_class.find(row.label);
      if (hit == label_to_class.end())
        throw Error(cat(name, ": row ", line_number, ": label ", row.label, " has no name in ",
                        path, ".classes"));
      label = hit->second;
    }
    std::fill(dense.begin(), dense.end(), 0.0f);
    for (const auto& [index, value] : row.entries) dense[index] = value;
    table.add(cat(fs::path(name).filename().string(), ":", line_number), label, dense.data());
  }
  return table;
}

// ---------------------------------------------------------------- CSV

namespace {
std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted = "\"";
  for (char ch : text) {
    if (ch == '"') quoted += '"';
    quoted += ch;
  }
  return quoted + "\"";
}

// Splits one CSV line (RFC 4180 quoting; no newlines inside fields).
std::vector<std::string> csv_fields(const std::string& line, const std::string& where) {
  std::vector<std::string> fields;
  std::string field;
  bool quoted = false, was_quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char ch = line[i];
    if (quoted) {
      if (ch == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (ch == '"') {
        quoted = false;
      } else {
        field += ch;
      }
    } else if (ch == '"' && field.empty() && !was_quoted) {
      quoted = was_quoted = true;
    } else if (ch == ',') {
      fields.push_back(std::move(field));
      field.clear();
      was_quoted = false;
    } else {
      field += ch;
    }
  }
  if (quoted) throw Error(where + "unterminated quoted field");
  fields.push_back(std::move(field));
  return fields;
}
}  // namespace

void write_csv(const std::string& path, const FeatureTable& table) {
  write_in_format("csv", path, table);
}

FeatureTable read_csv(const std::string& path, TableReadOptions options) {
  std::string name = display(path);
  std::vector<std::string> lines = read_lines(path);
  if (lines.empty()) throw Error(cat(name, ": empty file"));
  auto header = csv_fields(lines[0], cat(name, ":1: "));
  if (header.size() < 3 || header[0] != "key" || header[1] != "label")
    throw Error(
        cat(name, ":1: expected a header 'key,label,f1,...' (as fg-convert --to csv writes)"));
  FeatureTable table;
  table.dim = header.size() - 2;
  std::map<std::string, int> class_of;
  std::vector<std::pair<std::string, std::string>> named;  // key, label per row
  std::vector<float> values;
  for (std::size_t n = 1; n < lines.size(); ++n) {
    if (lines[n].empty()) continue;
    std::string where = cat(name, ":", n + 1, ": ");
    auto fields = csv_fields(lines[n], where);
    if (fields.size() != header.size())
      throw Error(cat(where, fields.size(), " fields, expected ", header.size()));
    for (std::size_t j = 2; j < fields.size(); ++j) {
      float value = 0;
      if (!parse_float(fields[j], value))
        throw Error(cat(where, "'", fields[j], "': column ", header[j], " is not a number"));
      check_text_value(value, options.allow_nonfinite, cat(where, "column ", header[j], ": "));
      values.push_back(value);
    }
    if (!fields[1].empty()) class_of[fields[1]] = 0;
    named.emplace_back(fields[0], fields[1]);
  }
  if (named.empty()) throw Error(cat(name, ": no rows"));
  for (auto& [label, index] : class_of) {
    index = static_cast<int>(table.classes.size());
    table.classes.push_back(label);
  }
  for (std::size_t i = 0; i < named.size(); ++i) {
    int label = named[i].second.empty() ? -1 : class_of[named[i].second];
    table.add(named[i].first, label, values.data() + i * table.dim);
  }
  return table;
}

// ---------------------------------------------------------------- NumPy

namespace {
void write_npy_header(std::ostream& out, const char* descr, const std::string& shape) {
  std::string dict =
      cat("{'descr': '", descr, "', 'fortran_order': False, 'shape': ", shape, ", }");
  // Magic (6) + version (2) + length (2) + dict, padded with spaces to a multiple of 64, ending
  // '\n'.
  std::size_t total = 10 + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict += '\n';
  out.write("\x93NUMPY\x01\x00", 8);
  auto length = static_cast<std::uint16_t>(dict.size());
  out.write(reinterpret_cast<const char*>(&length), 2);
  out << dict;
}
}  // namespace

void write_npy(const std::string& path, const FeatureTable& table) {
  write_in_format("npy", path, table);
}

NpyArray read_npy(const std::string& path) {
  Input in(path);
  char magic[10] = {};
  in.stream().read(magic, 10);
  if (in.stream().gcount() != 10 || std::memcmp(magic, "\x93NUMPY", 6) != 0)
    throw Error(cat(in.name(), ": not a NumPy .npy file"));
  std::size_t header_length = 0;
  if (magic[6] == 1) {
    header_length =
        static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8);
  } else {
    char more[2];
    in.stream().read(more, 2);
    header_length =
        static_cast<unsigned char>(magic[8]) | (static_cast<unsigned char>(magic[9]) << 8) |
        (static_cast<unsigned char>(more[0]) << 16) | (static_cast<unsigned char>(more[1]) << 24);
  }
  std::string header(header_length, '\0');
  in.stream().read(header.data(), static_cast<std::streamsize>(header_length));
  if (header.find("'descr': '<f4'") == std::string::npos)
    throw Error(cat(in.name(), ": only little-endian float32 arrays are read, header: ", header));
  if (header.find("'fortran_order': False") == std::string::npos)
    throw Error(cat(in.name(), ": Fortran-order arrays are not read"));
  NpyArray array;
  auto open = header.find('(', header.find("'shape'"));
  auto close = header.find(')', open);
  std::size_t count = 1;
  for (std::string part : split_list(header.substr(open + 1, close - open - 1))) {
    long long extent = 0;
    if (!parse_int(part, extent) || extent < 0)
      throw Error(cat(in.name(), ": bad shape in header: ", header));
    array.shape.push_back(static_cast<std::size_t>(extent));
    count *= static_cast<std::size_t>(extent);
  }
  array.data.resize(count);
  in.stream().read(reinterpret_cast<char*>(array.data.data()),
                   static_cast<std::streamsize>(count * 4));
  if (static_cast<std::size_t>(in.stream().gcount()) != count * 4)
    throw Error(cat(in.name(), ": truncated data"));
  return array;
}

// ---------------------------------------------------------------- text

void write_text(const std::string& path, const FeatureTable& table) {
  write_in_format("text", path, table);
}

// ---------------------------------------------------------------- row by row

namespace {

// One output format written record by record (the whole-table writers above
// and convert_tables share them, so both give the same bytes).
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void write(const std::string& key, int label, const float* row) = 0;
  virtual void commit() = 0;
};

class FgtSink : public RowSink {
 public:
  FgtSink(const std::string& path, const TableHeader& header, bool allow_nonfinite)
      : writer_(path, header) {
    writer_.allow_nonfinite(allow_nonfinite);
  }
  void write(const std::string& key, int label, const float* row) override {
    writer_.write(key, label, row);
  }
  void commit() override { writer_.commit(); }

 private:
  TableWriter writer_;
};

class LibsvmSink : public RowSink {
 public:
  LibsvmSink(const std::string& path, const TableHeader& header)
      : path_(path), header_(header), out_(path, false) {}
  void write(const std::string&, int label, const float* row) override {
    line_ = std::to_string(label);
    for (std::size_t j = 0; j < header_.dim; ++j) {
      // Zeros are omitted, but not -0 (its sign bit would be lost).
      if (row[j] == 0.0f && !std::signbit(row[j]) && j + 1 < header_.dim) continue;
      line_ += ' ';
      line_ += std::to_string(j + 1);
      line_ += ':';
      line_ += format_float(row[j]);
    }
    line_ += '\n';
    out_.stream() << line_;
  }
  void commit() override {
    // The class list goes beside a file; with stdout or a pipe it is lost, so say so.
    if (out_.is_file()) {
      write_lines_file(path_ + ".classes", header_.classes);
    } else if (!header_.classes.empty()) {
      log::warn(cat("LIBSVM text on ", out_.is_stdout() ? "stdout" : path_,
                    ": the class names (labels 0..k-1) are not written anywhere"));
    }
    out_.commit();
  }

 private:
  std::string path_;
  TableHeader header_;
  AtomicOutput out_;
  std::string line_;
};

class CsvSink : public RowSink {
 public:
  CsvSink(const std::string& path, const TableHeader& header) : header_(header), out_(path, false) {
    line_ = "key,label";
    for (std::size_t j = 0; j < header_.dim; ++j) line_ += ",f" + std::to_string(j + 1);
    out_.stream() << line_ << '\n';
  }
  void write(const std::string& key, int label, const float* row) override {
    line_ = csv_field(key) + "," +
            csv_field(label >= 0 ? header_.classes[std::size_t(label)] : std::string());
    for (std::size_t j = 0; j < header_.dim; ++j) {
      line_ += ',';
      line_ += format_float(row[j]);
    }
    out_.stream() << line_ << '\n';
  }
  void commit() override { out_.commit(); }

 private:
  TableHeader header_;
  AtomicOutput out_;
  std::string line_;
};

class TextSink : public RowSink {
 public:
  TextSink(const std::string& path, const TableHeader& header)
      : header_(header), out_(path, false) {
    out_.stream() << "# finegrain feature table: " << header_.rows.value_or(0)
                  << " rows, dimension " << header_.dim << ", " << header_.classes.size()
                  << " classes\n";
  }
  void write(const std::string& key, int label, const float* row) override {
    out_.stream() << key << '\t'
                  << (label >= 0 ? header_.classes[std::size_t(label)] : std::string()) << '\t';
    for (std::size_t j = 0; j < header_.dim; ++j)
      out_.stream() << (j ? " " : "") << format_float(row[j]);
    out_.stream() << '\n';
  }
  void commit() override { out_.commit(); }

 private:
  TableHeader header_;
  AtomicOutput out_;
};

class NpySink : public RowSink {
 public:
  NpySink(const std::string& path, const TableHeader& header)
      : header_(header), stem_(npy_stem(path)), matrix_(path), labels_(stem_ + ".labels.npy") {
    const std::uint64_t rows = header_.rows.value_or(0);
    write_npy_header(matrix_.stream(), "<f4", cat("(", rows, ", ", header_.dim, ")"));
    write_npy_header(labels_.stream(), "<i4", cat("(", rows, ",)"));
  }
  void write(const std::string& key, int label, const float* row) override {
    matrix_.stream().write(reinterpret_cast<const char*>(row),
                           static_cast<std::streamsize>(header_.dim * sizeof(float)));
    const auto value = static_cast<std::int32_t>(label);
    labels_.stream().write(reinterpret_cast<const char*>(&value), 4);
    keys_.push_back(key);
  }
  void commit() override {
    if (keys_.size() != header_.rows.value_or(0))
      throw Error(cat(matrix_.path(), ": wrote ", keys_.size(), " rows, but the header announced ",
                      header_.rows.value_or(0)));
    write_lines_file(stem_ + ".classes.txt", header_.classes);
    write_lines_file(stem_ + ".keys.txt", keys_);
    labels_.commit();
    matrix_.commit();
  }

 private:
  static std::string npy_stem(const std::string& path) {
    if (path == "-") throw UsageError("--to npy writes several files; give a file path, not '-'");
    return path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0
               ? path.substr(0, path.size() - 4)
               : path;
  }
  TableHeader header_;
  std::string stem_;
  AtomicOutput matrix_, labels_;
  std::vector<std::string> keys_;
};

std::unique_ptr<RowSink> make_sink(const std::string& format, const std::string& path,
                                   const TableHeader& header, bool allow_nonfinite = false) {
  if (format == "fgt") return std::make_unique<FgtSink>(path, header, allow_nonfinite);
  if (format == "libsvm") return std::make_unique<LibsvmSink>(path, header);
  if (format == "csv") return std::make_unique<CsvSink>(path, header);
  if (format == "npy") return std::make_unique<NpySink>(path, header);
  if (format == "text") return std::make_unique<TextSink>(path, header);
  throw UsageError(
      cat("unknown output format '", format, "' (expected fgt, libsvm, csv, npy or text)"));
}

}  // namespace

void write_in_format(const std::string& format, const std::string& path, const FeatureTable& table,
                     bool allow_nonfinite) {
  TableHeader header = table.header();
  header.rows = table.rows();
  const auto sink = make_sink(format, path, header, allow_nonfinite);
  for (std::size_t i = 0; i < table.rows(); ++i)
    sink->write(table.keys[i], table.labels[i], table.row(i));
  sink->commit();
}

TableHeader convert_tables(const std::vector<std::string>& inputs, const std::string& out,
                           const std::string& format, TableReadOptions options,
                           const ProvenanceMatch& same_provenance) {
  if (inputs.empty()) throw UsageError("no input tables");
  // All headers first: the joined class list, dimension, provenance and row
  // count are known before the first record is written.
  std::vector<std::unique_ptr<TableReader>> readers;
  TableJoin join({}, same_provenance);
  bool rows_known = true;
  std::uint64_t rows = 0;
  for (const auto& path : inputs) {
    readers.push_back(std::make_unique<TableReader>(path, options));
    const TableHeader& h = readers.back()->header();
    join.add(h, readers.back()->name());
    if (h.rows)
      rows += *h.rows;
    else
      rows_known = false;
  }
  TableHeader joined = join.header();
  if (rows_known)
    joined.rows = rows;
  else if (format == "npy" || format == "text")
    throw Error(cat(readers.front()->name(),
                    ": the row count is not in the table's header (a stream?); ", format,
                    " output needs it: write the table to a file first"));
  const auto sink = make_sink(format, out, joined, options.allow_nonfinite);
  TableRow row;
  std::uint64_t written = 0;
  for (std::size_t t = 0; t < readers.size(); ++t) {
    while (readers[t]->next(row)) {
      sink->write(row.key, join.label(t, row.label), row.values.data());
      ++written;
    }
  }
  if (rows_known && written != rows)
    throw Error(cat(readers.front()->name(), ": the headers announced ", rows,
                    " rows, the tables hold ", written));
  sink->commit();
  joined.rows = written;
  return joined;
}

void ConvertOptions::add_options(po::options_description& options) {
  const ConvertOptions d;
  // clang-format off
  options.add_options()
    ("from", po::value<std::string>()->default_value(d.input_format), "input format: fgt|libsvm|csv")
    ("to", po::value<std::string>()->default_value(d.output_format),
     "output format: fgt|libsvm|csv|npy|text")
    ("dim", defaults_to(ranged<std::size_t>(0, 100000000), d.dim),
     "with --from libsvm: the dimension (0 = the largest index seen)")
    ("allow-nonfinite", "accept NaN/Inf values in the input (.fgt, libsvm or csv) and pass them on");
  // clang-format on
}

ConvertOptions ConvertOptions::from(const po::variables_map& vm) {
  ConvertOptions o;
  o.input_format = vm["from"].as<std::string>();
  o.output_format = vm["to"].as<std::string>();
  o.dim = vm["dim"].as<std::size_t>();
  o.allow_nonfinite = vm.count("allow-nonfinite") > 0;
  const std::string& in = o.input_format;
  const std::string& out = o.output_format;
  if (in != "fgt" && in != "libsvm" && in != "csv")
    throw UsageError(cat("--from must be fgt, libsvm or csv, got '", in, "'"));
  if (out != "fgt" && out != "libsvm" && out != "csv" && out != "npy" && out != "text")
    throw UsageError(cat("--to must be fgt, libsvm, csv, npy or text, got '", out, "'"));
  return o;
}

TableHeader convert_files(const std::vector<std::string>& inputs, const std::string& out,
                          const ConvertOptions& options, const ProvenanceMatch& same_provenance) {
  const std::string& from = options.input_format;
  const std::string& to = options.output_format;
  if (inputs.size() > 1 && from != "fgt") throw UsageError("only .fgt inputs can be joined");
  TableReadOptions read_options;
  read_options.allow_nonfinite = options.allow_nonfinite;
  const bool from_stdin = std::find(inputs.begin(), inputs.end(), "-") != inputs.end();
  if (from == "fgt" && !(from_stdin && (to == "npy" || to == "text")))
    return convert_tables(inputs, out, to, read_options, same_provenance);
  FeatureTable table;
  if (from == "fgt")
    for (const auto& path : inputs) append_table(table, read_table(path, read_options), path);
  else
    table = from == "libsvm" ? read_libsvm(inputs.at(0), options.dim, read_options)
                             : read_csv(inputs.at(0), read_options);
  write_in_format(to, out, table, options.allow_nonfinite);
  TableHeader written = table.header();
  written.rows = table.rows();
  return written;
}

std::string convert_summary(const TableHeader& written, const ConvertOptions& options) {
  return cat("Done ", written.rows.value_or(0), " rows of dimension ", written.dim, ", ",
             written.classes.size(), " classes (", options.input_format, " -> ",
             options.output_format, ")");
}

}  // namespace fg
