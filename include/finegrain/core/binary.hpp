// Binary files: little-endian numbers, length-prefixed strings and arrays.
//
// The one reader and writer of the binary formats (feature tables, PCA and
// classifier models). The reader never sizes memory by a count it has not
// checked: a count of items must fit in the bytes left in the file (known
// when the input is seekable), and from a pipe arrays are read in pieces,
// so a damaged header ends in "truncated", not in a huge allocation.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

namespace fg {

static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float32/float64 expected");
// The formats are little-endian; so are the machines we build for (x86-64, arm64).
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "little-endian host expected");

class BinaryWriter {
 public:
  explicit BinaryWriter(std::ostream& out) : out_(out) {}
  template <class T>
  void pod(const T& value) {
    bytes(&value, sizeof value);
  }
  void u8(std::uint8_t v) { pod(v); }
  void u32(std::uint32_t v) { pod(v); }
  void i32(std::int32_t v) { pod(v); }
  void u64(std::uint64_t v) { pod(v); }
  void f64(double v) { pod(v); }
  void bytes(const void* data, std::size_t n);
  // u32 length, then the bytes.
  void str(const std::string& text);
  void f64s(const double* values, std::size_t n) { bytes(values, n * sizeof(double)); }
  // u64 count, then the values.
  void vec(const std::vector<double>& values);
  std::ostream& stream() { return out_; }

 private:
  std::ostream& out_;
};

class BinaryReader {
 public:
  // `name` (the file) opens every message; `kind` ("classifier model")
  // says what was expected: "<name>: truncated <kind>".
  BinaryReader(std::istream& in, std::string name, std::string kind);
  // While set, a short read says "<name>: <context>: truncated" (e.g. "record 5").
  void set_context(std::string context) { context_ = std::move(context); }

  // Bytes left before the end of the input, when it is seekable.
  std::optional<std::uint64_t> remaining() const;
  std::uint64_t offset() const { return offset_; }
  const std::string& name() const { return name_; }

  void bytes(void* data, std::size_t n);  // exactly n bytes, or "truncated"
  template <class T>
  T pod() {
    T value;
    bytes(&value, sizeof value);
    return value;
  }
  std::uint8_t u8() { return pod<std::uint8_t>(); }
  std::uint32_t u32() { return pod<std::uint32_t>(); }
  std::int32_t i32() { return pod<std::int32_t>(); }
  std::uint64_t u64() { return pod<std::uint64_t>(); }
  double f64() { return pod<double>(); }
  // Checks that `n` items, each at least `item_bytes` long in the file, can
  // follow: n <= limit, and they fit in the bytes left. Returns n.
  std::uint64_t check_count(std::uint64_t n, std::uint64_t limit, std::uint64_t item_bytes,
                            const std::string& what);
  // A u32 length (at most max_length), then the bytes.
  std::string str(std::uint32_t max_length = 1u << 20, const std::string& what = "string");
  // n values into `out` (resized), read in pieces when the size is unknown.
  void f64s(std::vector<double>& out, std::uint64_t n, const std::string& what);
  void f32s(std::vector<float>& out, std::uint64_t n, const std::string& what);
  // A u64 count (at most limit), then the values.
  std::vector<double> vec(std::uint64_t limit, const std::string& what);
  // The next byte without taking it, or -1 at the end.
  int peek();
  bool at_end() { return peek() < 0; }

  // Error("<name>: <what>").
  [[noreturn]] void fail(const std::string& what) const;

 private:
  template <class T>
  void array(std::vector<T>& out, std::uint64_t n, const std::string& what);

  std::istream& in_;
  std::string name_, kind_, context_;
  std::uint64_t offset_ = 0;
  std::optional<std::uint64_t> size_;  // of the whole input, when seekable
};

}  // namespace fg
