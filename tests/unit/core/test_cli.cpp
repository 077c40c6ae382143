#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "finegrain/core/cli.hpp"

using namespace fg;

namespace {
// Parses one option the way fg-* programs do; returns the error text, or "".
template <class T>
std::string parse(po::typed_value<T>* semantic, const std::string& text, T& value) {
  po::options_description options;
  options.add_options()("opt", semantic->notifier([&](T v) { value = v; }), "");
  std::vector<std::string> argv_text = {"prog", "--opt", text};
  std::vector<const char*> argv;
  for (auto& a : argv_text) argv.push_back(a.c_str());
  try {
    po::variables_map vm;
    po::store(po::parse_command_line(int(argv.size()), argv.data(), options), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("cli: numeric options are checked against their range") {
  std::size_t count = 0;
  CHECK(parse(ranged<std::size_t>(1, 4096), "8", count) == "");
  CHECK(count == 8);
  CHECK(parse(ranged<std::size_t>(1, 4096), "4096", count) == "");
  CHECK(parse(ranged<std::size_t>(1, 4096), "0", count) ==
        "--opt: expected an integer in 1..4096, got '0'");
  CHECK(parse(ranged<std::size_t>(1, 4096), "4097", count) ==
        "--opt: expected an integer in 1..4096, got '4097'");
  // "-1" is not 2^64 - 1 for an unsigned option.
  CHECK(parse(ranged<std::size_t>(1, 4096), "-1", count) ==
        "--opt: expected an integer in 1..4096, got '-1'");
  std::uint64_t big = 0;
  CHECK(parse(ranged<std::uint64_t>(0, unbounded<std::uint64_t>()), "-5", big) ==
        "--opt: expected an integer >= 0, got '-5'");
  CHECK(parse(ranged<std::uint64_t>(0, unbounded<std::uint64_t>()), "18446744073709551615", big) ==
        "");
  CHECK(big == UINT64_MAX);
  int threads = 0;
  CHECK(parse(ranged<int>(0, cli::kMaxThreads), "70000", threads) ==
        "--opt: expected an integer in 0..1024, got '70000'");
  CHECK(parse(ranged<int>(-1, 100), "2.5", threads) ==
        "--opt: expected an integer in -1..100, got '2.5'");
  double x = 0;
  CHECK(parse(ranged<double>(0, unbounded<double>(), Ends::open_low), "inf", x) ==
        "--opt: expected a number > 0, got 'inf' (not a finite number)");
  CHECK(parse(ranged<double>(0, unbounded<double>(), Ends::open_low), "0", x) ==
        "--opt: expected a number > 0, got '0'");
  CHECK(parse(ranged<double>(0, 1, Ends::open_low), "nan", x) ==
        "--opt: expected a number in (0, 1], got 'nan' (not a finite number)");
  CHECK(parse(ranged<double>(0, 1, Ends::open_low), "1", x) == "");
  CHECK(x == 1.0);
  CHECK(parse(ranged<double>(0, 1, Ends::open), "1", x) ==
        "--opt: expected a number in (0, 1), got '1'");
  CHECK(parse(ranged<double>(0, 1, Ends::open), "1e-3", x) == "");
  CHECK(x == 0.001);
}
