// Memory budget checks: a stage that would need more memory than the machine
// can give says so before it starts, instead of swapping or being killed
// half-way. Estimates are the stage's own (its big arrays); the budget is the
// kernel's MemAvailable, capped by FG_MAX_MEMORY when that is set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace fg {

// "512M", "2G", "1.5G", "1000000" (bytes); K/M/G/T are powers of 1024.
// Empty or malformed: nullopt.
std::optional<double> parse_byte_size(const std::string& text);

// "1.57 GB" (decimal units, 3 significant digits), for messages.
std::string format_bytes(double bytes);

// Bytes this process may still allocate: MemAvailable from /proc/meminfo
// (sysconf's available pages where that is missing), or FG_MAX_MEMORY when
// it is set and smaller. A malformed FG_MAX_MEMORY is a UsageError.
double memory_budget();

// Throws Error("<subject>: <what> needs about X of memory, only Y available
// (...)") when `bytes` exceeds memory_budget(); `what` says what the memory
// is for ("training on 3000 rows x 131328 dims").
void check_memory(double bytes, const std::string& subject, const std::string& what);

}  // namespace fg
