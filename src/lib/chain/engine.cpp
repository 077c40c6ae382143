#include "finegrain/chain/engine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "finegrain/core/io.hpp"

namespace fs = std::filesystem;

namespace fg::jobs {

namespace {

volatile std::sig_atomic_t g_signal = 0;

void remember_signal(int signal) { g_signal = signal; }

const char* signal_name(int signal) {
  switch (signal) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    case SIGHUP:
      return "SIGHUP";
    default:
      return "a signal";
  }
}

void sleep_seconds(double seconds) {
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
}

bool in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) dir = ".";
    if (::access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

std::vector<char*> c_argv(std::vector<std::string>& words) {
  std::vector<char*> out;
  for (auto& w : words) out.push_back(w.data());
  out.push_back(nullptr);
  return out;
}

// Starts a program in its own process group (so a signal can reach it and all it
// starts), stdin from /dev/null, stdout and stderr to `output` ("" = inherited).
pid_t spawn_group(std::vector<std::string> argv, const std::string& output) {
  std::vector<char*> args = c_argv(argv);
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(cat("cannot start ", argv[0], ": ", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, 0);
    if (!output.empty()) {
      const int out = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
    }
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "fg-jobs: error: cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also here, so the group exists before the parent signals it
  return pid;
}

bool alive(pid_t pid) { return ::kill(pid, 0) == 0 || errno == EPERM; }

// Waits up to `seconds` for our child to end; true if it did.
bool reap_within(pid_t pid, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid || (got < 0 && errno == ECHILD)) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    sleep_seconds(0.02);
  }
}

// The record of what this run started, for cancel_leftovers after a kill -9.
class RunningFile {
 public:
  explicit RunningFile(const std::string& workdir) : path_(workdir + "/running") {}
  ~RunningFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  void write(const std::vector<std::string>& lines) {
    const std::string temp = path_ + ".tmp";
    {
      std::ofstream out(temp);
      for (const auto& line : lines) out << line << '\n';
    }
    std::error_code ec;
    fs::rename(temp, path_, ec);
  }

 private:
  std::string path_;
};

std::string last_line(const std::string& text) {
  std::string line, last;
  std::istringstream in(text);
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// ---- local: background processes ------------------------------------------------

void run_local(const EngineOptions& options, const std::vector<int>& jobs) {
  RunningFile record(options.workdir);
  std::map<pid_t, int> running;
  std::size_t next = 0;
  auto update_record = [&] {
    std::vector<std::string> lines;
    for (const auto& [pid, job] : running) lines.push_back(cat("local ", pid, " ", job));
    record.write(lines);
  };
  while (next < jobs.size() || !running.empty()) {
    if (g_signal) {
      for (const auto& entry : running) ::kill(-entry.first, SIGTERM);
      for (const auto& entry : running)
        if (!reap_within(entry.first, 5)) {
          ::kill(-entry.first, SIGKILL);
          reap_within(entry.first, 5);
        }
      throw Interrupted(g_signal);
    }
    bool started = false;
    while (next < jobs.size() &&
           (options.max_running == 0 || running.size() < options.max_running)) {
      const int job = jobs[next++];
      running[spawn_group({"bash", job_script(options.workdir, job)}, "")] = job;
      started = true;
    }
    if (started) update_record();
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid > 0 && running.erase(pid))
      update_record();
    else if (pid == 0 || (pid < 0 && errno == EINTR))
      sleep_seconds(0.05);
    else if (pid < 0)
      running.clear();  // no children left: nothing more to wait for
  }
}

// ---- GNU parallel ---------------------------------------------------------------

void run_parallel(const EngineOptions& options, const std::vector<int>& jobs) {
  if (!in_path("parallel"))
    throw Error(
        "GNU parallel not found in PATH (Debian package 'parallel'; or use --engine local)");
  const std::string log = options.workdir + "/parallel.log";
  std::vector<std::string> argv = {"parallel", "--joblog", options.workdir + "/parallel.joblog"};
  if (options.max_running) {
    argv.push_back("--jobs");
    argv.push_back(cat(options.max_running));
  }
  argv.insert(argv.end(), options.extra.begin(), options.extra.end());
  // One command word: GNU parallel puts the job number (digits, never quoted) in place of {}.
  argv.push_back("bash " + shell_quote(options.workdir + "/job.") + "{}.sh");
  argv.push_back(":::");
  for (int job : jobs) argv.push_back(cat(job));

  RunningFile record(options.workdir);
  const pid_t pid = spawn_group(argv, log);
  record.write({cat("parallel ", pid)});
  while (true) {
    if (g_signal) {
      // GNU parallel's own handling: on TERM it kills its running jobs (locally or over
      // ssh, by its --termseq) and exits; the group kill is the fallback.
      ::kill(pid, SIGTERM);
      if (!reap_within(pid, 10)) {
        ::kill(-pid, SIGKILL);
        reap_within(pid, 5);
      }
      throw Interrupted(g_signal);
    }
    int status = 0;
    const pid_t got = ::waitpid(pid, &status, WNOHANG);
    if (got == pid) {
      // Exit status = the number of failed jobs (they are judged by their status files);
      // 255 means parallel itself could not run them.
      if (WIFEXITED(status) && WEXITSTATUS(status) == 255)
        throw Error(cat("GNU parallel failed: ", last_line(read_file(log)), " (see ", log, ")"));
      return;
    }
    if (got < 0 && errno != EINTR) return;
    sleep_seconds(0.05);
  }
}

// ---- Slurm job arrays -------------------------------------------------------------

bool slurm_job_gone(const std::string& id, int& failures) {
  const CommandResult r = run_command({"squeue", "--noheader", "--jobs", id, "--format", "%i"});
  if (r.status == 0) {
    failures = 0;
    return r.out.find_first_not_of(" \n") == std::string::npos;
  }
  if (r.err.find("Invalid job id") != std::string::npos) return true;  // finished and purged
  if (++failures >= 10) throw Error(cat("squeue fails: ", last_line(r.err + r.out)));
  return false;
}

void wait_slurm_gone(const std::string& id, double seconds) {
  int failures = 0;
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    try {
      if (slurm_job_gone(id, failures)) return;
    } catch (const Error&) {
      return;
    }
    sleep_seconds(0.25);
  }
}

void run_slurm(const EngineOptions& options, const std::vector<int>& jobs) {
  for (const char* program : {"sbatch", "squeue", "scancel"})
    if (!in_path(program))
      throw Error(cat(program,
                      " not found in PATH: Slurm's client commands are needed (Debian package "
                      "'slurm-client'; or use --engine local)"));
  const std::string array_script = options.workdir + "/array.sh";
  {
    AtomicOutput out(array_script, false);
    out.stream()
        << "#!/bin/bash\n# fg-jobs: Slurm runs this for each task of the job array.\nexec bash "
        << shell_quote(options.workdir + "/job.") << "\"$SLURM_ARRAY_TASK_ID\".sh\n";
    out.commit();
  }
  std::string list;
  for (int job : jobs) list += (list.empty() ? "" : ",") + cat(job);
  if (options.max_running) list += cat("%", options.max_running);
  std::vector<std::string> argv = {
      "sbatch",  "--parsable", "--job-name", options.job_name,
      "--array", list,         "--output",   options.workdir + "/slurm-%a.out"};
  if (options.cpus_per_job) argv.push_back(cat("--cpus-per-task=", options.cpus_per_job));
  argv.insert(argv.end(), options.extra.begin(), options.extra.end());
  argv.push_back(array_script);
  const CommandResult submitted = run_command(argv);
  if (submitted.status != 0)
    throw Error(cat("sbatch failed (exit ", submitted.status,
                    "): ", last_line(submitted.err + submitted.out)));
  std::string id = submitted.out.substr(0, submitted.out.find_first_of(";\n"));
  if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
    throw Error(cat("sbatch printed no job id: '", last_line(submitted.out), "'"));
  RunningFile record(options.workdir);
  record.write({cat("slurm ", id)});
  log::detail(cat("Slurm job ", id, ", tasks ", list));

  // sbatch --wait polls slowly (2 s, 10 s, then 42 s); a short poll that backs off to 5 s.
  double interval = 0.2;
  int failures = 0;
  while (true) {
    for (double waited = 0; waited < interval && !g_signal; waited += 0.05) sleep_seconds(0.05);
    if (g_signal) {
      run_command({"scancel", id});
      wait_slurm_gone(id, 30);
      throw Interrupted(g_signal);
    }
    if (slurm_job_gone(id, failures)) return;
    interval = std::min(5.0, interval * 1.5);
  }
}

bool process_is_ours(pid_t pid, const std::string& workdir) {
  std::string cmdline = read_file(cat("/proc/", pid, "/cmdline"));
  std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
  return cmdline.find(workdir + "/") != std::string::npos;
}

}  // namespace

EngineKind parse_engine(const std::string& name) {
  if (name == "local") return EngineKind::local;
  if (name == "parallel") return EngineKind::parallel;
  if (name == "slurm") return EngineKind::slurm;
  throw UsageError(cat("--engine must be local, parallel or slurm, got '", name, "'"));
}

const char* engine_name(EngineKind kind) {
  switch (kind) {
    case EngineKind::local:
      return "local";
    case EngineKind::parallel:
      return "parallel";
    case EngineKind::slurm:
      return "slurm";
  }
  return "?";
}

std::string job_script(const std::string& workdir, int job) {
  return cat(workdir, "/job.", job, ".sh");
}
std::string job_status(const std::string& workdir, int job) {
  return cat(workdir, "/status/", job);
}

Interrupted::Interrupted(int signal)
    : Error(cat("interrupted by ", signal_name(signal), ": the jobs it started were cancelled")),
      signal_(signal) {}

void install_interrupt_handlers() {
  install_cleanup_handlers();  // first, or the first AtomicOutput would replace ours
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction action {};
    action.sa_handler = remember_signal;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

void check_interrupt() {
  if (g_signal) throw Interrupted(g_signal);
}

void run_jobs(const EngineOptions& options, const std::vector<int>& jobs) {
  if (jobs.empty()) return;
  check_interrupt();
  switch (options.kind) {
    case EngineKind::local:
      run_local(options, jobs);
      break;
    case EngineKind::parallel:
      run_parallel(options, jobs);
      break;
    case EngineKind::slurm:
      run_slurm(options, jobs);
      break;
  }
}

std::string cancel_leftovers(const std::string& workdir) {
  const std::string path = workdir + "/running";
  if (!fs::exists(path)) return "";
  std::vector<std::string> done;
  std::vector<pid_t> groups, processes;
  for (const auto& line : read_lines(path)) {
    std::istringstream in(line);
    std::string kind, id;
    in >> kind >> id;
    long long number = 0;
    if (!parse_int(id, number) || number <= 1) continue;
    if (kind == "slurm") {
      if (in_path("scancel")) {
        const CommandResult r = run_command({"scancel", id});
        if (r.status == 0) {
          wait_slurm_gone(id, 30);
          done.push_back("Slurm job " + id);
        }
      }
    } else if ((kind == "local" || kind == "parallel") && alive(pid_t(number)) &&
               process_is_ours(pid_t(number), workdir)) {
      // A local job is a process group (bash and its command); parallel is asked to stop its jobs.
      if (kind == "local")
        groups.push_back(pid_t(number));
      else
        processes.push_back(pid_t(number));
      done.push_back(cat(kind == "local" ? "local job process group " : "GNU parallel ", number));
    }
  }
  for (pid_t g : groups) ::kill(-g, SIGTERM);
  for (pid_t p : processes) ::kill(p, SIGTERM);
  const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  auto any_alive = [&] {
    for (pid_t g : groups)
      if (::kill(-g, 0) == 0) return true;
    for (pid_t p : processes)
      if (alive(p)) return true;
    return false;
  };
  while (any_alive() && std::chrono::steady_clock::now() < end) sleep_seconds(0.05);
  for (pid_t g : groups) ::kill(-g, SIGKILL);
  for (pid_t p : processes) ::kill(-p, SIGKILL);
  std::error_code ec;
  fs::remove(path, ec);
  std::string text;
  for (const auto& d : done) text += (text.empty() ? "" : ", ") + d;
  return text;
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\'') {
      const std::size_t close = text.find('\'', i + 1);
      if (close == std::string::npos) throw UsageError(cat("unbalanced ' in '", text, "'"));
      word += text.substr(i + 1, close - i - 1);
      i = close;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size() && std::strchr("\"\\$`", text[j + 1])) ++j;
        word += text[j];
      }
      if (j >= text.size()) throw UsageError(cat("unbalanced \" in '", text, "'"));
      i = j;
      in_word = true;
    } else if (c == '\\' && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c == ' ' || c == '\t' || c == '\n') {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

std::string shell_quote(const std::string& word) {
  if (!word.empty() && word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-+=./:,@%") == std::string::npos)
    return word;
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

CommandResult run_command(const std::vector<std::string>& argv) {
  std::vector<std::string> words = argv;
  std::vector<char*> args = c_argv(words);
  int out_pipe[2], err_pipe[2];
  if (::pipe(out_pipe) != 0 || ::pipe(err_pipe) != 0)
    throw Error(cat("pipe: ", std::strerror(errno)));
  const pid_t pid = ::fork();
  if (pid < 0) throw Error(cat("cannot start ", argv[0], ": ", std::strerror(errno)));
  if (pid == 0) {
    const int null_in = ::open("/dev/null", O_RDONLY);
    if (null_in >= 0) ::dup2(null_in, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  CommandResult result;
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  std::string* sinks[2] = {&result.out, &result.err};
  int open_fds = 2;
  char buffer[4096];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::read(fds[k].fd, buffer, sizeof buffer);
      if (n > 0) {
        sinks[k]->append(buffer, std::size_t(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace fg::jobs
