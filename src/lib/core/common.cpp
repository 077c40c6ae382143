#include "finegrain/core/common.hpp"

#include <iostream>

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
}  // namespace

void set_program(const std::string& name) { g_program = name; }
const std::string& program() { return g_program; }
void set_level(Level level) { g_level = level; }
Level level() { return g_level; }

void info(const std::string& message) {
  if (g_level >= Level::normal) std::cerr << g_program << ": " << message << '\n';
}
void detail(const std::string& message) {
  if (g_level >= Level::verbose) std::cerr << g_program << ": " << message << '\n';
}
void warn(const std::string& message) {
  if (g_level >= Level::normal) std::cerr << g_program << ": warning: " << message << '\n';
}
}  // namespace log

}  // namespace fg
