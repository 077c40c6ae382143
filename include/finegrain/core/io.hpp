// Files: atomic outputs, inputs that may be stdin, exact number formatting.
#pragma once

#include <cstdint>
#include <fstream>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

namespace fg {

// An output written atomically: data goes to a temporary file beside the
// target and is renamed onto it by commit(). Destroyed (or interrupted by
// SIGINT/SIGTERM) before commit, it removes the temporary file, so a failed
// stage never leaves a file that looks valid. "-" writes to stdout directly,
// and so does a target that exists but is not a regular file (/dev/stdout,
// /dev/null, a named pipe): renaming onto those would replace the device.
// A symbolic link to a file stays a link: the file it points to is replaced.
// The temporary file is created in the constructor, so an unwritable target
// fails before any long work starts.
class AtomicOutput {
 public:
  explicit AtomicOutput(const std::string& path, bool binary = true);
  ~AtomicOutput();
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  std::ostream& stream();
  // The target path as the user gave it ("-" for stdout).
  const std::string& path() const { return path_; }
  bool is_stdout() const { return path_ == "-"; }
  // A regular file, written atomically; seekable, so a header can be
  // patched after the data is written. False for stdout, devices and pipes.
  bool is_file() const { return !is_stdout() && !direct_; }
  // Flushes, checks for write errors, renames onto the target.
  void commit();

 private:
  std::string path_;
  std::string target_;     // path_ with symbolic links resolved: what commit() replaces
  bool direct_ = false;    // an existing device or pipe, written in place
  std::string temp_path_;
  std::unique_ptr<std::ofstream> file_;
  int temp_slot_ = -1;  // entry in the interrupt clean-up table
  bool committed_ = false;
};

// Installs the handlers that remove AtomicOutput temporaries on SIGINT, SIGTERM,
// SIGHUP and SIGPIPE (the first AtomicOutput does it too). A program that handles
// some of those signals itself calls this first, then installs its own, so that
// they are not replaced later.
void install_cleanup_handlers();

// An input file, or stdin for "-". Fails with a clear message when missing.
class Input {
 public:
  explicit Input(const std::string& path, bool binary = true);
  std::istream& stream();
  const std::string& path() const { return path_; }
  // For messages: the path, or "<stdin>".
  std::string name() const { return path_ == "-" ? "<stdin>" : path_; }

 private:
  std::string path_;
  std::unique_ptr<std::ifstream> file_;
};

// What a file seems to be, judging by its first bytes, for error messages:
// "gzip data", "a LIBSVM text file", "a CSV text file", "a JPEG image", ...
std::string describe_content(const std::string& first_bytes);

// Fails with a clear message if `path` cannot be created or replaced.
void check_writable(const std::string& path);

// The shortest text that reads back to exactly the same value, "C" locale.
std::string format_double(double value);
std::string format_float(float value);

// Parses a whole token as a number; false if it is not one (no locale).
bool parse_float(const std::string& token, float& value);
bool parse_double(const std::string& token, double& value);
bool parse_int(const std::string& token, long long& value);

// Reads a whole text file into lines (without line ends, CR stripped).
std::vector<std::string> read_lines(const std::string& path);

}  // namespace fg
