// Image loading: the fixture blob from the JPEG, bad files as problems.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/data/convert.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/pooling.hpp"
#include "test_util.hpp"

using namespace fg;
namespace fs = std::filesystem;

TEST_CASE("image: bad files are problems, not crashes; odd formats are converted") {
  TempDir dir;
  std::string problem;
  write_bytes(dir.file("empty.jpg"), "");
  CHECK(load_image(dir.file("empty.jpg"), kDefaultMaxPixels, problem).empty());
  CHECK(problem.find("empty") != std::string::npos);
  write_bytes(dir.file("text.jpg"), "hello, not an image\n");
  CHECK(load_image(dir.file("text.jpg"), kDefaultMaxPixels, problem).empty());
  CHECK(problem.find("not an image") != std::string::npos);
  CHECK(load_image(dir.file("missing.jpg"), kDefaultMaxPixels, problem).empty());
  const std::string jpeg = read_bytes(fixture_image());
  write_bytes(dir.file("trunc.jpg"), jpeg.substr(0, jpeg.size() / 2));
  CHECK(load_image(dir.file("trunc.jpg"), kDefaultMaxPixels, problem).empty());
  CHECK(problem.find("truncated") != std::string::npos);

  // A PNG claiming 100000 x 100000 pixels is refused from its header.
  cv::Mat small(4, 4, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<unsigned char> png;
  cv::imencode(".png", small, png);
  std::string bomb(png.begin(), png.end());
  const unsigned char big[8] = {0, 1, 0x86, 0xA0, 0, 1, 0x86, 0xA0};
  bomb.replace(16, 8, reinterpret_cast<const char*>(big), 8);
  write_bytes(dir.file("bomb.png"), bomb);
  CHECK(load_image(dir.file("bomb.png"), kDefaultMaxPixels, problem).empty());
  CHECK(problem.find("exceeds the limit") != std::string::npos);
  // The limit applies to real images too.
  CHECK(load_image(fixture_image(), 1000, problem).empty());
  // TIFF headers whose first directory lies beyond the file: at 2^32 - 1 (the
  // offset + 2 wrapped around in 32 bits and was read: a crash, found by
  // fuzz_image), or missing altogether.
  for (const std::string& tiff : {std::string("II*\0\xFF\xFF\xFF\xFF\x01\0", 10),
                                  std::string("II*\0", 4), std::string("MM\0*\0\0\x10\0", 8)}) {
    CHECK(decode_image(tiff, kDefaultMaxPixels, problem).empty());
    CHECK(problem.find("not an image OpenCV can decode") != std::string::npos);
  }
  // A JPEG whose size only libjpeg finds in its header (read_image_info's
  // marker walk stops at its bad APP1 length; found by fuzz_image): refused
  // before OpenCV allocates it.
  const std::string hidden =
      read_bytes(source_file("tests/fuzz/regressions/fuzz_image/jpeg-size-only-libjpeg-reads"));
  CHECK(decode_image(hidden, 1 << 20, problem).empty());
  CHECK(problem ==
        "JPEG image of 8961x57599 = 516144639 pixels exceeds the limit of 1048576 (possible "
        "decompression bomb; raise it with --max-pixels)");
  // DICOM ("DICM" at byte 128) is refused before OpenCV's GDCM reader sees
  // it: on this damaged one (found by fuzz_image) GDCM aborts the process.
  const std::string dicom =
      read_bytes(source_file("tests/fuzz/regressions/fuzz_image/dicom-gdcm-abort"));
  REQUIRE(dicom.size() == 185);
  CHECK(decode_image(dicom, kDefaultMaxPixels, problem).empty());
  CHECK(problem == "DICOM file: not supported (OpenCV's DICOM reader can abort on damaged ones)");

  // Grayscale, 16-bit, alpha: all come out 8-bit BGR.
  cv::Mat gray(5, 6, CV_8UC1, cv::Scalar(77));
  cv::imwrite(dir.file("gray.png"), gray);
  cv::Mat g = load_image(dir.file("gray.png"), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  CHECK(g.type() == CV_8UC3);
  CHECK(g.at<cv::Vec3b>(2, 3) == cv::Vec3b(77, 77, 77));
  cv::Mat deep(5, 6, CV_16UC3, cv::Scalar(257 * 10, 257 * 20, 257 * 30));
  cv::imwrite(dir.file("deep.png"), deep);
  cv::Mat d = load_image(dir.file("deep.png"), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  CHECK(d.at<cv::Vec3b>(0, 0) == cv::Vec3b(10, 20, 30));
  cv::Mat rgba(5, 6, CV_8UC4, cv::Scalar(0, 0, 200, 0));  // fully transparent red
  rgba.at<cv::Vec4b>(1, 1) = cv::Vec4b(0, 0, 200, 255);
  cv::imwrite(dir.file("alpha.png"), rgba);
  cv::Mat al = load_image(dir.file("alpha.png"), kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  CHECK(al.at<cv::Vec3b>(0, 0) == cv::Vec3b(255, 255, 255));  // over white
  CHECK(al.at<cv::Vec3b>(1, 1) == cv::Vec3b(0, 0, 200));
}

namespace {
// Runs `work` with stderr (fd 2) in a file of `dir`; returns what went there.
std::string stderr_of(TempDir& dir, const std::function<void()>& work) {
  const std::string path = dir.file("stderr.txt");
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(file >= 0);
  ::dup2(file, 2);
  ::close(file);
  work();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  return read_bytes(path);
}

// A real flowers12 JPEG with eight bytes of its entropy-coded data (the scan
// starts at byte 349) replaced at a fixed offset: libjpeg decodes it with a warning.
std::string corrupt_jpeg() {
  std::string jpeg = read_bytes(test_assets() + "/data/flowers12/train/bluebell/image_0241.jpg");
  REQUIRE(jpeg.size() == 7576);
  jpeg.replace(400, 8, std::string(8, '\xFE'));
  return jpeg;
}
}  // namespace

TEST_CASE("image: decoder messages are captured, never printed (issue 14, defect 13)") {
  TempDir dir;
  // capture_stderr takes C stdio and raw writes, and gives fd 2 back.
  struct stat before {
  }, after{};
  ::fstat(2, &before);
  std::string captured;
  const std::string outside = stderr_of(dir, [&] {
    captured = log::capture_stderr([] {
      std::fprintf(stderr, "libfoo: first\n");
      CHECK(::write(2, "second\n", 7) == 7);
    });
  });
  ::fstat(2, &after);
  CHECK(captured == "libfoo: first\nsecond\n");
  CHECK(outside.empty());
  CHECK((before.st_dev == after.st_dev && before.st_ino == after.st_ino));
  // Each capture starts empty, at the start.
  CHECK(log::capture_stderr([] {}).empty());
  CHECK(log::capture_stderr([] { std::fputs("again\n", stderr); }) == "again\n");

  const std::string clean =
      read_bytes(test_assets() + "/data/flowers12/train/bluebell/image_0241.jpg");
  write_bytes(dir.file("clean.jpg"), clean);
  write_bytes(dir.file("corrupt.jpg"), corrupt_jpeg());
  // A PNG of a real image, cut after 20,000 of its bytes.
  std::vector<unsigned char> png;
  cv::imencode(
      ".png",
      cv::imdecode(cv::Mat(1, int(clean.size()), CV_8U, (void*)clean.data()), cv::IMREAD_COLOR),
      png);
  REQUIRE(png.size() > 40000);
  write_bytes(dir.file("cut.png"), std::string(png.begin(), png.begin() + 20000));

  std::string problem, damage = "stale";
  cv::Mat good, bad, cut;
  const std::string printed = stderr_of(dir, [&] {
    good = load_image(dir.file("clean.jpg"), kDefaultMaxPixels, problem, &damage);
    CHECK(problem.empty());
    CHECK(damage.empty());
    bad = load_image(dir.file("corrupt.jpg"), kDefaultMaxPixels, problem, &damage);
    CHECK(problem.empty());
    CHECK(damage == "decoded with errors (Corrupt JPEG data: premature end of data segment)");
    cut = load_image(dir.file("cut.png"), kDefaultMaxPixels, problem, &damage);
    CHECK(problem ==
          "cannot decode (damaged or unsupported PNG data: libpng error: PNG input buffer is "
          "incomplete)");
    CHECK(damage.empty());
  });
  CHECK(printed.empty());  // libjpeg and libpng said nothing on stderr themselves
  REQUIRE(good.size() == cv::Size(224, 224));
  REQUIRE(bad.size() == good.size());
  CHECK(cv::norm(good, bad, cv::NORM_L1) > 1000);  // damaged indeed: its blocks differ
  CHECK(cut.empty());

  CHECK(parse_on_corrupt("warn") == OnCorrupt::warn);
  CHECK(parse_on_corrupt("skip") == OnCorrupt::skip);
  CHECK_THROWS_AS(parse_on_corrupt("ignore"), UsageError);
  CHECK(to_string(OnCorrupt::skip) == "skip");
}

namespace {
cv::Mat reference_decode(const std::string& bytes) {
  return cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8U, const_cast<char*>(bytes.data())),
                      cv::IMREAD_COLOR);
}

// An APP1 EXIF segment (big-endian TIFF, one IFD entry: orientation) put
// right after the JPEG's SOI marker; `prefix` is its first 6 bytes.
std::string with_orientation(const std::string& jpeg, int orientation,
                             const std::string& prefix = std::string("Exif\0\0", 6)) {
  const std::string tiff = std::string("MM\0*\0\0\0\x08", 8) + std::string("\0\x01", 2) +
                           std::string("\x01\x12\0\x03\0\0\0\x01", 8) +
                           std::string{'\0', char(orientation), '\0', '\0'} +
                           std::string("\0\0\0\0", 4);
  const std::string body = prefix + tiff;
  const std::size_t length = body.size() + 2;
  const std::string segment = std::string("\xFF\xE1", 2) + char(length >> 8) + char(length & 255);
  return jpeg.substr(0, 2) + segment + body + jpeg.substr(2);
}
}  // namespace

TEST_CASE("image: JPEGs decode to exactly cv::imdecode's pixels, rotated and grey ones too") {
  // libjpeg decodes the common JPEG straight to BGR; every image of
  // flowers12 and every 25th of cub100 must come out as OpenCV's decoder has it.
  std::vector<std::string> paths;
  for (const char* dir : {"flowers12/train", "flowers12/test", "cub100/images"})
    for (const auto& d : fs::directory_iterator(test_assets() + "/data/" + dir))
      for (const auto& f : fs::directory_iterator(d.path())) paths.push_back(f.path().string());
  std::sort(paths.begin(), paths.end());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const bool cub = paths[i].find("/cub100/") != std::string::npos;
    if (cub && i % 25) continue;
    const std::string bytes = read_bytes(paths[i]);
    std::string problem, damage;
    const cv::Mat ours = decode_image(bytes, kDefaultMaxPixels, problem, &damage);
    const cv::Mat theirs = reference_decode(bytes);
    CAPTURE(paths[i]);
    REQUIRE(problem.empty());
    REQUIRE(ours.size() == theirs.size());
    CHECK(cv::norm(ours, theirs, cv::NORM_INF) == 0);
    ++compared;
  }
  CHECK(compared > 1100);

  // EXIF orientation 6 (rotate 90 degrees clockwise) and 1 (as stored).
  const std::string jpeg = read_bytes(fixture_image());
  const cv::Mat stored = reference_decode(jpeg);
  std::string problem;
  for (int orientation : {1, 6}) {
    CAPTURE(orientation);
    const std::string tagged = with_orientation(jpeg, orientation);
    const cv::Mat ours = decode_image(tagged, kDefaultMaxPixels, problem);
    const cv::Mat theirs = reference_decode(tagged);
    REQUIRE(problem.empty());
    REQUIRE(ours.size() == theirs.size());
    CHECK(cv::norm(ours, theirs, cv::NORM_INF) == 0);
    if (orientation == 6) {
      CHECK(ours.size() == cv::Size(stored.rows, stored.cols));
      cv::Mat turned;
      cv::rotate(stored, turned, cv::ROTATE_90_CLOCKWISE);
      CHECK(cv::norm(ours, turned, cv::NORM_INF) == 0);
    } else {
      CHECK(cv::norm(ours, stored, cv::NORM_INF) == 0);
    }
  }
  // OpenCV rotates by a TIFF header after any 6 bytes (found by fuzz_image:
  // an "Exib" segment); ours must follow it.
  for (const char* prefix : {"Exib\0\0", "http:/"}) {
    CAPTURE(prefix);
    const std::string tagged = with_orientation(jpeg, 6, std::string(prefix, 6));
    const cv::Mat ours = decode_image(tagged, kDefaultMaxPixels, problem);
    const cv::Mat theirs = reference_decode(tagged);
    REQUIRE(problem.empty());
    REQUIRE(ours.size() == theirs.size());
    CHECK(cv::norm(ours, theirs, cv::NORM_INF) == 0);
  }

  // A greyscale JPEG comes out BGR with equal channels.
  cv::Mat grey;
  cv::cvtColor(stored, grey, cv::COLOR_BGR2GRAY);
  std::vector<unsigned char> encoded;
  cv::imencode(".jpg", grey, encoded);
  const std::string grey_jpeg(encoded.begin(), encoded.end());
  const cv::Mat ours = decode_image(grey_jpeg, kDefaultMaxPixels, problem);
  REQUIRE(problem.empty());
  REQUIRE(ours.type() == CV_8UC3);
  CHECK(cv::norm(ours, reference_decode(grey_jpeg), cv::NORM_INF) == 0);

  // The pixel limit holds on the direct path too (read from the header).
  CHECK(decode_image(jpeg, 1000, problem).empty());
  CHECK(problem.find("exceeds the limit of 1000") != std::string::npos);
}
