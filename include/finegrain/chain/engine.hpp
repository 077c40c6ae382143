// Job engines for fg-jobs: local background processes, GNU parallel, Slurm job arrays.
//
// A job is a shell script `<workdir>/job.<n>.sh` that sends its own output to its
// log and writes its exit status to `<workdir>/status/<n>` when its command ends
// (see jobs.hpp), so every engine only has to start `bash <script>` for each job
// number, at most `max_running` at a time, and say when all of them have ended.
// Whether a job succeeded is read from the status file and its output, not from
// the engine, so all engines are judged the same way (and Slurm needs no accounting).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "finegrain/core/common.hpp"

namespace fg::jobs {

enum class EngineKind { local, parallel, slurm };

// "local", "parallel" or "slurm"; anything else is a UsageError.
EngineKind parse_engine(const std::string& name);
const char* engine_name(EngineKind kind);

struct EngineOptions {
  EngineKind kind = EngineKind::local;
  std::size_t max_running = 0;  // 0: local runs all at once, parallel one per core, Slurm no limit
  std::vector<std::string> extra;  // --engine-opts words, given to parallel or sbatch
  std::size_t cpus_per_job = 0;    // Slurm --cpus-per-task (0 = Slurm's default)
  std::string workdir;             // absolute path holding the job scripts
  std::string job_name = "fg-jobs";
};

// The path of job n's script, status file.
std::string job_script(const std::string& workdir, int job);
std::string job_status(const std::string& workdir, int job);

// Raised when SIGINT, SIGTERM or SIGHUP arrived; what was started is cancelled by then.
class Interrupted : public Error {
 public:
  explicit Interrupted(int signal);
  int signal() const { return signal_; }

 private:
  int signal_;
};

// From now on SIGINT, SIGTERM and SIGHUP only set a flag that the engines (and
// anything calling check_interrupt) act on.
void install_interrupt_handlers();
// Throws Interrupted if one of those signals arrived.
void check_interrupt();

// Starts the given jobs on the engine and returns when all have ended. On an
// interrupt it cancels them first (kill / parallel's own TERM handling / scancel),
// then throws Interrupted. An engine that cannot start is an Error saying what is missing.
// While it runs, `<workdir>/running` records what was started, so that a later run can
// cancel what is left when this process was killed (cancel_leftovers).
void run_jobs(const EngineOptions& options, const std::vector<int>& jobs);

// Cancels the jobs an earlier runner on this work dir started and could not clean up
// (it was killed): local process groups and GNU parallel (checked to be ours by their
// command line), Slurm jobs (scancel). Returns what it cancelled, for the log ("" = nothing).
std::string cancel_leftovers(const std::string& workdir);

// Shell words: `a 'b c' "d\"e"` -> a, b c, d"e (no expansion of any kind).
std::vector<std::string> split_words(const std::string& text);
// Quotes a word for bash (single quotes unless it is plainly safe).
std::string shell_quote(const std::string& word);

struct CommandResult {
  int status = 0;  // exit status; 128 + signal when killed; 127 when it could not start
  std::string out, err;
};
// Runs a program (searched in PATH) with stdin from /dev/null and waits for it.
CommandResult run_command(const std::vector<std::string>& argv);

}  // namespace fg::jobs
