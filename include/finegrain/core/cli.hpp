// The shape every fg-* program shares: usage text, options, exit status.
#pragma once

#include <boost/program_options.hpp>
#include <functional>
#include <string>
#include <vector>

#include "finegrain/core/option_range.hpp"

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

// `--threads N` (0 = all cores, at most kMaxThreads): registers the option, and applies it to
// OpenMP and OpenCV.
// kMaxThreads bounds it: more threads than that only add overhead on any
// machine this runs on (the largest x86 servers have 512 hardware threads),
// and above 65,536 OpenCV's TBB pool crashes at exit.
inline constexpr int kMaxThreads = 1024;
void add_threads_option(po::options_description& options);
void apply_threads(const po::variables_map& vm);

// ---- option groups ----------------------------------------------------------
//
// One pattern for every group of options, in the library and in programs: a
// struct whose members hold the settings, initialised to their defaults, with
//
//   struct XOptions {
//     double c = 15;
//     static void add_options(po::options_description& options);  // registers --c, ...
//     static XOptions from(const po::variables_map& vm);          // reads and checks them
//   };
//
// add_options takes every default it shows in --help from a default-made
// struct (`const XOptions d; ... defaults_to(ranged<double>(0, 1e9), d.c)`;
// defaults_to and ranged are in core/option_range.hpp, which the library's
// option structs use without depending on this CLI layer), never from a literal, so the help cannot
// drift from the code; from() starts from the same defaults and throws UsageError for bad or
// inconsistent values. A group that only some sub-commands take is refused by the others with
// reject_options().

// The long names of a group's options (taken before other groups are added to it).
std::vector<std::string> option_names(const po::options_description& group);
// UsageError "--<name> <why>" for the first of `names` given on the command
// line (defaults do not count).
void reject_options(const po::variables_map& vm, const std::vector<std::string>& names,
                    const std::string& why);

}  // namespace fg::cli
