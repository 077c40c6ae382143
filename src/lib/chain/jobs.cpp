#include "finegrain/chain/jobs.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "finegrain/core/io.hpp"
#include "finegrain/core/random.hpp"
#include "finegrain/data/table.hpp"
#include "finegrain/eval/metrics.hpp"
#include "finegrain/extract/options.hpp"

namespace fs = std::filesystem;

namespace fg::jobs {

std::vector<ShardRange> shard_ranges(std::size_t rows, std::size_t jobs) {
  if (jobs == 0 || jobs > rows)
    throw Error(cat("cannot cut ", rows, " rows into ", jobs, " shards"));
  std::vector<ShardRange> ranges;
  std::size_t begin = 0;
  for (std::size_t j = 0; j < jobs; ++j) {
    const std::size_t size = rows / jobs + (j < rows % jobs ? 1 : 0);
    ranges.push_back({begin, begin + size});
    begin += size;
  }
  return ranges;
}

JobRange parse_job_range(const std::string& text) {
  const auto bad = [&] {
    return UsageError(cat("expected NAME=FIRST:LAST like JOB=1:4, got '", text, "'"));
  };
  const std::size_t eq = text.find('='), colon = text.find(':', eq == std::string::npos ? 0 : eq);
  if (eq == std::string::npos || eq == 0 || colon == std::string::npos) throw bad();
  JobRange range;
  range.name = text.substr(0, eq);
  for (char c : range.name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') throw bad();
  long long first = 0, last = 0;
  if (!parse_int(text.substr(eq + 1, colon - eq - 1), first) ||
      !parse_int(text.substr(colon + 1), last) || first < 1 || last < first || last > 1000000)
    throw bad();
  range.first = int(first);
  range.last = int(last);
  return range;
}

std::string substitute_job(const std::string& text, const std::string& name, int job) {
  std::string out;
  const std::string number = cat(job);
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, name.size(), name) == 0) {
      out += number;
      i += name.size();
    } else {
      out += text[i++];
    }
  }
  return out;
}

int find_stage(int argc, char** argv, const po::options_description& runner_options) {
  for (int i = 1; i < argc; ++i) {
    const std::string word = argv[i];
    if (word.empty() || word[0] != '-' || word == "-") return i;
    // A value of `--name value` may look like anything: skip it (`--name=value` is one word).
    if (word.rfind("--", 0) != 0 || word.find('=') != std::string::npos) continue;
    const po::option_description* option = runner_options.find_nothrow(word.substr(2), false);
    if (option && option->semantic()->max_tokens() > 0) ++i;
  }
  return argc;
}

void RunnerOptions::add_options(po::options_description& options) {
  const RunnerOptions d;
  // clang-format off
  options.add_options()
    ("engine", po::value<std::string>()->default_value(engine_name(d.engine.kind)),
     "local | parallel | slurm")
    ("jobs", defaults_to(ranged<std::size_t>(1, 10000), d.jobs), "number of jobs (shards) N")
    ("max-running", defaults_to(ranged<std::size_t>(0, 10000), d.engine.max_running),
     "at most M jobs at once (0: local all N, parallel one per core of each host, slurm no limit)")
    ("retries", defaults_to(ranged<int>(0, 100), d.retries), "further attempts of a failed job")
    ("workdir", po::value<std::string>(), "work dir [<output>.jobs; run: <log-pattern>.jobs]")
    ("engine-opts", po::value<std::string>()->default_value(""),
     "words given to parallel (e.g. '--sshloginfile hosts') or sbatch (e.g. '--partition=cpu --mem=4G "
     "--time=1:00:00'), shell-quoted")
    ("clean", po::bool_switch(), "remove the work dir after success");
  // clang-format on
}

RunnerOptions RunnerOptions::from(const po::variables_map& vm) {
  RunnerOptions o;
  o.engine.kind = parse_engine(vm["engine"].as<std::string>());
  o.engine.max_running = vm["max-running"].as<std::size_t>();
  o.engine.extra = split_words(vm["engine-opts"].as<std::string>());
  o.jobs = vm["jobs"].as<std::size_t>();
  o.retries = vm["retries"].as<int>();
  if (vm.count("workdir")) o.workdir = vm["workdir"].as<std::string>();
  o.clean = vm["clean"].as<bool>();
  return o;
}

std::optional<std::string> take_option(std::vector<std::string>& words, const std::string& name,
                                       bool has_value) {
  std::optional<std::string> value;
  const std::string flag = "--" + name;
  for (std::size_t i = 0; i < words.size();) {
    if (words[i] == flag) {
      if (has_value) {
        if (i + 1 >= words.size()) throw UsageError(cat(flag, " needs a value"));
        value = words[i + 1];
        words.erase(words.begin() + long(i), words.begin() + long(i) + 2);
      } else {
        value = "";
        words.erase(words.begin() + long(i));
      }
    } else if (has_value && words[i].rfind(flag + "=", 0) == 0) {
      value = words[i].substr(flag.size() + 1);
      words.erase(words.begin() + long(i));
    } else {
      ++i;
    }
  }
  return value;
}

std::string job_script_text(int job, int jobs, const std::string& command_line,
                            const std::string& log, const std::string& status,
                            const std::string& cwd) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# fg-jobs: job " << job << " of " << jobs
    << ". The engine runs `bash <this file>`; it writes\n"
    << "# its log and, only when its command has ended, its exit status.\n"
    << "exec >" << shell_quote(log) << " 2>&1 </dev/null\n"
    << "rm -f " << shell_quote(status) << "\n"
    << "cd " << shell_quote(cwd) << " || exit 1\n"
    << "echo \"# fg-jobs: job " << job << " of " << jobs
    << " on ${HOSTNAME:-?}, started $(date -u '+%F %T UTC')\"\n"
    << "printf '# %s\\n' " << shell_quote(command_line) << "\n"
    << "(\n"
    << command_line << "\n)\n"  // a subshell: an `exit` in a run line still gets its status written
    << "status=$?\n"
    << "echo \"# fg-jobs: exit status $status, ended $(date -u '+%F %T UTC')\"\n"
    << "echo \"$status\" > " << shell_quote(status + ".tmp") << " && mv -f "
    << shell_quote(status + ".tmp") << " " << shell_quote(status) << "\n"
    << "exit \"$status\"\n";
  return s.str();
}

namespace {

// Paths listed in a skipped file (path<TAB>problem lines); false if it cannot be read.
bool read_skipped(const std::string& path, std::set<std::string>& paths, std::string& problem) {
  if (!fs::is_regular_file(path)) {
    problem = cat(path, ": missing (the job did not finish)");
    return false;
  }
  for (const auto& line : read_lines(path))
    if (!line.empty()) paths.insert(line.substr(0, line.find('\t')));
  return true;
}

// Matches output keys (in order) against the shard's images that were not skipped.
class KeyMatcher {
 public:
  KeyMatcher(const Manifest& shard, const std::set<std::string>& skipped)
      : shard_(shard), skipped_(skipped) {
    skip_to_next();
  }
  // A key belongs to the current image (its path, or path#suffix for augmented rows)
  // or starts the next one. Returns "" or what is wrong.
  std::string accept(const std::string& key, const std::string& label) {
    if (current_ < shard_.size() && matches(key, shard_[current_].path) && seen_current_)
      return check_label(label);
    if (seen_current_) {
      ++current_;
      seen_current_ = false;
      skip_to_next();
    }
    if (current_ >= shard_.size())
      return cat("row '", key, "' is not in the shard's manifest (or out of order)");
    if (!matches(key, shard_[current_].path))
      return cat("row '", key, "' where '", shard_[current_].path, "' was expected");
    seen_current_ = true;
    return check_label(label);
  }
  // "" when every image not skipped had its rows.
  std::string finish() {
    if (seen_current_) {
      ++current_;
      seen_current_ = false;
    }
    skip_to_next();
    if (current_ < shard_.size())
      return cat("no row for '", shard_[current_].path, "' (incomplete)");
    return "";
  }

 private:
  static bool matches(const std::string& key, const std::string& path) {
    return key == path || (key.size() > path.size() && key.compare(0, path.size(), path) == 0 &&
                           key[path.size()] == '#');
  }
  std::string check_label(const std::string& label) const {
    if (label != shard_[current_].label)
      return cat("row '", shard_[current_].path, "' has label '", label, "', the manifest says '",
                 shard_[current_].label, "'");
    return "";
  }
  void skip_to_next() {
    while (current_ < shard_.size() && skipped_.count(shard_[current_].path)) ++current_;
  }
  const Manifest& shard_;
  const std::set<std::string>& skipped_;
  std::size_t current_ = 0;
  bool seen_current_ = false;
};

}  // namespace

std::string check_table_shard(const std::string& table, const std::string& skipped,
                              const Manifest& shard) {
  if (!fs::is_regular_file(table)) return cat(table, ": missing");
  std::set<std::string> skipped_paths;
  std::string problem;
  if (!read_skipped(skipped, skipped_paths, problem)) return problem;
  try {
    TableReader reader(table);
    KeyMatcher matcher(shard, skipped_paths);
    TableRow row;
    static const std::string none;
    while (reader.next(row)) {
      const auto& classes = reader.header().classes;
      const std::string& label = row.label < 0 ? none : classes.at(std::size_t(row.label));
      problem = matcher.accept(row.key, label);
      if (!problem.empty()) return cat(table, ": record ", reader.record(), ": ", problem);
    }
    problem = matcher.finish();
    if (!problem.empty()) return cat(table, ": ", problem);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string check_predictions_shard(const std::string& predictions, const std::string& skipped,
                                    const Manifest& shard) {
  if (!fs::is_regular_file(predictions)) return cat(predictions, ": missing");
  std::set<std::string> skipped_paths;
  std::string problem;
  if (!read_skipped(skipped, skipped_paths, problem)) return problem;
  try {
    const Predictions p = read_predictions(predictions);
    KeyMatcher matcher(shard, skipped_paths);
    for (std::size_t i = 0; i < p.rows.size(); ++i) {
      problem = matcher.accept(p.rows[i].key, p.rows[i].truth);
      if (!problem.empty()) return cat(predictions, ": row ", i + 1, ": ", problem);
    }
    problem = matcher.finish();
    if (!problem.empty()) return cat(predictions, ": ", problem);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string sibling_program(const std::string& name) {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const fs::path sibling = self.parent_path() / name;
    if (::access(sibling.c_str(), X_OK) == 0) return sibling.string();
  }
  return name;
}

namespace {

std::string absolute(const std::string& path) {
  return fs::absolute(path).lexically_normal().string();
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_text_atomically(const std::string& path, const std::string& text) {
  AtomicOutput out(path, false);
  out.stream() << text;
  out.commit();
}

std::string last_line_of(const std::string& path) {
  std::ifstream in(path);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#') last = line;
  return last;
}

std::string words_line(const std::vector<std::string>& words) {
  std::string line;
  for (const auto& w : words) line += (line.empty() ? "" : " ") + shell_quote(w);
  return line;
}

// What the runner needs of a stage: one command and log per job, how to judge a job's
// output, and how to join the outputs.
struct Plan {
  std::string stage;
  std::string workdir;    // absolute
  std::string signature;  // "" = the work dir is not reused (run)
  std::vector<int> jobs;
  std::vector<std::string> commands, logs;    // per job, bash lines and absolute paths
  std::function<std::string(int job)> check;  // "" = complete; null = judge by exit status only
  std::function<void()> join;                 // null = nothing to join
};

// Held while the runner works on a work dir; not inherited by the jobs (close-on-exec),
// so it is free again the moment the runner dies, however it dies.
class WorkdirLock {
 public:
  explicit WorkdirLock(const std::string& workdir) {
    const std::string path = workdir + "/lock";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(cat(path, ": cannot open: ", std::strerror(errno)));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0)
      throw Error(cat(workdir, ": another fg-jobs is working in this work dir"));
  }
  ~WorkdirLock() { ::close(fd_); }
  WorkdirLock(const WorkdirLock&) = delete;
  WorkdirLock& operator=(const WorkdirLock&) = delete;

 private:
  int fd_ = -1;
};

std::string status_problem(const std::string& workdir, int job) {
  const std::string path = job_status(workdir, job);
  if (!fs::exists(path)) return "no exit status: the job was killed or cancelled, or never started";
  long long status = -1;
  const auto lines = read_lines(path);
  if (lines.empty() || !parse_int(lines[0], status)) return cat(path, ": unreadable exit status");
  if (status == 0) return "";
  if (status > 128) return cat("exit status ", status, " (killed by signal ", status - 128, ")");
  return cat("exit status ", status);
}

int execute(const Plan& plan, const RunnerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  const std::string& w = plan.workdir;
  fs::create_directories(w + "/status");
  fs::create_directories(w + "/log");
  for (const auto& log : plan.logs) fs::create_directories(fs::path(log).parent_path());
  WorkdirLock lock(w);
  if (!plan.signature.empty()) {
    const std::string command_file = w + "/command";
    if (fs::exists(command_file) && read_text(command_file) != plan.signature)
      throw UsageError(
          cat(w, ": holds the work of another command (other options, inputs or --jobs; see ",
              command_file, "): remove it or give another --workdir"));
    write_text_atomically(command_file, plan.signature);
  }
  const std::string cancelled = cancel_leftovers(w);
  if (!cancelled.empty()) log::info(cat("cancelled what an earlier run left running: ", cancelled));

  const std::string cwd = fs::current_path().string();
  for (std::size_t i = 0; i < plan.jobs.size(); ++i) {
    const int job = plan.jobs[i];
    const std::string text = job_script_text(job, int(plan.jobs.size()), plan.commands[i],
                                             plan.logs[i], job_status(w, job), cwd);
    if (read_text(job_script(w, job)) != text) write_text_atomically(job_script(w, job), text);
  }

  std::vector<int> todo;
  for (int job : plan.jobs)
    if (!plan.check || !plan.check(job).empty()) todo.push_back(job);
  const std::size_t complete = plan.jobs.size() - todo.size();
  log::info(cat(
      plan.stage, ": ", plan.jobs.size(), " jobs",
      complete ? cat(", ", complete, " already complete") : "",
      todo.empty() ? "" : cat("; running ", todo.size(), " on ", engine_name(options.engine.kind)),
      " (work dir ", w, ")"));

  EngineOptions engine = options.engine;
  engine.workdir = w;
  std::vector<std::pair<int, std::string>> failed;
  for (int attempt = 0; !todo.empty(); ++attempt) {
    for (int job : todo) {
      std::error_code ec;
      fs::remove(job_status(w, job), ec);
    }
    run_jobs(engine, todo);
    failed.clear();
    for (int job : todo) {
      std::string problem = status_problem(w, job);
      if (problem.empty() && plan.check) {
        problem = plan.check(job);
        if (!problem.empty()) problem = "exit status 0 but its output is not valid: " + problem;
      }
      if (!problem.empty()) failed.emplace_back(job, problem);
    }
    if (failed.empty() || attempt >= options.retries) break;
    todo.clear();
    for (const auto& [job, problem] : failed) {
      log::warn(cat("job ", job, " failed (", problem, "); retrying (", attempt + 1, " of ",
                    options.retries, ")"));
      todo.push_back(job);
    }
  }
  if (!failed.empty()) {
    std::string list;
    for (const auto& [job, problem] : failed) {
      const std::size_t i =
          std::size_t(std::find(plan.jobs.begin(), plan.jobs.end(), job) - plan.jobs.begin());
      const std::string last = last_line_of(plan.logs[i]);
      log::warn(cat("job ", job, " failed: ", problem, "; log ", plan.logs[i],
                    last.empty() ? "" : ": " + last));
      list += cat(list.empty() ? "" : ", ", "job ", job, " (log ", plan.logs[i], ")");
    }
    throw Error(cat(failed.size(), " of ", plan.jobs.size(), " jobs failed after ",
                    options.retries + 1, " attempt", options.retries ? "s" : "", ": ", list,
                    "; rerun the same command to redo them"));
  }
  if (plan.join) plan.join();
  if (options.clean) fs::remove_all(w);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log::info(cat(plan.stage, ": done in ", format_double(std::round(seconds * 10) / 10), " s"));
  return 0;
}

std::size_t default_threads(const RunnerOptions& options, std::size_t jobs) {
  // Local jobs share this machine's cores; parallel and Slurm jobs get one core each
  // (GNU parallel's default is one job per core, Slurm's one CPU per task).
  if (options.engine.kind != EngineKind::local) return 1;
  const std::size_t at_once =
      options.engine.max_running ? std::min(options.engine.max_running, jobs) : jobs;
  const std::size_t cores = std::max<std::size_t>(1, std::thread::hardware_concurrency());
  return std::max<std::size_t>(1, cores / at_once);
}

// What extract and score share: a manifest cut into shards, each run by a stage program.
struct ShardedStage {
  std::string program;             // fg-extract / fg-score
  std::vector<std::string> words;  // the program's options and leading arguments (bundle)
  Manifest manifest;
  std::string output;  // the joined output
  std::optional<std::string> skipped_out;
  std::string output_pattern;    // per shard, with {} for the job number: "features.{}.fgt"
  std::string fingerprint_text;  // inputs that determine the results
};

Plan plan_shards(RunnerOptions& options, ShardedStage& s, const std::string& stage,
                 std::vector<Manifest>& shards, std::vector<std::string>& outputs) {
  if (s.manifest.empty()) throw Error("the manifest lists no images");
  if (s.output == "-" && options.workdir.empty())
    throw UsageError("writing to stdout: give --workdir");
  if (s.output != "-") check_writable(s.output);
  if (s.skipped_out && *s.skipped_out != "-") check_writable(*s.skipped_out);
  std::size_t jobs = options.jobs;
  if (jobs > s.manifest.size()) {
    log::info(cat("--jobs ", jobs, " but only ", s.manifest.size(), " images: ", s.manifest.size(),
                  " jobs"));
    jobs = s.manifest.size();
  }
  // Options that do not change the results are not part of the work dir's identity.
  const std::optional<std::string> threads = take_option(s.words, "threads", true);
  take_option(s.words, "resume", false);
  std::vector<std::string> identity_words = s.words;
  take_option(identity_words, "progress", false);

  Plan plan;
  plan.stage = stage;
  plan.workdir = absolute(options.workdir.empty() ? s.output + ".jobs" : options.workdir);
  std::string manifest_text;
  for (const auto& e : s.manifest) manifest_text += e.path + "\t" + e.label + "\n";
  plan.signature = cat("stage ", stage, "\njobs ", jobs, "\noptions ", words_line(identity_words),
                       "\nmanifest-fnv1a64 ", fnv1a(manifest_text), "\n", s.fingerprint_text);

  std::size_t thread_count = default_threads(options, jobs);
  if (threads) {
    long long t = 0;
    if (!parse_int(*threads, t) || t < 0)
      throw UsageError(cat("--threads: expected 0 or more, got '", *threads, "'"));
    thread_count = std::size_t(t);
    options.engine.cpus_per_job =
        thread_count;  // Slurm: as many CPUs per task as threads asked for
  }
  const std::vector<ShardRange> ranges = shard_ranges(s.manifest.size(), jobs);
  const std::string& w = plan.workdir;
  fs::create_directories(w);
  for (std::size_t j = 0; j < jobs; ++j) {
    const int job = int(j + 1);
    shards.emplace_back(s.manifest.begin() + long(ranges[j].begin),
                        s.manifest.begin() + long(ranges[j].end));
    const std::string manifest_path = cat(w, "/manifest.", job, ".tsv");
    const std::string output = substitute_job(w + "/" + s.output_pattern, "{}", job);
    const std::string skipped = cat(w, "/skipped.", job, ".tsv");
    outputs.push_back(output);
    std::string text;
    for (const auto& e : shards.back())
      text += e.path + (e.label.empty() ? "" : "\t" + e.label) + "\n";
    if (read_text(manifest_path) != text) write_text_atomically(manifest_path, text);
    std::vector<std::string> command = {sibling_program(s.program)};
    command.insert(command.end(), s.words.begin(), s.words.end());
    if (s.program == "fg-extract")
      command.push_back("--resume");  // a killed job continues its .partial
    command.insert(command.end(),
                   {"--threads", cat(thread_count), "--skipped", skipped, manifest_path, output});
    plan.jobs.push_back(job);
    plan.commands.push_back(words_line(command));
    plan.logs.push_back(cat(w, "/log/", job, ".log"));
  }
  return plan;
}

void join_skipped(const std::string& workdir, std::size_t jobs,
                  const std::optional<std::string>& out) {
  if (!out) return;
  AtomicOutput list(*out, false);
  for (std::size_t j = 1; j <= jobs; ++j)
    list.stream() << read_text(cat(workdir, "/skipped.", j, ".tsv"));
  list.commit();
}

int run_extract(RunnerOptions options, std::vector<std::string> args) {
  if (args.size() < 2)
    throw UsageError("extract: expected [fg-extract options] <manifest> <features-out.fgt>");
  ShardedStage s;
  s.program = "fg-extract";
  s.output = args.back();
  const std::string manifest_path = args[args.size() - 2];
  s.words.assign(args.begin(), args.end() - 2);
  s.skipped_out = take_option(s.words, "skipped", true);
  s.manifest = read_manifest(manifest_path);
  s.output_pattern = "features.{}.fgt";
  std::vector<Manifest> shards;
  std::vector<std::string> outputs;
  Plan plan = plan_shards(options, s, "extract", shards, outputs);
  options.engine.job_name = "fg-extract";
  const std::string w = plan.workdir;
  plan.check = [=](int job) {
    return check_table_shard(outputs[std::size_t(job - 1)], cat(w, "/skipped.", job, ".tsv"),
                             shards[std::size_t(job - 1)]);
  };
  const std::vector<std::string> classes = manifest_classes(s.manifest);
  plan.join = [=] {
    // The class list of one fg-extract over the whole manifest, whatever classes each shard saw.
    const std::uint64_t rows =
        join_tables(outputs, s.output, {}, classes, check_interrupt, same_provenance);
    join_skipped(w, outputs.size(), s.skipped_out);
    log::info(cat("joined ", rows, " rows from ", outputs.size(), " shards into ", s.output));
  };
  return execute(plan, options);
}

int run_score(RunnerOptions options, std::vector<std::string> args) {
  if (args.size() < 3)
    throw UsageError(
        "score: expected [fg-score options] <bundle> <image-folder>|<manifest> <predictions.tsv>");
  ShardedStage s;
  s.program = "fg-score";
  s.output = args.back();
  const std::string input = args[args.size() - 2], bundle = args[args.size() - 3];
  s.words.assign(args.begin(), args.end() - 2);  // options, then the bundle
  s.skipped_out = take_option(s.words, "skipped", true);
  s.manifest = images_to_score(input);  // as fg-score reads it
  const std::string index = bundle + "/BUNDLE";
  if (!fs::is_regular_file(index)) throw Error(cat(bundle, ": not a bundle (no BUNDLE index)"));
  s.fingerprint_text = cat("bundle-fnv1a64 ", fnv1a(read_text(index)), "\n");
  s.output_pattern = "predictions.{}.tsv";
  std::vector<Manifest> shards;
  std::vector<std::string> outputs;
  Plan plan = plan_shards(options, s, "score", shards, outputs);
  options.engine.job_name = "fg-score";
  const std::string w = plan.workdir;
  plan.check = [=](int job) {
    return check_predictions_shard(outputs[std::size_t(job - 1)], cat(w, "/skipped.", job, ".tsv"),
                                   shards[std::size_t(job - 1)]);
  };
  plan.join = [=] {
    AtomicOutput out(s.output, false);
    std::string header;
    std::size_t rows = 0;
    for (std::size_t j = 0; j < outputs.size(); ++j) {
      check_interrupt();
      std::string head, body;
      for (const auto& line : read_lines(outputs[j])) {
        if (!line.empty() && line[0] == '#')
          head += line + "\n";
        else if (!line.empty()) {
          body += line + "\n";
          ++rows;
        }
      }
      if (j == 0) {
        header = head;
        out.stream() << header;
      } else if (head != header) {
        throw Error(cat(outputs[j], ": its header differs from ", outputs[0], "'s"));
      }
      out.stream() << body;
    }
    out.commit();
    join_skipped(w, outputs.size(), s.skipped_out);
    log::info(
        cat("joined ", rows, " predictions from ", outputs.size(), " shards into ", s.output));
  };
  return execute(plan, options);
}

int run_any(RunnerOptions options, const std::vector<std::string>& args) {
  if (args.size() < 3)
    throw UsageError("run: expected JOB=1:N <log-pattern> <command> [<args>...]");
  const JobRange range = parse_job_range(args[0]);
  const std::string log_pattern = args[1];
  if (log_pattern.find(range.name) == std::string::npos && range.last > range.first)
    throw UsageError(cat("run: the log pattern '", log_pattern, "' lacks ", range.name,
                         " (each job needs its own log)"));
  Plan plan;
  plan.stage = "run";
  plan.workdir = absolute(options.workdir.empty() ? log_pattern + ".jobs" : options.workdir);
  const std::vector<std::string> command(args.begin() + 2, args.end());
  for (int job = range.first; job <= range.last; ++job) {
    std::vector<std::string> words;
    for (const auto& word : command) words.push_back(substitute_job(word, range.name, job));
    plan.jobs.push_back(job);
    // One argument is a bash line (pipes, redirections); several are a program and its arguments.
    plan.commands.push_back(words.size() == 1 ? words[0] : words_line(words));
    plan.logs.push_back(absolute(substitute_job(log_pattern, range.name, job)));
  }
  options.engine.job_name = "fg-jobs-run";
  return execute(plan, options);
}

}  // namespace

int run_stage(const RunnerOptions& options, const std::vector<std::string>& words) {
  if (words.empty()) throw UsageError("expected a stage: extract, score or run");
  if (options.jobs == 0) throw UsageError("--jobs must be at least 1");
  if (options.retries < 0) throw UsageError("--retries must be 0 or more");
  const std::vector<std::string> args(words.begin() + 1, words.end());
  if (words[0] == "extract") return run_extract(options, args);
  if (words[0] == "score") return run_score(options, args);
  if (words[0] == "run") return run_any(options, args);
  throw UsageError(cat("unknown stage '", words[0], "': expected extract, score or run"));
}

}  // namespace fg::jobs
