// The shape every fg-* program shares: usage text, options, exit status.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <vector>

namespace fg::cli {

namespace po = boost::program_options;

struct Usage {
  std::string name;      // fg-list
  std::string purpose;   // one line
  std::string usage;     // "fg-list [options] <image-root> <manifest-out>"
  std::string example;   // a line that can be pasted
  std::string see_also;  // neighbouring stages
  std::string details;   // optional extra paragraphs (formats, notes)
};

using Body = std::function<int(const po::variables_map& vm, const std::vector<std::string>& args)>;

// Parses `options` plus the common ones (--help, --version, -q, -v), collects
// positional arguments, and runs `body`. Catches every exception: UsageError
// exits 2 with the usage hint, any other error prints one line and exits 1.
int run(int argc, char** argv, const Usage& usage, const po::options_description& options,
        const Body& body);

// Throws UsageError unless min <= args.size() <= max.
void require_args(const std::vector<std::string>& args, std::size_t min, std::size_t max);

// `--threads N` (0 = all cores): registers the option, and applies it to
// OpenMP and OpenCV.
void add_threads_option(po::options_description& options);
void apply_threads(const po::variables_map& vm);

}  // namespace fg::cli
