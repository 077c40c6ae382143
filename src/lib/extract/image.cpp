#include "finegrain/extract/image.hpp"

#include <csetjmp>
#include <cstdio>  // jpeglib.h needs FILE and size_t declared first
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <jpeglib.h>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"

namespace fg {

namespace {

std::uint32_t be16(const unsigned char* p) { return (p[0] << 8) | p[1]; }
std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}
std::uint32_t le16(const unsigned char* p) { return p[0] | (p[1] << 8); }
std::uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (std::uint32_t(p[3]) << 24);
}

bool starts(const std::string& b, const char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

bool is_jpeg(const std::string& b) { return starts(b, "\xFF\xD8\xFF", 3); }

// A JPEG is complete when an EOI marker (FF D9) follows its last SOS marker
// (FF DA): inside entropy-coded data FF is always stuffed (FF 00) or a
// restart marker, so neither can appear there by accident. libjpeg only
// warns on truncation and fills the rest with grey; we refuse instead.
bool jpeg_complete(const std::string& b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  const std::size_t n = b.size();
  std::size_t last_sos = std::string::npos;
  for (std::size_t i = n; i-- > 1;) {
    if (p[i - 1] == 0xFF && p[i] == 0xDA) {
      last_sos = i;
      break;
    }
  }
  if (last_sos == std::string::npos) return false;
  for (std::size_t i = n; i-- > last_sos + 1;)
    if (p[i - 1] == 0xFF && p[i] == 0xD9) return true;
  return false;
}

std::optional<ImageInfo> jpeg_info(const std::string& b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  std::size_t i = 2;
  while (i + 4 <= b.size()) {
    if (p[i] != 0xFF) return std::nullopt;
    const unsigned marker = p[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      i += 2;
      continue;
    }
    const std::uint32_t len = be16(p + i + 2);
    if (len < 2) return std::nullopt;
    const bool sof =
        (marker >= 0xC0 && marker <= 0xCF) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (i + 9 > b.size()) return std::nullopt;
      return ImageInfo{int(be16(p + i + 7)), int(be16(p + i + 5)), "JPEG"};
    }
    if (marker == 0xDA) return std::nullopt;  // scan before any frame header
    i += 2 + len;
  }
  return std::nullopt;
}

// Library text captured from stderr, as one line of reasonable length.
std::string decoder_message(const std::string& text) {
  std::string line = one_line(text);
  if (line.size() > 200) line = line.substr(0, 200) + "...";
  return line;
}

}  // namespace

std::optional<ImageInfo> read_image_info(const std::string& b) {
  const auto* p = reinterpret_cast<const unsigned char*>(b.data());
  if (is_jpeg(b)) return jpeg_info(b);
  if (starts(b, "\x89PNG\r\n\x1a\n", 8)) {
    if (b.size() < 24 || std::memcmp(p + 12, "IHDR", 4) != 0) return std::nullopt;
    return ImageInfo{int(be32(p + 16)), int(be32(p + 20)), "PNG"};
  }
  if (starts(b, "GIF87a", 6) || starts(b, "GIF89a", 6)) {
    if (b.size() < 10) return std::nullopt;
    return ImageInfo{int(le16(p + 6)), int(le16(p + 8)), "GIF"};
  }
  if (starts(b, "BM", 2) && b.size() >= 26) {
    const std::uint32_t hdr = le32(p + 14);
    if (hdr == 12) return ImageInfo{int(le16(p + 18)), int(le16(p + 20)), "BMP"};
    const std::int32_t w = std::int32_t(le32(p + 18)), h = std::int32_t(le32(p + 22));
    return ImageInfo{std::abs(w), std::abs(h), "BMP"};
  }
  if (starts(b, "RIFF", 4) && b.size() >= 30 && std::memcmp(p + 8, "WEBP", 4) == 0) {
    if (std::memcmp(p + 12, "VP8 ", 4) == 0)
      return ImageInfo{int(le16(p + 26) & 0x3FFF), int(le16(p + 28) & 0x3FFF), "WebP"};
    if (std::memcmp(p + 12, "VP8L", 4) == 0) {
      const std::uint32_t v = le32(p + 21);
      return ImageInfo{int((v & 0x3FFF) + 1), int(((v >> 14) & 0x3FFF) + 1), "WebP"};
    }
    if (std::memcmp(p + 12, "VP8X", 4) == 0) {
      const std::uint32_t w = (p[24] | (p[25] << 8) | (p[26] << 16)) + 1;
      const std::uint32_t h = (p[27] | (p[28] << 8) | (p[29] << 16)) + 1;
      return ImageInfo{int(w), int(h), "WebP"};
    }
    return std::nullopt;
  }
  if (b.size() >= 3 && b[0] == 'P' && b[1] >= '1' && b[1] <= '6') {
    std::istringstream in(b.substr(2, 256));
    long long w = 0, h = 0;
    std::string tok;
    auto next = [&](long long& v) {
      while (in >> tok) {
        if (tok[0] == '#') {
          std::getline(in, tok);
          continue;
        }
        return parse_int(tok, v);
      }
      return false;
    };
    if (next(w) && next(h) && w > 0 && h > 0 && w < (1LL << 31) && h < (1LL << 31))
      return ImageInfo{int(w), int(h), "PNM"};
    return std::nullopt;
  }
  if (starts(b, "II*\0", 4) || starts(b, "MM\0*", 4)) {
    const bool le = b[0] == 'I';
    auto u16 = [&](std::size_t o) { return le ? le16(p + o) : be16(p + o); };
    auto u32 = [&](std::size_t o) { return le ? le32(p + o) : be32(p + o); };
    if (b.size() < 8) return std::nullopt;
    // In size_t: an offset near 2^32 must not wrap around in 32 bits.
    const std::size_t ifd = u32(4);
    if (ifd + 2 > b.size()) return std::nullopt;
    const std::uint32_t count = u16(ifd);
    long long w = -1, h = -1;
    for (std::uint32_t k = 0; k < count; ++k) {
      const std::size_t e = ifd + 2 + 12 * std::size_t(k);
      if (e + 12 > b.size()) return std::nullopt;
      const std::uint32_t tag = u16(e), type = u16(e + 2);
      const std::uint32_t value = type == 3 ? u16(e + 8) : u32(e + 8);
      if (tag == 256) w = value;
      if (tag == 257) h = value;
    }
    if (w > 0 && h > 0) return ImageInfo{int(w), int(h), "TIFF"};
    return std::nullopt;
  }
  return std::nullopt;
}

OnCorrupt parse_on_corrupt(const std::string& name) {
  if (name == "warn") return OnCorrupt::warn;
  if (name == "skip") return OnCorrupt::skip;
  throw UsageError(cat("--on-corrupt: unknown '", name, "' (warn, skip)"));
}

std::string to_string(OnCorrupt policy) { return policy == OnCorrupt::skip ? "skip" : "warn"; }

namespace {

// The common JPEG, clean YCbCr without an EXIF rotation, decoded by libjpeg
// straight into BGR rows: the same pixels as cv::imdecode at about half its
// CPU (0.36 against 0.67 ms for a 224 x 224 flowers12 image), which matters
// where decoding shares the cores with a fast network. Everything else
// (grey, CMYK, a rotation, any warning or error, an image over the pixel
// limit) returns an empty Mat and takes cv::imdecode, whose conversions and
// messages stay the reference.

struct JpegErrors {
  jpeg_error_mgr manager;  // first: libjpeg's pointer to it is a pointer to this
  std::jmp_buf jump;
  bool warned;
};

[[noreturn]] void jpeg_failed(j_common_ptr info) {
  std::longjmp(reinterpret_cast<JpegErrors*>(info->err)->jump, 1);
}
void jpeg_message(j_common_ptr info, int level) {
  if (level < 0) reinterpret_cast<JpegErrors*>(info->err)->warned = true;  // < 0: a warning
}

// The EXIF orientation in an APP1 segment: 1 (as stored) when the segment
// is not EXIF or has no orientation tag, 0 when it cannot be read or when
// OpenCV might read it otherwise (then cv::imdecode decides).
int exif_orientation(const unsigned char* d, std::size_t n) {
  if (n < 6) return 1;
  const bool exif = std::memcmp(d, "Exif\0\0", 6) == 0;
  const unsigned char* tiff = d + 6;
  n -= 6;
  const bool little = n >= 2 && tiff[0] == 'I' && tiff[1] == 'I';
  const bool big = n >= 2 && tiff[0] == 'M' && tiff[1] == 'M';
  // OpenCV reads a TIFF header after the first 6 bytes of an APP1 segment
  // without checking that they say "Exif" (a fuzzed "Exib" segment was
  // rotated): such a segment is left to it.
  if (!exif) return little || big ? 0 : 1;
  if (n < 8 || !(little || big)) return 0;
  auto u16 = [&](std::size_t at) { return little ? le16(tiff + at) : be16(tiff + at); };
  const std::size_t ifd = little ? le32(tiff + 4) : be32(tiff + 4);
  if (ifd > n - 2) return 0;
  const std::size_t entries = u16(ifd);
  for (std::size_t e = 0; e < entries; ++e) {
    const std::size_t at = ifd + 2 + 12 * e;
    if (at + 12 > n) return 0;
    if (u16(at) == 0x0112) return static_cast<int>(u16(at + 8));
  }
  return 1;
}

// Reads the header and starts decompression if the image qualifies. No C++
// object lives in this frame, so a longjmp from libjpeg skips no destructor.
// too_large: libjpeg read a size over max_pixels from the header (one that
// read_image_info could not find), refused before anything allocates it.
bool start_clean_jpeg(jpeg_decompress_struct& info, JpegErrors& errors, const std::string& bytes,
                      std::uint64_t max_pixels, bool& too_large) {
  if (setjmp(errors.jump)) return false;
  jpeg_mem_src(&info, reinterpret_cast<const unsigned char*>(bytes.data()),
               static_cast<unsigned long>(bytes.size()));
  jpeg_save_markers(&info, JPEG_APP0 + 1, 0xFFFF);
  if (jpeg_read_header(&info, TRUE) != JPEG_HEADER_OK) return false;
  too_large = max_pixels && std::uint64_t(info.image_width) * info.image_height > max_pixels;
  if (too_large) return false;
  if (info.jpeg_color_space != JCS_YCbCr || info.num_components != 3) return false;
  for (jpeg_saved_marker_ptr m = info.marker_list; m; m = m->next)
    if (exif_orientation(m->data, m->data_length) != 1) return false;
  info.out_color_space = JCS_EXT_BGR;
  return jpeg_start_decompress(&info) && !errors.warned && info.output_components == 3;
}

bool read_clean_jpeg(jpeg_decompress_struct& info, JpegErrors& errors, unsigned char* pixels,
                     std::size_t step) {
  if (setjmp(errors.jump)) return false;
  while (info.output_scanline < info.output_height) {
    JSAMPROW row = pixels + step * info.output_scanline;
    if (jpeg_read_scanlines(&info, &row, 1) != 1) return false;
  }
  return jpeg_finish_decompress(&info) && !errors.warned;
}

// The image, or empty: then `problem` says why if the JPEG is refused (over
// the pixel limit), or is empty when cv::imdecode should decode it.
cv::Mat decode_clean_jpeg(const std::string& bytes, std::uint64_t max_pixels,
                          std::string& problem) {
  jpeg_decompress_struct info;
  JpegErrors errors;
  errors.warned = false;
  info.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = jpeg_failed;
  errors.manager.emit_message = jpeg_message;
  jpeg_create_decompress(&info);
  cv::Mat img;
  bool too_large = false;
  if (start_clean_jpeg(info, errors, bytes, max_pixels, too_large)) {
    img.create(static_cast<int>(info.output_height), static_cast<int>(info.output_width), CV_8UC3);
    if (!read_clean_jpeg(info, errors, img.data, img.step)) img.release();
  } else if (too_large) {
    const std::uint64_t pixels = std::uint64_t(info.image_width) * info.image_height;
    problem = cat("JPEG image of ", info.image_width, "x", info.image_height, " = ", pixels,
                  " pixels exceeds the limit of ", max_pixels,
                  " (possible decompression bomb; raise it with --max-pixels)");
  }
  jpeg_destroy_decompress(&info);
  return img;
}

}  // namespace

cv::Mat decode_image(const std::string& bytes, std::uint64_t max_pixels, std::string& problem,
                     std::string* damage) {
  problem.clear();
  if (damage) damage->clear();
  if (bytes.empty()) {
    problem = "empty file (0 bytes)";
    return {};
  }
  // OpenCV hands a file with "DICM" at byte 128 to GDCM, whose reader
  // aborts the whole process on some damaged files (found by fuzz_image).
  if (bytes.size() >= 132 && bytes.compare(128, 4, "DICM") == 0) {
    problem = "DICOM file: not supported (OpenCV's DICOM reader can abort on damaged ones)";
    return {};
  }
  const auto info = read_image_info(bytes);
  if (info) {
    if (info->width <= 0 || info->height <= 0) {
      problem =
          cat("damaged ", info->format, " header (size ", info->width, "x", info->height, ")");
      return {};
    }
    const std::uint64_t pixels = std::uint64_t(info->width) * std::uint64_t(info->height);
    if (max_pixels && pixels > max_pixels) {
      problem = cat(info->format, " image of ", info->width, "x", info->height, " = ", pixels,
                    " pixels exceeds the limit of ", max_pixels,
                    " (possible decompression bomb; raise it with --max-pixels)");
      return {};
    }
  }
  if (is_jpeg(bytes) && !jpeg_complete(bytes)) {
    problem = "truncated JPEG (no end-of-image marker after the last scan)";
    return {};
  }
  if (is_jpeg(bytes)) {
    cv::Mat clean = decode_clean_jpeg(bytes, max_pixels, problem);
    if (!clean.empty() || !problem.empty()) return clean;
  }
  const cv::Mat raw(1, int(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat img;
  std::string decode_error;
  // What libjpeg / libpng / libtiff print on stderr while decoding, as one line.
  const std::string said = decoder_message(log::capture_stderr([&] {
    try {
      // JPEG: IMREAD_COLOR applies EXIF orientation and converts CMYK/grey.
      // Others: decode as stored so alpha and 16-bit are handled here.
      img = cv::imdecode(raw, is_jpeg(bytes) ? cv::IMREAD_COLOR : cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) {
      decode_error = one_line(e.err);
    }
  }));
  if (!decode_error.empty()) {
    problem = cat("cannot decode: ", decode_error);
    return {};
  }
  if (img.empty()) {
    const std::string what = describe_content(bytes.substr(0, 64));
    problem = info ? cat("cannot decode (damaged or unsupported ", info->format, " data",
                         said.empty() ? "" : ": ", said, ")")
                   : cat("not an image OpenCV can decode (looks like ", what, ")");
    return {};
  }
  // Decoded, but the decoder complained: libjpeg, for one, fills the blocks
  // of corrupt entropy-coded data with grey and goes on.
  if (damage) *damage = said.empty() ? "" : cat("decoded with errors (", said, ")");
  if (max_pixels && std::uint64_t(img.total()) > max_pixels) {
    problem = cat("image of ", img.cols, "x", img.rows, " pixels exceeds the limit of ", max_pixels,
                  " (raise it with --max-pixels)");
    return {};
  }
  // Depth to 8 bits.
  if (img.depth() == CV_16U)
    img.convertTo(img, CV_8U, 1.0 / 257.0);
  else if (img.depth() == CV_16S)
    img.convertTo(img, CV_8U, 1.0 / 128.0, 0);
  else if (img.depth() == CV_32F || img.depth() == CV_64F)
    img.convertTo(img, CV_8U, 255.0);
  else if (img.depth() != CV_8U)
    img.convertTo(img, CV_8U);
  // Channels to BGR.
  const int ch = img.channels();
  if (ch == 1) {
    cv::cvtColor(img, img, cv::COLOR_GRAY2BGR);
  } else if (ch == 2 || ch == 4) {
    // Composite over white: transparent pixels carry arbitrary colour.
    std::vector<cv::Mat> planes;
    cv::split(img, planes);
    cv::Mat alpha;
    planes.back().convertTo(alpha, CV_32F, 1.0 / 255.0);
    cv::Mat out(img.size(), CV_8UC3);
    std::vector<cv::Mat> colour;
    if (ch == 2)
      colour = {planes[0], planes[0], planes[0]};
    else
      colour = {planes[0], planes[1], planes[2]};
    std::vector<cv::Mat> outp(3);
    for (int c = 0; c < 3; ++c) {
      cv::Mat f;
      colour[c].convertTo(f, CV_32F);
      f = f.mul(alpha) + (1.0f - alpha) * 255.0f;
      f.convertTo(outp[c], CV_8U);
    }
    cv::merge(outp, out);
    img = out;
  } else if (ch != 3) {
    problem = cat("unsupported channel count ", ch);
    return {};
  }
  return img;
}

cv::Mat load_image(const std::string& path, std::uint64_t max_pixels, std::string& problem,
                   std::string* damage) {
  if (damage) damage->clear();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    problem = "is a directory, not an image file";
    return {};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    problem = "cannot open (missing or no permission)";
    return {};
  }
  std::string bytes;
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size < 0) {
    problem = "cannot read (not a regular file?)";
    return {};
  }
  in.seekg(0);
  bytes.resize(std::size_t(size));
  if (size > 0 && !in.read(&bytes[0], size)) {
    problem = "read error";
    return {};
  }
  return decode_image(bytes, max_pixels, problem, damage);
}

cv::Mat resize_image(const cv::Mat& bgr, int side, ResizeMode mode) {
  if (bgr.cols == side && bgr.rows == side) return bgr;
  auto interp = [](int from_w, int from_h, int to_w, int to_h) {
    return (to_w < from_w || to_h < from_h) ? cv::INTER_AREA : cv::INTER_LINEAR;
  };
  cv::Mat out;
  if (mode == ResizeMode::warp) {
    cv::resize(bgr, out, cv::Size(side, side), 0, 0, interp(bgr.cols, bgr.rows, side, side));
    return out;
  }
  const double s = double(side) / std::min(bgr.cols, bgr.rows);
  const int w = std::max(side, int(std::lround(bgr.cols * s)));
  const int h = std::max(side, int(std::lround(bgr.rows * s)));
  cv::Mat scaled;
  if (w == bgr.cols && h == bgr.rows)
    scaled = bgr;
  else
    cv::resize(bgr, scaled, cv::Size(w, h), 0, 0, interp(bgr.cols, bgr.rows, w, h));
  const int x = (w - side) / 2, y = (h - side) / 2;
  return scaled(cv::Rect(x, y, side, side)).clone();
}

void image_to_blob(const cv::Mat& bgr, const ModelSpec& spec, float* dst) {
  CV_Assert(bgr.type() == CV_8UC3);
  const int h = bgr.rows, w = bgr.cols;
  const std::size_t plane = std::size_t(h) * w;
  // Source channel for each blob channel: BGR data, blob order per spec.
  const int src[3] = {spec.channels == ChannelOrder::bgr ? 0 : 2, 1,
                      spec.channels == ChannelOrder::bgr ? 2 : 0};
  float mean[3], inv[3];
  for (int c = 0; c < 3; ++c) {
    mean[c] = float(spec.mean[c]);
    inv[c] = float(1.0 / spec.std[c]);
  }
  for (int y = 0; y < h; ++y) {
    const unsigned char* row = bgr.ptr<unsigned char>(y);
    for (int c = 0; c < 3; ++c) {
      float* out = dst + c * plane + std::size_t(y) * w;
      const int s = src[c];
      if (inv[c] == 1.0f) {
        for (int x = 0; x < w; ++x) out[x] = float(row[3 * x + s]) - mean[c];
      } else {
        for (int x = 0; x < w; ++x) out[x] = (float(row[3 * x + s]) - mean[c]) * inv[c];
      }
    }
  }
}

}  // namespace fg
