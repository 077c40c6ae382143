#include "finegrain/core/io.hpp"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <limits>
#include <mutex>
#include <random>
#include <vector>

#include "finegrain/core/common.hpp"

namespace fs = std::filesystem;

namespace fg {

// Temporary files that an interrupt must remove. A fixed table of plain
// char buffers, because the signal handler may only call unlink().
namespace {
constexpr int kMaxTemps = 64;
constexpr int kMaxPath = 4096;
char g_temps[kMaxTemps][kMaxPath];
std::atomic<bool> g_temp_used[kMaxTemps];
std::mutex g_temps_mutex;
std::once_flag g_handlers_installed;

void remove_temps_and_die(int signal) {
  for (int i = 0; i < kMaxTemps; ++i)
    if (g_temp_used[i].load()) ::unlink(g_temps[i]);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

void install_handlers() {
  for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) {
    struct sigaction action {};
    action.sa_handler = remove_temps_and_die;
    sigemptyset(&action.sa_mask);
    sigaction(sig, &action, nullptr);
  }
}

int register_temp(const std::string& path) {
  std::call_once(g_handlers_installed, install_handlers);
  std::lock_guard<std::mutex> lock(g_temps_mutex);
  for (int i = 0; i < kMaxTemps; ++i) {
    if (!g_temp_used[i].load() && path.size() < kMaxPath) {
      std::memcpy(g_temps[i], path.c_str(), path.size() + 1);
      g_temp_used[i].store(true);
      return i;
    }
  }
  return -1;  // not tracked: still removed by the destructor
}

void unregister_temp(int slot) {
  if (slot >= 0) g_temp_used[slot].store(false);
}

std::string host_name() {
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) != 0 || name[0] == 0) return "localhost";
  return name;
}

bool process_is_dead(long long pid) {
  if (pid <= 0 || pid > std::numeric_limits<pid_t>::max()) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

// Removes ".<name>.tmp.<host>.<pid>.<random>" (and the older
// ".<name>.tmp.<pid>.<random>") left beside `target` by a dead process of
// this host. Others' temporaries, and live processes', are left alone.
void remove_stale_temps(const fs::path& dir, const std::string& name) {
  const std::string prefix = "." + name + ".tmp.";
  const std::string host = host_name();
  std::error_code error;
  fs::directory_iterator it(dir.empty() ? fs::path(".") : dir, error), end;
  for (; !error && it != end; it.increment(error)) {
    const std::string entry = it->path().filename().string();
    if (entry.compare(0, prefix.size(), prefix) != 0) continue;
    std::string rest = entry.substr(prefix.size());  // [host.]pid.random
    const std::size_t random_dot = rest.rfind('.');
    if (random_dot == std::string::npos) continue;
    rest.resize(random_dot);
    const std::size_t pid_dot = rest.rfind('.');
    const std::string pid_text = pid_dot == std::string::npos ? rest : rest.substr(pid_dot + 1);
    const std::string its_host = pid_dot == std::string::npos ? host : rest.substr(0, pid_dot);
    long long pid = 0;
    if (its_host != host || !parse_int(pid_text, pid) || !process_is_dead(pid)) continue;
    std::error_code ignored;
    if (fs::remove_all(it->path(), ignored) > 0)
      log::detail(
          cat(it->path().string(), ": removed, the temporary of a run that died (pid ", pid, ")"));
  }
}

}  // namespace

std::string temp_path_beside(const std::string& path) {
  const fs::path target(path);
  remove_stale_temps(target.parent_path(), target.filename().string());
  std::random_device device;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%d.%08x", static_cast<int>(::getpid()),
                static_cast<unsigned>(device()));
  const std::string name = "." + target.filename().string() + ".tmp." + host_name() + suffix;
  return (target.parent_path() / name).string();
}

bool writes_through(const std::string& path) {
  if (path == "-") return true;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // follows links
  return fs::exists(status) && !fs::is_regular_file(status) && !fs::is_directory(status);
}

std::string output_target(const std::string& path) {
  std::error_code error;
  if (fs::is_symlink(fs::symlink_status(path, error)) && fs::exists(fs::status(path, error))) {
    const fs::path resolved = fs::canonical(path, error);
    if (!error) return resolved.string();
  }
  return path;
}

namespace {}  // namespace

namespace {
// A device or pipe: may we write it? access() rather than open(), which on a
// named pipe would block for a reader, or hand a waiting reader an empty file.
void check_direct_writable(const std::string& path) {
  if (::access(path.c_str(), W_OK) != 0)
    throw Error(cat(path, ": cannot write here (", std::strerror(errno), ")"));
}
}  // namespace

AtomicOutput::AtomicOutput(const std::string& path, bool binary) : path_(path) {
  if (path.empty()) throw Error("empty output path");
  if (is_stdout()) return;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // follows links
  if (fs::is_directory(status)) throw Error(cat(path, ": is a directory, expected a file path"));
  auto mode = std::ios::out | std::ios::trunc | (binary ? std::ios::binary : std::ios::openmode{});
  direct_ = writes_through(path);
  file_ = std::make_unique<std::ofstream>();
  if (direct_) {
    check_direct_writable(path);
    binary_ = binary;
    return;
  }
  target_ = output_target(path);
  temp_path_ = temp_path_beside(target_);
  file_->open(temp_path_, mode);
  if (!*file_) {
    throw Error(cat(path, ": cannot write here (", std::strerror(errno), ")"));
  }
  temp_slot_ = register_temp(temp_path_);
}

AtomicOutput::~AtomicOutput() {
  if (!committed_ && !temp_path_.empty()) {
    file_.reset();
    std::error_code ignored;
    fs::remove(temp_path_, ignored);
    unregister_temp(temp_slot_);
  }
  if (!committed_ && direct_ && !file_->is_open()) {
    // Never written: a reader already waiting on a named pipe gets its end
    // of file now instead of waiting for ever (O_NONBLOCK: no reader, no wait).
    const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK);
    if (fd >= 0) ::close(fd);
  }
}

void AtomicOutput::open_direct() {
  if (file_->is_open() || finished_) return;
  file_->open(
      path_, std::ios::out | std::ios::trunc | (binary_ ? std::ios::binary : std::ios::openmode{}));
  if (!*file_) throw Error(cat(path_, ": cannot write here (", std::strerror(errno), ")"));
}

std::ostream& AtomicOutput::stream() {
  if (is_stdout()) return std::cout;
  if (direct_) open_direct();
  return *file_;
}

void AtomicOutput::finish() {
  if (finished_ || committed_) return;
  if (is_stdout()) {
    std::cout.flush();
    if (!std::cout) throw Error("<stdout>: write failed");
    finished_ = true;
    return;
  }
  if (direct_) open_direct();  // nothing written: still open, so a pipe's reader sees an empty file
  file_->flush();
  bool ok = static_cast<bool>(*file_);
  file_->close();
  if (!ok || file_->fail())
    throw Error(cat(path_, direct_ ? ": write failed" : ": write failed (disk full?)"));
  finished_ = true;
}

void AtomicOutput::publish() {
  if (committed_) return;
  if (!finished_) throw std::logic_error("AtomicOutput::publish before finish");
  if (!direct_ && !is_stdout()) {
    std::error_code error;
    fs::rename(temp_path_, target_, error);
    if (error) throw Error(cat(path_, ": cannot replace: ", error.message()));
    unregister_temp(temp_slot_);
  }
  committed_ = true;
}

void AtomicOutput::commit() {
  finish();
  publish();
}

OutputSet::~OutputSet() {
  for (const Stage& s : stages_) {
    if (s.done || s.stage.empty()) continue;
    std::error_code ignored;
    fs::remove(s.stage, ignored);
    unregister_temp(s.slot);
  }
}

std::string OutputSet::add(const std::string& path, const std::string& what) {
  const std::string name = what.empty() ? path : cat(path, " (", what, ")");
  if (path.empty())
    throw UsageError(cat(what.empty() ? std::string("an output") : what, ": empty path"));
  Stage s;
  s.path = path;
  s.what = what;
  if (path != "-") {
    std::error_code error;
    if (fs::is_directory(fs::status(path, error)))
      throw Error(cat(path, ": is a directory, expected a file path"));
    s.target = writes_through(path) ? path : output_target(path);
    for (const Stage& other : stages_) {
      std::error_code ignored;
      const bool same = other.target == s.target ||
                        (fs::exists(s.target, ignored) && fs::exists(other.target, ignored) &&
                         fs::equivalent(other.target, s.target, ignored));
      if (same && !other.target.empty())
        throw UsageError(cat(path, ": given for two outputs of the run (",
                             other.what.empty() ? other.path : other.what, " and ",
                             what.empty() ? path : what, ")"));
    }
  }
  if (writes_through(path)) {
    if (path != "-") check_direct_writable(path);
    stages_.push_back(s);
    return path;
  }
  s.stage = temp_path_beside(s.target);
  {
    std::ofstream probe(s.stage, std::ios::out | std::ios::trunc | std::ios::binary);
    if (!probe) throw Error(cat(path, ": cannot write here (", std::strerror(errno), ")"));
  }
  s.slot = register_temp(s.stage);
  stages_.push_back(s);
  return stages_.back().stage;
}

void OutputSet::commit() {
  // Every stage must be there, complete (its writer committed it); only then
  // does any target change.
  for (const Stage& s : stages_) {
    std::error_code error;
    if (!s.stage.empty() && !fs::is_regular_file(s.stage, error))
      throw Error(cat(s.path, ": was not written"));
  }
  for (Stage& s : stages_) {
    if (s.stage.empty()) {
      s.done = true;
      continue;
    }
    std::error_code error;
    fs::rename(s.stage, s.target, error);
    if (error) throw Error(cat(s.path, ": cannot replace: ", error.message()));
    unregister_temp(s.slot);
    s.done = true;
  }
}

Input::Input(const std::string& path, bool binary) : path_(path) {
  if (path == "-") return;
  if (fs::is_directory(path)) throw Error(cat(path, ": is a directory, expected a file"));
  auto mode = std::ios::in | (binary ? std::ios::binary : std::ios::openmode{});
  file_ = std::make_unique<std::ifstream>(path, mode);
  if (!*file_) throw Error(cat(path, ": cannot open (", std::strerror(errno), ")"));
}

std::istream& Input::stream() { return file_ ? *file_ : std::cin; }

std::string describe_content(const std::string& bytes) {
  auto starts = [&](const char* magic, std::size_t n) {
    return bytes.size() >= n && std::memcmp(bytes.data(), magic, n) == 0;
  };
  if (bytes.empty()) return "an empty file";
  if (starts("\x1f\x8b", 2)) return "gzip data (decompress it first)";
  if (starts("\xff\xd8\xff", 3)) return "a JPEG image";
  if (starts("\x89PNG", 4)) return "a PNG image";
  if (starts("PK\x03\x04", 4)) return "a zip archive";
  if (starts("\x93NUMPY", 6)) return "a NumPy .npy file";
  if (starts("FGTABLE\n", 8)) return "a finegrain feature table";
  if (starts("\x08", 1) || starts("ONNX", 4)) return "binary data (a model file?)";
  // Text: judge by the first line.
  std::string line = bytes.substr(0, bytes.find('\n'));
  bool printable = true;
  for (unsigned char ch : line)
    if (ch < 9 || (ch > 13 && ch < 32)) printable = false;
  if (!printable) return "binary data of an unknown kind";
  if (line.find(':') != std::string::npos && line.find(',') == std::string::npos)
    return "a LIBSVM text file (convert it with fg-convert --from libsvm)";
  if (line.find(',') != std::string::npos)
    return "a CSV text file (convert it with fg-convert --from csv)";
  if (line.find('\t') != std::string::npos) return "a tab-separated text file";
  return "a text file";
}

void install_cleanup_handlers() { std::call_once(g_handlers_installed, install_handlers); }

void check_writable(const std::string& path) {
  if (path != "-" && writes_through(path)) return check_direct_writable(path);
  AtomicOutput probe(path);
}

std::string format_double(double value) {
  char buffer[40];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;
  return std::string(buffer, end);
}

std::string format_float(float value) {
  char buffer[40];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  (void)error;
  return std::string(buffer, end);
}

namespace {
template <class T>
bool parse_whole(const std::string& token, T& value) {
  if (token.empty()) return false;
  const char* begin = token.data();
  if (*begin == '+') ++begin;  // from_chars rejects a leading '+'
  auto [end, error] = std::from_chars(begin, token.data() + token.size(), value);
  return error == std::errc() && end == token.data() + token.size();
}
}  // namespace

bool parse_float(const std::string& token, float& value) { return parse_whole(token, value); }
bool parse_double(const std::string& token, double& value) { return parse_whole(token, value); }
bool parse_int(const std::string& token, long long& value) { return parse_whole(token, value); }

std::vector<std::string> read_lines(const std::string& path) {
  Input in(path, false);
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in.stream(), line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (lines.empty() && line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
      // A UTF-8 byte-order mark (Windows editors add one): not part of the text.
      line.erase(0, 3);
      log::detail(cat(in.name(), ": UTF-8 byte-order mark at the start ignored"));
    }
    lines.push_back(std::move(line));
  }
  if (in.stream().bad()) throw Error(cat(in.name(), ": read error"));
  return lines;
}

}  // namespace fg
