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
// fails before any long work starts. A device or pipe is only checked for
// permission there and opened when first written: opening a named pipe
// blocks until its reader comes, and opening and closing it would hand that
// reader an empty file. Temporaries are named
// .<name>.tmp.<host>.<pid>.<random>; those of dead processes on this host
// (kill -9, power loss) are removed when a later run writes the same target.
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
  // commit() in two steps, for OutputSet: finish() flushes, closes and
  // checks for write errors; publish() renames onto the target.
  void finish();
  void publish();

 private:
  void open_direct();
  std::string path_;
  std::string target_;   // path_ with symbolic links resolved: what commit() replaces
  bool direct_ = false;  // an existing device or pipe, written in place
  bool binary_ = true;   // the open mode of a direct output, opened when first written
  std::string temp_path_;
  std::unique_ptr<std::ofstream> file_;
  int temp_slot_ = -1;  // entry in the interrupt clean-up table
  bool finished_ = false;
  bool committed_ = false;
};

// Installs the handlers that remove AtomicOutput temporaries on SIGINT, SIGTERM,
// SIGHUP and SIGPIPE (the first AtomicOutput does it too). A program that handles
// some of those signals itself calls this first, then installs its own, so that
// they are not replaced later.
void install_cleanup_handlers();

// The outputs of one run, committed together: nothing replaces an earlier
// output until every output of the run was written without error. add()
// reserves a staging file beside the target (created at once, so an
// unwritable output fails before the work) and returns the path to write it
// at; the stage's own writer may be anything that writes a path (atomically
// or not). commit() renames every stage onto its target; destroyed before
// that, the stages are removed and the targets stay as they were. Devices,
// pipes and "-" cannot be staged: add() returns them unchanged and they are
// written through. The same target given twice is a usage error.
class OutputSet {
 public:
  OutputSet() = default;
  ~OutputSet();
  OutputSet(const OutputSet&) = delete;
  OutputSet& operator=(const OutputSet&) = delete;

  // `what` names the output in messages ("--table").
  std::string add(const std::string& path, const std::string& what = "");
  // Renames all stages onto their targets, in the order they were added.
  void commit();

 private:
  struct Stage {
    std::string path, target, stage, what;
    int slot = -1;
    bool done = false;
  };
  std::vector<Stage> stages_;
};

// True for an output that is written in place rather than atomically: "-"
// (stdout), and an existing device or pipe (/dev/stdout, /dev/null, a FIFO).
bool writes_through(const std::string& path);

// The file a write to `path` replaces: a symbolic link to a file resolved.
std::string output_target(const std::string& path);

// A new hidden temporary name beside `target`, ".<name>.tmp.<host>.<pid>.<random>",
// after removing the temporaries of `target` left by dead processes of this
// host (files or folders).
std::string temp_path_beside(const std::string& target);

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

// Fails with a clear message if `path` cannot be created or replaced. A
// device or pipe is checked for permission only (never opened).
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
