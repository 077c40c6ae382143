// Pipelined extraction over image files.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"

namespace fg {

// Where the images are decoded and prepared. beside_forwards: a producer
// thread works ahead while the network runs, on the cores the network
// leaves free. between_forwards: a few batches' images at once on the
// network's own threads, between forwards (no thread then takes a core from
// a forward in mid-layer). automatic: between_forwards when the network's
// threads (cv::getNumThreads()) take every CPU this process may use, else
// beside_forwards. Both give the same results.
enum class Decoding { automatic, beside_forwards, between_forwards };
Decoding resolve_decoding(Decoding d);

// Extraction over image files, decoding and preparing images while or
// between the network's forward passes (`decoding`). Results arrive in
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
                            OnCorrupt on_corrupt = OnCorrupt::warn,
                            Decoding decoding = Decoding::automatic);

}  // namespace fg
