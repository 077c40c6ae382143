// Errors and logging shared by the library and every fg-* program.
#pragma once

#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fg {

// The library's version, as `--version` prints it.
const char* version();

// An error the user can act on: bad input, a missing file, a wrong format.
// The message is one line and names the file (and record) concerned.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A command-line mistake (missing argument, bad option value): exit status 2.
class UsageError : public Error {
 public:
  using Error::Error;
};

// Concatenates anything streamable into one string: cat("record ", 3, ": bad").
template <class... Parts>
std::string cat(const Parts&... parts) {
  std::ostringstream out;
  out.imbue(std::locale::classic());
  (out << ... << parts);
  return out.str();
}

// Multi-line library text (OpenCV's exception messages) as one line.
std::string one_line(const std::string& text);

// Logging to stderr, prefixed with the program name. Data never goes here.
namespace log {
enum class Level { quiet = 0, normal = 1, verbose = 2 };
void set_program(const std::string& name);
const std::string& program();
void set_level(Level level);
Level level();
void info(const std::string& message);    // normal and verbose
void detail(const std::string& message);  // verbose only
void warn(const std::string& message);    // unless quiet
// Text as it is (no prefix, no newline added; the progress line), written
// whole under the same lock as the lines above.
void write_raw(const std::string& text);

// Runs `work` with the process's stderr (file descriptor 2) sent to a buffer
// instead, and returns what was written there. The C libraries OpenCV
// decodes images with (libjpeg, libpng, libtiff, libwebp) print their
// warnings and errors on stderr themselves, with no hook to route them; this
// turns them into text a caller can put in a one-line message naming the
// file. The functions above wait meanwhile (they share a lock), so no line
// of ours is captured. Calls are serialised; keep `work` short. When no
// buffer can be made (no memfd), `work` runs uncaptured and "" is returned.
std::string capture_stderr(const std::function<void()>& work);
}  // namespace log

}  // namespace fg
