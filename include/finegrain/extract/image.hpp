// Image loading and CNN input preparation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "finegrain/extract/model_spec.hpp"

namespace fg {

// Default pixel limit: 100 megapixels (a 10000 x 10000 image). Above it an
// image is refused before decoding (decompression bombs).
inline constexpr std::uint64_t kDefaultMaxPixels = 100'000'000;

struct ImageInfo {
  int width = 0;
  int height = 0;
  std::string format;  // "JPEG", "PNG", ...
};

// Reads width/height from the file header (JPEG, PNG, GIF, BMP, WebP,
// PNM, TIFF) without decoding; nullopt when the format is not one of these
// or the header is damaged.
std::optional<ImageInfo> read_image_info(const std::string& bytes);

// Loads an image as 8-bit BGR (3 channels), whatever it was: grayscale is
// replicated, alpha is composited over white, 16-bit and float are scaled to
// 8 bits, CMYK JPEGs are converted, JPEG EXIF orientation is applied.
// Returns an empty Mat and sets `problem` (one line, no file name) when the
// file can't be used: missing, empty, not an image, truncated, too large.
// The decoder libraries' own messages never reach stderr (see
// log::capture_stderr): when the decoder failed, its message is part of
// `problem`; when it complained but still decoded (a JPEG with corrupt
// entropy-coded data, whose damaged blocks libjpeg fills with grey), the image
// is returned and `*damage` says "decoded with errors (<the decoder's
// message>)", else it is cleared. Callers that pass no `damage` accept such
// images silently: programs pass it and apply --on-corrupt.
cv::Mat load_image(const std::string& path, std::uint64_t max_pixels, std::string& problem,
                   std::string* damage = nullptr);
// The same from bytes already in memory.
cv::Mat decode_image(const std::string& bytes, std::uint64_t max_pixels, std::string& problem,
                     std::string* damage = nullptr);

// What to do with an image that decoded with errors (`--on-corrupt`): use it
// with a warning naming the file (warn, the default), or skip it like an
// unreadable one (skip: a warning, and it goes to the skipped list).
enum class OnCorrupt { warn, skip };
OnCorrupt parse_on_corrupt(const std::string& name);  // warn | skip; else a UsageError
std::string to_string(OnCorrupt policy);

enum class ResizeMode {
  warp,
  crop
};  // warp: squash to size x size; crop: shorter side, centre crop

// Resizes an 8-bit BGR image to side x side (INTER_AREA when shrinking,
// INTER_LINEAR when enlarging). Same-size input is returned unchanged.
cv::Mat resize_image(const cv::Mat& bgr, int side, ResizeMode mode);

// Writes one prepared side x side 8-bit BGR image into a float NCHW blob
// slot: channel order, (x - mean) / std, per the spec.
void image_to_blob(const cv::Mat& bgr, const ModelSpec& spec, float* dst);

}  // namespace fg
