// Where models and datasets live: one setting, read in place.
#pragma once

#include <string>

namespace fg {

// $FINEGRAIN_ASSETS if set, else ../shared beside the project root (baked in
// at build time) when that folder exists, else "".
std::string assets_root();

// The full path of an asset, e.g. asset_path("models/vgg16_tiny_seeded.onnx").
// Missing: an Error saying which file, where it looked and how to get it.
std::string asset_path(const std::string& relative);

// The SHA-256 of a file, as lowercase hex (what SHA256SUMS lists); comparing is the caller's job.
std::string sha256_file(const std::string& path);

}  // namespace fg
