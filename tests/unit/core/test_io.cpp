#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using namespace fg;

TEST_CASE("io: numbers print in a form that reads back exactly") {
  for (double value : {0.1, 1.0 / 3.0, 1e-300, -2.5e17, 123456789.123456789}) {
    double back = 0;
    REQUIRE(parse_double(format_double(value), back));
    CHECK(back == value);
  }
  for (float value : {0.1f, 1.0f / 3.0f, 1e-38f, -3.4e38f, 16777217.0f}) {
    float back = 0;
    REQUIRE(parse_float(format_float(value), back));
    CHECK(back == value);
  }
  CHECK(format_double(0.5) == "0.5");
  float ignored;
  CHECK(!parse_float("1.5x", ignored));
  CHECK(!parse_float("", ignored));
  CHECK(parse_float("+2", ignored));
  long long integer;
  CHECK(!parse_int("3.0", integer));
}

TEST_CASE("io: an atomic output appears only on commit") {
  TempDir dir;
  std::string path = dir.file("a.txt");
  {
    AtomicOutput out(path, false);
    out.stream() << "hello\n";
    CHECK(!fs::exists(path));
    out.commit();
  }
  CHECK(read_bytes(path) == "hello\n");
  {
    AtomicOutput out(path, false);
    out.stream() << "half";
  }  // not committed: the old file stays, no temporary is left
  CHECK(read_bytes(path) == "hello\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("io: a named pipe or a link is written through, never replaced") {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string received;
  std::thread reader([&] { received = read_bytes(fifo); });
  {
    AtomicOutput out(fifo, false);  // opening a pipe waits for its reader
    CHECK(!out.is_file());
    out.stream() << "through the pipe\n";
    out.commit();
  }
  // Had the pipe been replaced rather than opened, the reader would still be
  // waiting for a writer: this open (which never blocks) releases it.
  const int unblock = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  if (unblock >= 0) ::close(unblock);
  reader.join();
  CHECK(received == "through the pipe\n");
  CHECK(fs::is_fifo(fifo));

  const std::string real = dir.file("real.txt"), link = dir.file("link.txt");
  write_bytes(real, "old\n");
  fs::create_symlink(real, link);
  {
    AtomicOutput out(link, false);
    CHECK(out.is_file());
    out.stream() << "new\n";
    out.commit();
  }
  CHECK(fs::is_symlink(link));
  CHECK(read_bytes(real) == "new\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 3);
}

TEST_CASE("io: an unwritable output fails at once with the path") {
  CHECK_THROWS_WITH_AS(AtomicOutput("/nonexistent-dir/x.fgt"),
                       doctest::Contains("/nonexistent-dir/x.fgt: cannot write"), Error);
}

TEST_CASE("io: describe_content recognises common mistakes") {
  CHECK(describe_content("\x1f\x8b\x08") == "gzip data (decompress it first)");
  CHECK(describe_content("\xff\xd8\xff\xe0") == "a JPEG image");
  CHECK(describe_content("key,label,f1\n").find("CSV") != std::string::npos);
  CHECK(describe_content("1 1:0.5\n").find("LIBSVM") != std::string::npos);
}

TEST_CASE("io: an output set replaces nothing until every output was written") {
  TempDir dir;
  const std::string a = dir.file("a.txt"), b = dir.file("b.txt");
  write_bytes(a, "old a\n");
  write_bytes(b, "old b\n");
  {
    OutputSet outputs;
    const std::string stage_a = outputs.add(a, "first");
    const std::string stage_b = outputs.add(b, "second");
    CHECK(stage_a != a);
    AtomicOutput out_a(stage_a, false);
    out_a.stream() << "new a\n";
    out_a.commit();
    CHECK(read_bytes(a) == "old a\n");  // staged, not yet in place
    // The second output is never written (its writer failed): nothing moves.
  }
  CHECK(read_bytes(a) == "old a\n");
  CHECK(read_bytes(b) == "old b\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
  {
    OutputSet outputs;
    AtomicOutput out_a(outputs.add(a), false), out_b(outputs.add(b), false);
    out_a.stream() << "new a\n";
    out_b.stream() << "new b\n";
    out_a.commit();
    out_b.commit();
    outputs.commit();
  }
  CHECK(read_bytes(a) == "new a\n");
  CHECK(read_bytes(b) == "new b\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 2);
  // A device is written through, and its failure stops the commit.
  {
    OutputSet outputs;
    CHECK(outputs.add("/dev/full") == "/dev/full");
    AtomicOutput full("/dev/full", false);
    full.stream() << std::string(1 << 16, 'x');
    CHECK_THROWS_WITH_AS(full.commit(), doctest::Contains("/dev/full: write failed"), Error);
  }
  OutputSet twice;
  twice.add(a, "--table");
  CHECK_THROWS_WITH_AS(twice.add(a, "the model"), doctest::Contains("given for two outputs"),
                       UsageError);
}

TEST_CASE("io: checking a named pipe does not open it") {
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  check_writable(fifo);  // returned: it did not wait for a reader (nor give one an empty file)
  OutputSet outputs;
  CHECK(outputs.add(fifo) == fifo);
  CHECK(writes_through(fifo));
  CHECK(!writes_through(dir.file("plain.txt")));
}

TEST_CASE("io: temporaries of dead processes are removed, others kept") {
  TempDir dir;
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  REQUIRE(child > 0);
  ::waitpid(child, nullptr, 0);  // a pid that is no longer running
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string dead = dir.file(cat(".t.fgt.tmp.", host, ".", child, ".00c0ffee"));
  const std::string old_style = dir.file(cat(".t.fgt.tmp.", child, ".00c0ffee"));
  const std::string live = dir.file(cat(".t.fgt.tmp.", host, ".", ::getpid(), ".00c0ffee"));
  const std::string elsewhere = dir.file(cat(".t.fgt.tmp.no-such-host.", child, ".00c0ffee"));
  const std::string other_target = dir.file(cat(".u.fgt.tmp.", host, ".", child, ".00c0ffee"));
  for (const auto& path : {dead, old_style, live, elsewhere, other_target})
    write_bytes(path, "partial");
  AtomicOutput out(dir.file("t.fgt"));
  CHECK(!fs::exists(dead));
  CHECK(!fs::exists(old_style));
  CHECK(fs::exists(live));
  CHECK(fs::exists(elsewhere));
  CHECK(fs::exists(other_target));
}
