// Shared by the libFuzzer targets: the readers take file paths, so each input
// is written to a scratch file first (in /dev/shm when there is one).
//
// A target catches fg::Error only: that is a reader rejecting bad data with a
// message, as it should. Anything else (std::bad_alloc, std::length_error,
// out-of-range access, a sanitizer report) escapes and libFuzzer reports it.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "finegrain/core/common.hpp"

namespace fuzz {

inline const std::string& scratch_dir() {
  // Never destroyed: the exit handler that removes the folder runs after the
  // destructors of statics made before it was registered.
  static const std::string* const dir = [] {
    const char* base = std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    auto* d = new std::string(std::string(base) + "/fg-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(*d);
    std::atexit([] {
      std::error_code e;
      std::filesystem::remove_all(scratch_dir(), e);
    });
    fg::log::set_level(fg::log::Level::quiet);
    return d;
  }();
  return *dir;
}

inline std::string write_file(const std::string& name, const std::uint8_t* data, std::size_t size) {
  const std::string path = scratch_dir() + "/" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

inline std::string write_file(const std::string& name, const std::string& text) {
  return write_file(name, reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
}

// A property that must hold for every accepted input.
#define FUZZ_CHECK(condition)                                                                  \
  do {                                                                                         \
    if (!(condition)) {                                                                        \
      std::fprintf(stderr, "fuzz check failed: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)

}  // namespace fuzz
