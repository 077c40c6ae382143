#include "finegrain/core/binary.hpp"

#include <algorithm>
#include <istream>
#include <ostream>

#include "finegrain/core/common.hpp"

namespace fg {

void BinaryWriter::bytes(const void* data, std::size_t n) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
}

void BinaryWriter::str(const std::string& text) {
  u32(static_cast<std::uint32_t>(text.size()));
  bytes(text.data(), text.size());
}

void BinaryWriter::vec(const std::vector<double>& values) {
  u64(values.size());
  f64s(values.data(), values.size());
}

BinaryReader::BinaryReader(std::istream& in, std::string name, std::string kind)
    : in_(in), name_(std::move(name)), kind_(std::move(kind)) {
  // The size of a seekable input bounds every count in it; pipes have none.
  const std::streampos start = in_.tellg();
  if (start == std::streampos(-1)) {
    in_.clear();
    return;
  }
  in_.seekg(0, std::ios::end);
  const std::streampos end = in_.tellg();
  if (in_ && end != std::streampos(-1) && end >= start)
    size_ = static_cast<std::uint64_t>(end - start);
  in_.clear();
  in_.seekg(start);
  if (!in_) {
    in_.clear();
    size_.reset();
  }
}

std::optional<std::uint64_t> BinaryReader::remaining() const {
  if (!size_) return std::nullopt;
  return *size_ > offset_ ? *size_ - offset_ : 0;
}

void BinaryReader::fail(const std::string& what) const { throw Error(cat(name_, ": ", what)); }

void BinaryReader::bytes(void* data, std::size_t n) {
  in_.read(static_cast<char*>(data), static_cast<std::streamsize>(n));
  const auto got = static_cast<std::size_t>(in_.gcount());
  offset_ += got;
  if (got != n) fail(context_.empty() ? cat("truncated ", kind_) : cat(context_, ": truncated"));
}

std::uint64_t BinaryReader::check_count(std::uint64_t n, std::uint64_t limit,
                                        std::uint64_t item_bytes, const std::string& what) {
  if (n > limit) fail(cat("damaged ", kind_, ": implausible ", what, " count ", n));
  const auto left = remaining();
  if (left && item_bytes > 0 && n > *left / item_bytes) {
    const std::string why = cat(what, " count ", n, " needs at least ", n * item_bytes,
                                " bytes, the file has ", *left, " left");
    if (context_.empty()) fail(cat("truncated or damaged ", kind_, ": ", why));
    // In a context ("record 5"), the same words as a short read there.
    fail(context_.rfind("truncated", 0) == 0 ? cat(context_, " (", why, ")")
                                             : cat(context_, ": truncated (", why, ")"));
  }
  return n;
}

std::string BinaryReader::str(std::uint32_t max_length, const std::string& what) {
  const std::uint32_t n = u32();
  check_count(n, max_length, 1, cat(what, " byte"));
  std::string text(n, '\0');
  bytes(text.data(), n);
  return text;
}

template <class T>
void BinaryReader::array(std::vector<T>& out, std::uint64_t n, const std::string& what) {
  check_count(n, SIZE_MAX / sizeof(T), sizeof(T), what);
  if (remaining()) {
    out.resize(static_cast<std::size_t>(n));
    bytes(out.data(), out.size() * sizeof(T));
    return;
  }
  // Unknown size: grow piece by piece, so a false count fails at the end of
  // the data with the memory the data really needed.
  constexpr std::uint64_t kPiece = (1u << 20) / sizeof(T);
  out.clear();
  for (std::uint64_t done = 0; done < n;) {
    const std::uint64_t piece = std::min(kPiece, n - done);
    out.resize(static_cast<std::size_t>(done + piece));
    bytes(out.data() + done, static_cast<std::size_t>(piece) * sizeof(T));
    done += piece;
  }
}

void BinaryReader::f64s(std::vector<double>& out, std::uint64_t n, const std::string& what) {
  array(out, n, what);
}

void BinaryReader::f32s(std::vector<float>& out, std::uint64_t n, const std::string& what) {
  array(out, n, what);
}

std::vector<double> BinaryReader::vec(std::uint64_t limit, const std::string& what) {
  const std::uint64_t n = check_count(u64(), limit, sizeof(double), what);
  std::vector<double> values;
  f64s(values, n, what);
  return values;
}

int BinaryReader::peek() {
  const int c = in_.peek();
  if (c == std::char_traits<char>::eof()) {
    in_.clear(in_.rdstate() & ~std::ios::failbit);
    return -1;
  }
  return c;
}

}  // namespace fg
