#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
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
  CHECK_THROWS_WITH_AS(AtomicOutput("/nonexistent-dir/x.fgt"), doctest::Contains("/nonexistent-dir/x.fgt: cannot write"),
                       Error);
}

TEST_CASE("io: describe_content recognises common mistakes") {
  CHECK(describe_content("\x1f\x8b\x08") == "gzip data (decompress it first)");
  CHECK(describe_content("\xff\xd8\xff\xe0") == "a JPEG image");
  CHECK(describe_content("key,label,f1\n") .find("CSV") != std::string::npos);
  CHECK(describe_content("1 1:0.5\n").find("LIBSVM") != std::string::npos);
}

