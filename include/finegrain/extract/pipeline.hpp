// Pipelined extraction over image files.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"

namespace fg {

// Pipelined extraction over image files: a producer thread decodes and
// prepares batch k+1 while the network runs batch k. Results arrive in
// index order on the calling thread: on_rows(index, rows) with
// rows_per_image x dim floats, or on_skip(index, problem) for an image that
// could not be used. `todo` lists the indexes into `paths` to process.
// An image that decoded with errors is, by `on_corrupt`, used with a warning
// naming it (counted in `damaged`) or passed to on_skip.
struct PipelineStats {
  std::size_t images = 0;
  std::size_t skipped = 0;
  std::size_t damaged = 0;     // of `images`: decoded with errors, used (OnCorrupt::warn)
  double seconds = 0;          // wall time of the whole loop
  double forward_seconds = 0;  // in the network (setInput + forward)
};
PipelineStats extract_files(Extractor& extractor, const std::vector<std::string>& paths,
                            const std::vector<std::size_t>& todo, std::size_t batch_size,
                            const std::function<void(std::size_t, const float*)>& on_rows,
                            const std::function<void(std::size_t, const std::string&)>& on_skip,
                            const std::function<void(std::size_t)>& on_progress = {},
                            OnCorrupt on_corrupt = OnCorrupt::warn);

}  // namespace fg
