// Numeric command-line options with a documented, checked range (Boost
// program_options value semantics; the library's option registrations use
// them as well as the programs').
#pragma once

#include <boost/program_options.hpp>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

namespace fg {

namespace po = boost::program_options;

// A numeric option with a documented range: every numeric option of every
// program is declared with one of these, so each gets the same checks. The
// text must be a whole number of the option's type (for reals: finite, no
// "inf"/"nan"; for unsigned types: no minus sign, so "-1" is not 2^64 - 1)
// inside the range, else the parse fails with a usage error (exit 2):
//   fg-extract: error: --batch: expected an integer in 1..4096, got '0'
// The range also shows in --help, in place of "arg".
enum class Ends { closed, open_low, open_high, open };  // which ends of [min, max] are excluded

struct NumberRange {
  long double min, max;
  Ends ends;
  bool integer;
  bool contains(long double value) const;
  std::string text() const;  // "1..4096", "(0, 1]", "> 0", "an integer >= 0"
};

// Parses one token as a number of the range's kind; false if it is not one.
bool parse_number_token(const std::string& token, bool integer, bool is_unsigned,
                        long double& value);
[[noreturn]] void throw_out_of_range(const std::string& token, const NumberRange& range,
                                     bool not_a_number);

template <class T>
class RangedValue : public po::typed_value<T> {
 public:
  RangedValue(T* store, T min, T max, Ends ends)
      : po::typed_value<T>(store),
        range_{static_cast<long double>(min), static_cast<long double>(max), ends,
               std::is_integral_v<T>} {
    this->value_name(range_.text());
  }
  void xparse(boost::any& value_store, const std::vector<std::string>& tokens) const override {
    const std::string token = tokens.empty() ? std::string() : tokens.back();
    long double value = 0;
    if (!parse_number_token(token, std::is_integral_v<T>, std::is_unsigned_v<T>, value))
      throw_out_of_range(token, range_, true);
    if (!range_.contains(value)) throw_out_of_range(token, range_, false);
    value_store = static_cast<T>(value);
  }

 private:
  NumberRange range_;
};

// ranged<int>(1, 4096): an integer in 1..4096; ranged<double>(0, 1, Ends::open_low): (0, 1].
template <class T>
RangedValue<T>* ranged(T min, T max, Ends ends = Ends::closed, T* store = nullptr) {
  static_assert(std::is_arithmetic_v<T>, "a numeric option");
  return new RangedValue<T>(store, min, max, ends);
}
template <class T>
RangedValue<T>* ranged_into(T* store, T min, T max, Ends ends = Ends::closed) {
  return ranged<T>(min, max, ends, store);
}
// The largest finite value of T, for ranges open above ("> 0").
template <class T>
constexpr T unbounded() {
  return std::numeric_limits<T>::max();
}

// The text --help shows for a default: numbers as the shortest text that
// reads back as the same value (0.6, not Boost's 0.59999999999999998).
std::string default_text(double value);
std::string default_text(const std::vector<double>& values);  // "0.01,0.1,1"

// `option` defaulting to `value` (shown as default_text(value) for reals):
// option structs take their help defaults from their own default members
// this way (the options pattern, core/cli.hpp).
template <class T>
po::typed_value<T>* defaults_to(po::typed_value<T>* option, const T& value) {
  if constexpr (std::is_floating_point_v<T>)
    return option->default_value(value, default_text(value));
  else
    return option->default_value(value);
}

}  // namespace fg
