// Image loading: the fixture blob from the JPEG, bad files as problems.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
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
