// fg-jobs: run a stage as many jobs on local processes, GNU parallel or Slurm; resumable, joined
// exactly.
#include <csignal>
#include <iostream>

#include "finegrain/chain/jobs.hpp"
#include "finegrain/core/cli.hpp"
#include "finegrain/core/common.hpp"

using namespace fg;

int main(int argc, char** argv) {
  cli::Usage usage{
      "fg-jobs",
      "run a stage as many jobs on local processes, GNU parallel or a Slurm cluster; resumable, "
      "joined exactly",
      "fg-jobs [options] extract [fg-extract options] <manifest> <features-out.fgt>\n"
      "       fg-jobs [options] score [fg-score options] <bundle> <image-folder>|<manifest> "
      "<predictions.tsv>\n"
      "       fg-jobs [options] run JOB=1:N <log-pattern> <command> [<args>...]",
      "fg-jobs --engine slurm --jobs 16 --engine-opts '--partition=cpu --mem=4G' extract train.tsv "
      "train.fgt",
      "fg-extract, fg-score, fg-convert",
      "extract and score cut the manifest (or the folder's images) into N contiguous shards, run "
      "one\n"
      "job per shard and join the shards' outputs in order into the output, atomically, at the "
      "end:\n"
      "the same rows, labels, values and settings as one fg-extract / fg-score over everything.\n"
      "The work dir keeps each job's script, manifest, output and log (log/<n>.log). Rerunning "
      "the\n"
      "same command skips the jobs whose output is complete and valid (read back whole) and "
      "redoes\n"
      "the rest, also after this program was killed. A failed job is retried --retries times; "
      "then\n"
      "fg-jobs exits 1 naming the jobs and their logs. Ctrl-C or SIGTERM cancels the jobs started\n"
      "(kill, GNU parallel's own handling, scancel) and writes no output.\n"
      "run: JOB (any NAME=FIRST:LAST) is replaced by the job number in the log pattern and in the\n"
      "arguments; a single command argument is a bash line (pipes, redirections), several are a\n"
      "program and its arguments. Every job runs again on every call.\n"
      "Jobs get --threads T (fg-extract/fg-score) unless the stage's options set it: local, the\n"
      "cores divided by the jobs running at once; parallel and slurm, 1 (with slurm, a --threads\n"
      "given in the stage's options also asks for as many CPUs per task)."};
  cli::po::options_description options("Runner options (before the stage)");
  jobs::RunnerOptions::add_options(options);

  // The runner's options end at the stage word; everything after it belongs to the stage.
  const int stage = jobs::find_stage(argc, argv, options);
  const std::vector<std::string> stage_words(argv + stage, argv + argc);
  return cli::run(stage, argv, usage, options,
                  [&](const cli::po::variables_map& vm, const std::vector<std::string>& args) {
                    cli::require_args(args, 0, 0);
                    const jobs::RunnerOptions runner = jobs::RunnerOptions::from(vm);
                    jobs::install_interrupt_handlers();
                    try {
                      return jobs::run_stage(runner, stage_words);
                    } catch (const jobs::Interrupted& e) {
                      // Die of the signal, as an interrupted program should (the shell sees 128 +
                      // signal).
                      std::cerr << "fg-jobs: " << e.what() << "; no output written\n";
                      std::signal(e.signal(), SIG_DFL);
                      std::raise(e.signal());
                      return 128 + e.signal();
                    }
                  });
}
