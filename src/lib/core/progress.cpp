#include "finegrain/core/progress.hpp"

#include <unistd.h>

#include <cstdio>

#include "finegrain/core/common.hpp"

namespace fg {

Progress::Progress(std::string what, std::uint64_t total, bool force)
    : what_(std::move(what)),
      total_(total),
      enabled_(log::level() != log::Level::quiet && (force || ::isatty(STDERR_FILENO))),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { finish(); }

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::update(std::uint64_t done) {
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  // At most a few redraws a second, and always the last one.
  if (done < total_ && now - last_ < std::chrono::milliseconds(250)) return;
  last_ = now;
  double seconds = elapsed_seconds();
  double rate = seconds > 0 ? done / seconds : 0.0;
  double eta = rate > 0 && total_ > done ? (total_ - done) / rate : 0.0;
  char line[512];
  std::snprintf(line, sizeof line, "\r%s: %s %llu/%llu  %.1f/s  ETA %d:%02d   ",
                log::program().c_str(), what_.c_str(), static_cast<unsigned long long>(done),
                static_cast<unsigned long long>(total_), rate, static_cast<int>(eta) / 60,
                static_cast<int>(eta) % 60);
  log::write_raw(line);
}

void Progress::finish() {
  if (enabled_ && !finished_) log::write_raw("\n");
  finished_ = true;
}

}  // namespace fg
