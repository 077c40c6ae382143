// The paths of this checkout the unit tests need (only this file is compiled
// with them, so that the other test objects are the same in every checkout).
#include "test_util.hpp"

std::string test_assets() {
  if (const char* env = std::getenv("FINEGRAIN_ASSETS"); env && *env) return env;
  return FG_DEFAULT_ASSETS;
}

std::string spec_file(const std::string& name) {
  return std::string(FG_SOURCE_DIR) + "/data/models/" + name + ".spec";
}

std::string source_file(const std::string& relative) {
  return std::string(FG_SOURCE_DIR) + "/" + relative;
}
