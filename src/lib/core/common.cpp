#include "finegrain/core/common.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <mutex>

namespace fg {

const char* version() {
#ifdef FG_VERSION
  return FG_VERSION;
#else
  return "unknown";
#endif
}

std::string one_line(const std::string& text) {
  std::string out;
  bool space = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch == '\n' || ch == '\r' || ch == '\t' || ch == ' ') {
      space = !out.empty();
      if (ch == '\n' && i + 1 < text.size() && text[i + 1] == '>')
        ++i;  // OpenCV's "> " continuation
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += ch;
  }
  return out;
}

namespace log {
namespace {
std::string g_program = "finegrain";
Level g_level = Level::normal;
std::mutex g_stderr;  // one writer of fd 2 at a time: a line, or a capture

void write_line(const char* kind, const std::string& message) {
  std::lock_guard<std::mutex> lock(g_stderr);
  std::cerr << g_program << ": " << kind << message << '\n';
}
}  // namespace

void set_program(const std::string& name) { g_program = name; }
const std::string& program() { return g_program; }
void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

void info(const std::string& message) {
  if (g_level >= Level::normal) write_line("", message);
}
void detail(const std::string& message) {
  if (g_level >= Level::verbose) write_line("", message);
}
void warn(const std::string& message) {
  if (g_level >= Level::normal) write_line("warning: ", message);
}
void write_raw(const std::string& text) {
  std::lock_guard<std::mutex> lock(g_stderr);
  std::fwrite(text.data(), 1, text.size(), stderr);
  std::fflush(stderr);
}

std::string capture_stderr(const std::function<void()>& work) {
  std::lock_guard<std::mutex> lock(g_stderr);
  // One in-memory file for the whole run, emptied before each capture.
  static const int sink = ::memfd_create("fg-library-messages", MFD_CLOEXEC);
  const int saved = sink < 0 ? -1 : ::dup(STDERR_FILENO);
  // (Emptied and rewound: the offset is shared with fd 2 while it points there.)
  if (saved < 0 || ::ftruncate(sink, 0) != 0 || ::lseek(sink, 0, SEEK_SET) != 0 ||
      ::dup2(sink, STDERR_FILENO) < 0) {
    if (saved >= 0) ::close(saved);
    work();
    return "";
  }
  struct Restore {  // also when `work` throws
    int saved;
    ~Restore() {
      std::fflush(stderr);
      ::dup2(saved, STDERR_FILENO);
      ::close(saved);
    }
  };
  {
    Restore restore{saved};
    work();
  }
  // The libraries print a line or two; more is not worth quoting.
  std::string text(4096, '\0');
  const ssize_t got = ::pread(sink, &text[0], text.size(), 0);
  text.resize(got > 0 ? std::size_t(got) : 0);
  return text;
}
}  // namespace log

}  // namespace fg
