#include "finegrain/core/cli.hpp"

#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <iostream>
#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/core/cpu.hpp"
#include "finegrain/core/io.hpp"

namespace fg::cli {

namespace {

const char* build_baseline() {
#if defined(__AVX512F__)
  return "AVX-512 (-march=native or similar)";
#elif defined(__AVX2__) && defined(__FMA__)
  return "x86-64-v3: AVX2 + FMA";
#else
  return "x86-64";
#endif
}

// A build whose baseline the CPU lacks would die of SIGILL somewhere; say so
// instead. Best effort: compiled for plain x86-64 so that this check itself runs.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64")))
#endif
void check_cpu_baseline() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  bool ok = true;
#if defined(__AVX2__) && defined(__FMA__)
  ok = ok && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
#if defined(__AVX512F__)
  ok = ok && __builtin_cpu_supports("avx512f");
#endif
  if (!ok)
    throw Error(cat("this build needs a CPU with ", build_baseline(),
                    "; rebuild with cmake -DFG_ARCH=x86-64 for this machine"));
#endif
}

void print_help(const Usage& usage, const po::options_description& visible) {
  std::cout << usage.name << ": " << usage.purpose << "\n\n"
            << "Usage: " << usage.usage << "\n"
            << " e.g.: " << usage.example << "\n";
  if (!usage.see_also.empty()) std::cout << "See also: " << usage.see_also << "\n";
  if (!usage.details.empty()) std::cout << "\n" << usage.details << "\n";
  std::cout << "\n" << visible << "\n";
}
}  // namespace

int run(int argc, char** argv, const Usage& usage, const po::options_description& options,
        const Body& body) {
  log::set_program(usage.name);
  try {
    check_cpu_baseline();
    po::options_description common("Common options");
    common.add_options()("help,h", "print this help and exit")(
        "version", "print the version and exit")("quiet,q", "print nothing but errors on stderr")(
        "verbose,v", "print more detail on stderr");
    po::options_description hidden;
    hidden.add_options()("args", po::value<std::vector<std::string>>()->composing(), "positional");
    po::options_description all;
    all.add(options).add(common).add(hidden);
    po::options_description visible;
    visible.add(options).add(common);
    po::positional_options_description positional;
    positional.add("args", -1);

    po::variables_map vm;
    try {
      po::store(po::command_line_parser(argc, argv).options(all).positional(positional).run(), vm);
      po::notify(vm);
    } catch (const po::error& e) {
      throw UsageError(e.what());
    }
    kernel_isa();  // a bad FG_ISA is a usage error now, not inside a kernel
    if (vm.count("help")) {
      print_help(usage, visible);
      return 0;
    }
    if (vm.count("version")) {
      std::cout << usage.name << " (finegrain) " << version() << "\n"
                << "kernels: " << isa_name(kernel_isa())
                << " (this CPU: " << isa_name(cpu_features().best()) << "; built for "
                << build_baseline() << ")\n";
      return 0;
    }
    if (vm.count("quiet")) log::set_level(log::Level::quiet);
    if (vm.count("verbose")) log::set_level(log::Level::verbose);
    // OpenCV's own log lines ("[ERROR:0@0.06] global ./modules/dnn/...")
    // repeat what its exceptions say, which become our one-line errors; they
    // show only with -v, for debugging.
    cv::utils::logging::setLogLevel(vm.count("verbose") ? cv::utils::logging::LOG_LEVEL_WARNING
                                                        : cv::utils::logging::LOG_LEVEL_SILENT);
    std::vector<std::string> args;
    if (vm.count("args")) args = vm["args"].as<std::vector<std::string>>();
    return body(vm, args);
  } catch (const UsageError& e) {
    std::cerr << usage.name << ": error: " << e.what() << "\n"
              << "Usage: " << usage.usage << "\n"
              << "Try '" << usage.name << " --help' for more information.\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << usage.name << ": error: " << e.what() << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << usage.name << ": error: out of memory\n";
    return 1;
  } catch (const cv::Exception& e) {
    std::cerr << usage.name << ": error: OpenCV: " << one_line(e.err) << " (in " << e.func << ")\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << usage.name << ": error: " << e.what() << "\n";
    return 1;
  } catch (...) {
    std::cerr << usage.name << ": error: unknown failure\n";
    return 1;
  }
}

void require_args(const std::vector<std::string>& args, std::size_t min, std::size_t max) {
  if (args.size() < min)
    throw UsageError(cat("expected ", min == max ? "" : "at least ", min, " argument",
                         min == 1 ? "" : "s", ", got ", args.size()));
  if (args.size() > max)
    throw UsageError(cat("expected ", min == max ? "" : "at most ", max, " argument",
                         max == 1 ? "" : "s", ", got ", args.size(), " (unexpected: ", args[max],
                         ")"));
}

std::vector<std::string> option_names(const po::options_description& group) {
  std::vector<std::string> names;
  for (const auto& option : group.options()) names.push_back(option->long_name());
  return names;
}

void reject_options(const po::variables_map& vm, const std::vector<std::string>& names,
                    const std::string& why) {
  for (const std::string& name : names)
    if (vm.count(name) && !vm[name].defaulted()) throw UsageError(cat("--", name, " ", why));
}

void add_threads_option(po::options_description& options) {
  options.add_options()("threads", ranged<int>(0, kMaxThreads)->default_value(0),
                        "worker threads (0 = all cores)");
}

void apply_threads(const po::variables_map& vm) {
  const int threads = vm["threads"].as<int>();
  if (threads > 0) {
    omp_set_num_threads(threads);
    // OpenCV's TBB pool never runs more threads than the CPUs this process
    // may use; asked for more, TBB ignores the excess and prints a raw "TBB
    // Warning" on stderr. So it is asked for at most that many (the same pool).
    cpu_set_t allowed;
    const int cpus =
        ::sched_getaffinity(0, sizeof allowed, &allowed) == 0 ? CPU_COUNT(&allowed) : 0;
    cv::setNumThreads(cpus > 0 ? std::min(threads, cpus) : threads);
  }
}

}  // namespace fg::cli
