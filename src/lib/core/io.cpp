#include "finegrain/core/io.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
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

std::string temp_name_for(const std::string& path) {
  fs::path target(path);
  std::random_device device;
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".tmp.%d.%08x", static_cast<int>(::getpid()),
                static_cast<unsigned>(device()));
  fs::path temp = target.parent_path() / ("." + target.filename().string() + suffix);
  return temp.string();
}

}  // namespace

AtomicOutput::AtomicOutput(const std::string& path, bool binary) : path_(path) {
  if (path.empty()) throw Error("empty output path");
  if (is_stdout()) return;
  std::error_code error;
  const fs::file_status status = fs::status(path, error);  // follows links
  if (fs::is_directory(status)) throw Error(cat(path, ": is a directory, expected a file path"));
  auto mode = std::ios::out | std::ios::trunc | (binary ? std::ios::binary : std::ios::openmode{});
  direct_ = fs::exists(status) && !fs::is_regular_file(status);
  if (direct_) {
    file_ = std::make_unique<std::ofstream>(path, mode);
    if (!*file_) throw Error(cat(path, ": cannot write here (", std::strerror(errno), ")"));
    return;
  }
  target_ = path;
  if (fs::is_symlink(fs::symlink_status(path, error)) && fs::exists(status)) {
    const fs::path resolved = fs::canonical(path, error);
    if (!error) target_ = resolved.string();
  }
  temp_path_ = temp_name_for(target_);
  file_ = std::make_unique<std::ofstream>(temp_path_, mode);
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
}

std::ostream& AtomicOutput::stream() { return is_stdout() ? std::cout : *file_; }

void AtomicOutput::commit() {
  if (committed_) return;
  if (is_stdout()) {
    std::cout.flush();
    if (!std::cout) throw Error("<stdout>: write failed");
    committed_ = true;
    return;
  }
  file_->flush();
  bool ok = static_cast<bool>(*file_);
  file_->close();
  if (direct_) {
    if (!ok || file_->fail()) throw Error(cat(path_, ": write failed"));
    committed_ = true;
    return;
  }
  if (!ok || file_->fail()) throw Error(cat(path_, ": write failed (disk full?)"));
  std::error_code error;
  fs::rename(temp_path_, target_, error);
  if (error) throw Error(cat(path_, ": cannot replace: ", error.message()));
  unregister_temp(temp_slot_);
  committed_ = true;
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
  if (line.find(',') != std::string::npos) return "a CSV text file (convert it with fg-convert --from csv)";
  if (line.find('\t') != std::string::npos) return "a tab-separated text file";
  return "a text file";
}

void install_cleanup_handlers() { std::call_once(g_handlers_installed, install_handlers); }

void check_writable(const std::string& path) { AtomicOutput probe(path); }

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
    lines.push_back(std::move(line));
  }
  if (in.stream().bad()) throw Error(cat(in.name(), ": read error"));
  return lines;
}

}  // namespace fg

