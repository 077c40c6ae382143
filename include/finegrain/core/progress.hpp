// One progress line on stderr, rewritten with '\r': done/total, rate, ETA.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace fg {

class Progress {
 public:
  // Shown when `force` or when stderr is a terminal, and never when quiet.
  Progress(std::string what, std::uint64_t total, bool force = false);
  ~Progress();
  void update(std::uint64_t done);
  void finish();
  double elapsed_seconds() const;

 private:
  std::string what_;
  std::uint64_t total_;
  bool enabled_;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

}  // namespace fg
