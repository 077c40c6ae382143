#include "finegrain/core/option_range.hpp"

#include <charconv>
#include <cmath>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"

namespace fg {

bool NumberRange::contains(long double value) const {
  const bool low_ok = ends == Ends::open_low || ends == Ends::open ? value > min : value >= min;
  const bool high_ok = ends == Ends::open_high || ends == Ends::open ? value < max : value <= max;
  return low_ok && high_ok;
}

namespace {
std::string number_text(long double value, bool integer) {
  if (integer) return cat(static_cast<long long>(value));
  return format_double(static_cast<double>(value));
}
// The largest value of the widest type an option can have: "no upper bound".
bool is_unbounded(long double max) {
  return max >= static_cast<long double>(std::numeric_limits<float>::max()) ||
         max >= static_cast<long double>(std::numeric_limits<int>::max());
}
}  // namespace

std::string NumberRange::text() const {
  const bool low_open = ends == Ends::open_low || ends == Ends::open;
  const bool high_open = ends == Ends::open_high || ends == Ends::open;
  const std::string lo = number_text(min, integer), hi = number_text(max, integer);
  if (is_unbounded(max)) return cat(integer ? "N" : "X", low_open ? " > " : " >= ", lo);
  if (integer) return cat(lo, "..", hi);
  return cat(low_open ? "(" : "[", lo, ", ", hi, high_open ? ")" : "]");
}

bool parse_number_token(const std::string& token, bool integer, bool is_unsigned,
                        long double& value) {
  if (token.empty()) return false;
  if (integer) {
    if (is_unsigned) {
      const char* begin = token.data() + (token[0] == '+' ? 1 : 0);
      unsigned long long v = 0;
      auto [end, error] = std::from_chars(begin, token.data() + token.size(), v);
      if (error != std::errc() || end != token.data() + token.size()) return false;
      value = static_cast<long double>(v);
      return true;
    }
    long long v = 0;
    if (!parse_int(token, v)) return false;
    value = static_cast<long double>(v);
    return true;
  }
  double v = 0;
  if (!parse_double(token, v) || !std::isfinite(v)) return false;
  value = v;
  return true;
}

void throw_out_of_range(const std::string& token, const NumberRange& range, bool not_a_number) {
  const std::string kind = range.integer ? "an integer" : "a number";
  const std::string what = is_unbounded(range.max) ? cat(kind, " ", range.text().substr(2))
                                                   : cat(kind, " in ", range.text());
  po::error_with_option_name e(cat("%canonical_option%: expected ", what, ", got '", token, "'",
                                   not_a_number && !range.integer ? " (not a finite number)" : ""));
  throw e;
}

std::string default_text(double value) { return format_double(value); }

std::string default_text(const std::vector<double>& values) {
  std::string text;
  for (double v : values) text += (text.empty() ? "" : ",") + format_double(v);
  return text;
}

}  // namespace fg
