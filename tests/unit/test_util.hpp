// Small helpers shared by the unit tests.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <Eigen/Dense>
#include "finegrain/core/cpu.hpp"

#include "finegrain/core/option_range.hpp"
#include "finegrain/data/table.hpp"

// A fresh directory removed with everything in it at the end of the test.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "fg-test-XXXXXX").string();
    path = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// rows x dim values from a seeded normal distribution (including exact zeros
// and tiny/huge magnitudes), labels cycling over `classes` classes.
inline fg::FeatureTable random_table(std::size_t rows, std::size_t dim, int classes,
                                     unsigned seed) {
  fg::FeatureTable table;
  table.dim = dim;
  for (int c = 0; c < classes; ++c) table.classes.push_back("class " + std::to_string(c));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::vector<float> row(dim);
  for (std::size_t i = 0; i < rows; ++i) {
    for (std::size_t j = 0; j < dim; ++j) {
      float value = normal(rng);
      if (j % 7 == 3) value = 0.0f;
      if (j % 11 == 5) value *= 1e-30f;
      if (j % 13 == 6) value *= 1e30f;
      row[j] = value;
    }
    table.add("key" + std::to_string(i), static_cast<int>(i % static_cast<std::size_t>(classes)),
              row.data());
  }
  return table;
}

// An option group of the options pattern (core/cli.hpp) read from the words of
// a command line the way the programs read them: add_options, parse, from.
template <class Options>
Options parse_option_group(std::vector<const char*> words) {
  fg::po::options_description description;
  Options::add_options(description);
  words.insert(words.begin(), "fg-test");
  fg::po::variables_map vm;
  fg::po::store(fg::po::parse_command_line(int(words.size()), words.data(), description), vm);
  fg::po::notify(vm);
  return Options::from(vm);
}

// The asset location the tests read in place.
std::string test_assets();
// A file of this checkout, by its path from the source root.
std::string source_file(const std::string& relative);

// A model spec shipped in data/models/, by name.
std::string spec_file(const std::string& name);

// The fixture image: flowers12/test/sunflower, first file in sorted order.
inline std::string fixture_image() {
  std::vector<std::string> files;
  for (const auto& e :
       std::filesystem::directory_iterator(test_assets() + "/data/flowers12/test/sunflower"))
    files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  return files.front();
}

// Runs body once per kernel ISA level the CPU has (fg::set_kernel_isa), the
// level current before restored at the end, also when body throws.
template <class Body>
void for_each_isa(Body body) {
  struct Restore {
    fg::Isa saved = fg::kernel_isa();
    ~Restore() { fg::set_kernel_isa(saved); }
  } restore;
  for (fg::Isa isa : fg::available_isas()) {
    fg::set_kernel_isa(isa);
    body(isa);
  }
}

// An n x d matrix of standard normal draws, reproducible per seed.
inline Eigen::MatrixXd normal_matrix(int n, int d, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Eigen::MatrixXd Z(n, d);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j) Z(i, j) = normal(rng);
  return Z;
}
