#include "finegrain/core/memory.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"

namespace fg {

std::optional<double> parse_byte_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::string number = text;
  double unit = 1.0;
  const char last = static_cast<char>(std::toupper(static_cast<unsigned char>(text.back())));
  const char* units = "KMGT";
  for (int i = 0; i < 4; ++i)
    if (last == units[i]) {
      unit = std::pow(1024.0, i + 1);
      number.pop_back();
    }
  double value;
  if (!parse_double(number, value) || !(value >= 0) || !std::isfinite(value)) return std::nullopt;
  return value * unit;
}

std::string format_bytes(double bytes) {
  const char* names[] = {"bytes", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (u < 4 && bytes >= 1000.0) bytes /= 1000.0, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.3g %s", bytes, names[u]);
  return buf;
}

double memory_budget() {
  double available = -1.0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    std::istringstream fields(line);
    std::string key;
    double kb;
    if (fields >> key >> kb && key == "MemAvailable:") {
      available = kb * 1024.0;
      break;
    }
  }
  if (available < 0) {
    const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    available = pages > 0 && page > 0 ? double(pages) * double(page) : INFINITY;
  }
  if (const char* cap = std::getenv("FG_MAX_MEMORY"); cap && *cap) {
    const auto bytes = parse_byte_size(cap);
    if (!bytes)
      throw UsageError(cat("FG_MAX_MEMORY: expected a size such as 8G or 512M, got '", cap, "'"));
    if (*bytes < available) available = *bytes;
  }
  return available;
}

void check_memory(double bytes, const std::string& subject, const std::string& what) {
  const double budget = memory_budget();
  if (bytes <= budget) return;
  throw Error(cat(subject, ": ", what, " needs about ", format_bytes(bytes), " of memory, only ",
                  format_bytes(budget), " available (MemAvailable",
                  std::getenv("FG_MAX_MEMORY") ? ", capped by FG_MAX_MEMORY" : "",
                  "); use fewer rows or dimensions (fg-pca, fg-mic) or a bigger machine"));
}

}  // namespace fg
