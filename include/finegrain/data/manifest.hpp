// Image manifests: "path<TAB>label" lines listing a dataset.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fg {

struct ManifestEntry {
  std::string path;   // as written (relative paths are relative to the cwd)
  std::string label;  // class name; may be empty for unlabeled images
};
using Manifest = std::vector<ManifestEntry>;

// Reads a manifest (file or "-"). Lines: path, or path<TAB>label. Empty lines
// and lines starting with '#' are skipped. Errors name file and line.
Manifest read_manifest(const std::string& path);
void write_manifest(const std::string& path, const Manifest& manifest);

// The sorted distinct non-empty labels of a manifest.
std::vector<std::string> manifest_classes(const Manifest& manifest);

// True when the file's first bytes are those of an image format this
// OpenCV build decodes (JPEG, PNG, BMP, TIFF, WebP, PPM/PGM, ...).
bool looks_like_image(const std::string& path);

struct ListReport {
  std::size_t classes = 0;
  std::size_t images = 0;
  std::size_t non_images = 0;       // files skipped: not an image by content
  std::size_t empty_classes = 0;    // class folders with no image
  std::size_t unreadable_dirs = 0;  // folders that could not be listed
  std::size_t loose_files = 0;      // files directly under the root (no class)
  std::size_t link_loops = 0;       // links to a folder already listed (loops), skipped
};

// Walks root/<class>/... (recursively inside each class) and lists the image
// files, sorted by class then path (byte order), so the order is the same on
// every machine. Warns about everything it skips. With `keep_loose`, images
// directly under the root are listed too (first, unlabeled), as a folder of
// images to score may have no class folders at all.
Manifest list_images(const std::string& root, ListReport& report, bool keep_loose = false);

// The images to score: a folder's (list_images with keep_loose; none found
// is an Error), or a manifest file's.
Manifest images_to_score(const std::string& folder_or_manifest);

// Stratified split: from each class, round(test_fraction * n) images go to
// test, chosen by a seeded shuffle; both parts keep the manifest order.
void split_stratified(const Manifest& all, double test_fraction, std::uint64_t seed,
                      Manifest& train, Manifest& test);

// An official split. `split_file` is either
//  - a list of image paths, one per line (CUB-100's train.txt: "images/<class>/0030.jpg"),
//    matched against the listed images by their trailing <class>/<file> part; or
//  - CUB's own "id, flag" file (train_test_split.txt), read together with the
//    images.txt ("id, <class>/<file>") beside it; `train_flag` says which flag
//    value means "train" (CUB-200-2011 uses 1; the cub100 subset uses 0).
// Listed (or flagged-train) images go to `train`, the others to `test`.
// A list line that matches no image is an error naming file and line.
void split_by_file(const Manifest& all, const std::string& root, const std::string& split_file,
                   int train_flag, Manifest& train, Manifest& test);

}  // namespace fg
