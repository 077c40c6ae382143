// The image decoder: any bytes give an 8-bit BGR image or a problem, never
// a crash; and a JPEG that decodes cleanly gives exactly cv::imdecode's
// pixels, whether libjpeg-turbo's direct route or OpenCV's decoded it.
#include <opencv2/imgcodecs.hpp>

#include "finegrain/extract/image.hpp"
#include "fuzz_util.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  fuzz::scratch_dir();  // quiet logging
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::string problem, damage;
  // A small pixel limit keeps each input fast (a header can claim any size).
  const cv::Mat img = fg::decode_image(bytes, 1 << 20, problem, &damage);
  if (!problem.empty()) {
    FUZZ_CHECK(img.empty());
    return 0;
  }
  FUZZ_CHECK(!img.empty() && img.type() == CV_8UC3);
  // Clean JPEGs only: on corrupt data libjpeg's output is not repeatable
  // (two cv::imdecode calls on one such input gave different pixels).
  if (damage.empty() && size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF) {
    const cv::Mat reference = cv::imdecode(
        cv::Mat(1, int(size), CV_8U, const_cast<std::uint8_t*>(data)), cv::IMREAD_COLOR);
    FUZZ_CHECK(reference.size() == img.size() && cv::norm(reference, img, cv::NORM_INF) == 0);
  }
  return 0;
}
