// fg-jobs: one runner for every engine (in the manner of Kaldi's run.pl / queue.pl /
// slurm.pl). A stage is cut into jobs; each job is a shell script in the work dir
// (engine.hpp runs them); the runner judges every job by its exit status and its
// output, retries the failed ones, and joins the outputs atomically at the end.
//
// Work dir (default `<output>.jobs/`):
//   command             what the work belongs to (stage, options, job count, input
//                       fingerprints); another command is refused
//   lock                held (flock) by the runner while it runs
//   running             what the runner started (removed when it ends; a later run
//                       cancels what a killed runner left behind)
//   manifest.<n>.tsv    the n-th contiguous shard of the manifest
//   job.<n>.sh          the job: cd, command, exit status into status/<n>
//   log/<n>.log         its output (overwritten by each attempt)
//   features.<n>.fgt | predictions.<n>.tsv, skipped.<n>.tsv   its outputs
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "finegrain/chain/engine.hpp"
#include "finegrain/core/option_range.hpp"
#include "finegrain/data/manifest.hpp"

namespace fg::jobs {

// Rows [begin, end) of one shard.
struct ShardRange {
  std::size_t begin = 0, end = 0;
  std::size_t size() const { return end - begin; }
};
// Cuts `rows` into `jobs` contiguous shards in order, sizes differing by at most one
// (the first rows % jobs shards are one longer). jobs must be 1..rows.
std::vector<ShardRange> shard_ranges(std::size_t rows, std::size_t jobs);

// "JOB=1:4" (any name of letters, digits and '_'; first <= last, both >= 1).
struct JobRange {
  std::string name;
  int first = 1, last = 1;
};
JobRange parse_job_range(const std::string& text);
// Every occurrence of `name` in `text` replaced by the job number.
std::string substitute_job(const std::string& text, const std::string& name, int job);

// The index in argv of the stage word (the first argument that is neither one of the
// runner's options nor an option's value), or argc when there is none. Which options
// take a value comes from their description (RunnerOptions::add_options).
int find_stage(int argc, char** argv, const po::options_description& runner_options);

// Removes `--name VALUE` / `--name=VALUE` (has_value) or `--name` from words passed
// through to a stage program; returns the (last) value, "" for a flag, nothing if absent.
std::optional<std::string> take_option(std::vector<std::string>& words, const std::string& name,
                                       bool has_value);

// The script of one job: its output to `log`, cd to `cwd`, the command line (a bash
// line), then its exit status into `status` (written atomically, only when the command
// has ended: a job killed or cancelled leaves none).
std::string job_script_text(int job, int jobs, const std::string& command_line,
                            const std::string& log, const std::string& status,
                            const std::string& cwd);

// Completeness checks of a shard's output: "" when it is complete and valid, else
// what is wrong. The output is read whole (a table to its end marker, every line of
// predictions), and its keys must be the shard's images in order with their labels,
// except those listed in the shard's skipped file (which must exist).
std::string check_table_shard(const std::string& table, const std::string& skipped,
                              const Manifest& shard);
std::string check_predictions_shard(const std::string& predictions, const std::string& skipped,
                                    const Manifest& shard);

// The path of a sibling program of the running one (fg-extract beside fg-jobs), or
// the bare name (searched in PATH) when there is none.
std::string sibling_program(const std::string& name);

struct RunnerOptions {
  EngineOptions engine;  // kind, max_running, extra (--engine-opts)
  std::size_t jobs = 4;  // --jobs: number of jobs (shards)
  int retries = 1;       // --retries: further attempts of a failed job
  std::string workdir;   // "" = the stage's default
  bool clean = false;    // remove the work dir after success

  // --engine, --jobs, --max-running, --retries, --workdir, --engine-opts, --clean.
  static void add_options(po::options_description& options);
  static RunnerOptions from(const po::variables_map& vm);
};

// Runs a stage: words[0] is extract, score or run, the rest its arguments
// (see fg-jobs --help). Returns 0; failures are Errors naming the jobs and their logs,
// an interrupt is Interrupted (after cancelling the jobs; no joined output).
int run_stage(const RunnerOptions& options, const std::vector<std::string>& words);

}  // namespace fg::jobs
