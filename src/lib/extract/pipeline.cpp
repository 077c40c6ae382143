// The pipelined loop over image files: decode and prepare ahead while the network runs.
#include "finegrain/extract/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/image.hpp"

namespace fg {

namespace {

struct LoadedBatch {
  std::vector<std::size_t> indexes;   // all indexes of this batch, in order
  std::vector<std::string> problems;  // per index; empty = loaded
  std::vector<std::string> damage;    // per index; loaded, but decoded with errors
  PreparedBatch prepared;             // of the loaded ones, in order
  std::exception_ptr error;
};

}  // namespace

PipelineStats extract_files(Extractor& extractor, const std::vector<std::string>& paths,
                            const std::vector<std::size_t>& todo, std::size_t batch_size,
                            const std::function<void(std::size_t, const float*)>& on_rows,
                            const std::function<void(std::size_t, const std::string&)>& on_skip,
                            const std::function<void(std::size_t)>& on_progress,
                            OnCorrupt on_corrupt) {
  if (batch_size == 0) batch_size = 1;
  PipelineStats stats;
  const auto start = std::chrono::steady_clock::now();
  const double forward_before = extractor.forward_seconds();
  const std::uint64_t max_pixels = extractor.options().max_pixels;

  std::mutex mu;
  std::condition_variable cv_ready, cv_space;
  std::deque<LoadedBatch> queue;
  std::vector<PreparedBatch> spare;  // computed batches, their blobs reused
  bool producer_done = false;
  bool stop = false;
  // Batches prepared ahead: at least 2, and at least 32 network inputs of
  // 224x224 (19 MB of blobs). The producer fills the queue, then sleeps until
  // it is half empty: it wakes once per depth/2 batches to decode them in one
  // burst, rather than once per batch — each wake-up takes a core from the
  // forward pass in mid-layer.
  const std::size_t ahead_pixels = 32 * 224 * 224;
  const std::size_t batch_pixels =
      std::max<std::size_t>(1, batch_size * extractor.input_pixels_per_image());
  const std::size_t depth =
      std::max<std::size_t>(2, (ahead_pixels + batch_pixels - 1) / batch_pixels);
  const std::size_t refill_at = depth / 2;

  std::thread producer([&] {
    for (std::size_t first = 0; first < todo.size(); first += batch_size) {
      LoadedBatch b;
      try {
        std::vector<cv::Mat> images;
        const std::size_t last = std::min(todo.size(), first + batch_size);
        for (std::size_t k = first; k < last; ++k) {
          const std::size_t index = todo[k];
          std::string problem, damage;
          cv::Mat img = load_image(paths[index], max_pixels, problem, &damage);
          if (problem.empty() && !damage.empty() && on_corrupt == OnCorrupt::skip) {
            problem = cat(damage, ", --on-corrupt skip");
            damage.clear();
          }
          b.indexes.push_back(index);
          b.problems.push_back(problem);
          b.damage.push_back(damage);
          if (problem.empty()) images.push_back(std::move(img));
        }
        PreparedBatch reuse;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (!spare.empty()) {
            reuse = std::move(spare.back());
            spare.pop_back();
          }
        }
        b.prepared = extractor.prepare(images, std::move(reuse));
      } catch (...) {
        b.error = std::current_exception();
      }
      std::unique_lock<std::mutex> lock(mu);
      if (queue.size() >= depth)
        cv_space.wait(lock, [&] { return queue.size() <= refill_at || stop; });
      if (stop) return;
      queue.push_back(std::move(b));
      cv_ready.notify_one();
    }
    std::lock_guard<std::mutex> lock(mu);
    producer_done = true;
    cv_ready.notify_one();
  });

  auto finish = [&] {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      cv_space.notify_all();
    }
    producer.join();
  };

  try {
    std::vector<float> rows;
    std::size_t done = 0;
    const std::size_t row_floats = extractor.rows_per_image() * extractor.dim();
    for (;;) {
      LoadedBatch b;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv_ready.wait(lock, [&] { return !queue.empty() || producer_done; });
        if (queue.empty()) break;
        b = std::move(queue.front());
        queue.pop_front();
        if (queue.size() <= refill_at) cv_space.notify_one();
      }
      if (b.error) std::rethrow_exception(b.error);
      if (b.prepared.images) extractor.compute(b.prepared, rows);
      std::size_t k = 0;
      for (std::size_t j = 0; j < b.indexes.size(); ++j) {
        if (b.problems[j].empty()) {
          if (!b.damage[j].empty()) {
            log::warn(cat(paths[b.indexes[j]], ": ", b.damage[j],
                          "; used as decoded (--on-corrupt skip leaves such images out)"));
            ++stats.damaged;
          }
          on_rows(b.indexes[j], rows.data() + (k++) * row_floats);
          ++stats.images;
        } else {
          on_skip(b.indexes[j], b.problems[j]);
          ++stats.skipped;
        }
      }
      done += b.indexes.size();
      if (on_progress) on_progress(done);
      std::lock_guard<std::mutex> lock(mu);
      spare.push_back(std::move(b.prepared));
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stats.forward_seconds = extractor.forward_seconds() - forward_before;
  return stats;
}

}  // namespace fg
