// The loop over image files: decode and prepare images while, or between,
// the network's forward passes.
#include "finegrain/extract/pipeline.hpp"

#include <sched.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <opencv2/core.hpp>

#include "finegrain/core/common.hpp"
#include "finegrain/extract/image.hpp"

namespace fg {

namespace {

struct LoadedImage {
  cv::Mat image;
  std::string problem;  // empty = loaded
  std::string damage;   // loaded, but decoded with errors
  std::exception_ptr error;
};

LoadedImage load_one(const std::string& path, std::uint64_t max_pixels, OnCorrupt on_corrupt) {
  LoadedImage r;
  try {
    r.image = load_image(path, max_pixels, r.problem, &r.damage);
    if (r.problem.empty() && !r.damage.empty() && on_corrupt == OnCorrupt::skip) {
      r.problem = cat(r.damage, ", --on-corrupt skip");
      r.damage.clear();
    }
  } catch (...) {
    r.error = std::current_exception();
  }
  return r;
}

struct LoadedBatch {
  std::vector<std::size_t> indexes;   // all indexes of this batch, in order
  std::vector<std::string> problems;  // per index; empty = loaded
  std::vector<std::string> damage;    // per index; loaded, but decoded with errors
  PreparedBatch prepared;             // of the loaded ones, in order
  std::exception_ptr error;
};

// The batch of todo[first, first + count), from its loaded images (moved
// out of `images`), the loaded ones prepared into `reuse`'s blobs.
LoadedBatch make_batch(const Extractor& extractor, const std::vector<std::size_t>& todo,
                       std::size_t first, LoadedImage* images, std::size_t count,
                       PreparedBatch reuse) {
  LoadedBatch b;
  try {
    std::vector<cv::Mat> loaded;
    for (std::size_t k = 0; k < count; ++k) {
      LoadedImage& im = images[k];
      if (im.error) std::rethrow_exception(im.error);
      b.indexes.push_back(todo[first + k]);
      b.problems.push_back(std::move(im.problem));
      b.damage.push_back(std::move(im.damage));
      if (b.problems.back().empty()) loaded.push_back(std::move(im.image));
    }
    b.prepared = extractor.prepare(loaded, std::move(reuse));
  } catch (...) {
    b.error = std::current_exception();
  }
  return b;
}

// The CPUs this process may run on (a cluster job's share, not the machine's).
int usable_cpus() {
  cpu_set_t allowed;
  if (::sched_getaffinity(0, sizeof allowed, &allowed) == 0) return CPU_COUNT(&allowed);
  return int(std::max(1u, std::thread::hardware_concurrency()));
}

}  // namespace

Decoding resolve_decoding(Decoding d) {
  if (d != Decoding::automatic) return d;
  return cv::getNumThreads() >= usable_cpus() ? Decoding::between_forwards
                                              : Decoding::beside_forwards;
}

PipelineStats extract_files(Extractor& extractor, const std::vector<std::string>& paths,
                            const std::vector<std::size_t>& todo, std::size_t batch_size,
                            const std::function<void(std::size_t, const float*)>& on_rows,
                            const std::function<void(std::size_t, const std::string&)>& on_skip,
                            const std::function<void(std::size_t)>& on_progress,
                            OnCorrupt on_corrupt, Decoding decoding) {
  if (batch_size == 0) batch_size = 1;
  PipelineStats stats;
  const auto start = std::chrono::steady_clock::now();
  const double forward_before = extractor.forward_seconds();
  const std::uint64_t max_pixels = extractor.options().max_pixels;
  std::vector<float> rows;
  std::size_t done = 0;
  const std::size_t row_floats = extractor.rows_per_image() * extractor.dim();
  // Runs a loaded batch through the network and hands its rows and skips on.
  auto compute = [&](LoadedBatch& b) {
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
  };
  auto finish_stats = [&] {
    stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    stats.forward_seconds = extractor.forward_seconds() - forward_before;
    return stats;
  };

  if (resolve_decoding(decoding) == Decoding::between_forwards) {
    // The network's threads take every usable CPU: a producer thread beside
    // them would take a core from a forward in mid-layer while the other
    // cores wait for it. So the images of as many batches as it takes to
    // give every thread one are decoded on all threads at once, between
    // forwards: the decoding then costs only its own CPU time. (Fewer
    // decoded images are held than the producer's queue holds prepared
    // ones: a decoded photo can be 50 times a 224x224 input.)
    PreparedBatch reuse;
    const std::size_t threads = std::size_t(std::max(1, cv::getNumThreads()));
    const std::size_t group = (threads + batch_size - 1) / batch_size * batch_size;
    for (std::size_t g = 0; g < todo.size(); g += group) {
      const std::size_t count = std::min(todo.size() - g, group);
      std::vector<LoadedImage> images(count);
      cv::parallel_for_(cv::Range(0, int(count)), [&](const cv::Range& r) {
        for (int k = r.start; k < r.end; ++k)
          images[k] = load_one(paths[todo[g + k]], max_pixels, on_corrupt);
      });
      for (std::size_t first = 0; first < count; first += batch_size) {
        LoadedBatch b = make_batch(extractor, todo, g + first, images.data() + first,
                                   std::min(batch_size, count - first), std::move(reuse));
        compute(b);
        reuse = std::move(b.prepared);
      }
    }
    return finish_stats();
  }

  // A core the network leaves free: a producer thread decodes and prepares
  // ahead while the network runs.
  std::mutex mu;
  std::condition_variable cv_ready, cv_space;
  std::deque<LoadedBatch> queue;
  std::vector<PreparedBatch> spare;  // computed batches, their blobs reused
  bool producer_done = false;
  bool stop = false;
  // Batches prepared ahead: at least 2, and at least 32 network inputs of
  // 224x224 (19 MB of blobs). The producer fills the queue, then sleeps
  // until it is half empty: it wakes once per depth/2 batches to decode
  // them in one burst, rather than once per batch — each wake-up takes a
  // core from the forward pass in mid-layer.
  const std::size_t ahead_pixels = 32 * 224 * 224;
  const std::size_t batch_pixels =
      std::max<std::size_t>(1, batch_size * extractor.input_pixels_per_image());
  const std::size_t depth =
      std::max<std::size_t>(2, (ahead_pixels + batch_pixels - 1) / batch_pixels);
  const std::size_t refill_at = depth / 2;

  std::thread producer([&] {
    for (std::size_t first = 0; first < todo.size(); first += batch_size) {
      const std::size_t count = std::min(todo.size() - first, batch_size);
      std::vector<LoadedImage> images;
      for (std::size_t k = 0; k < count; ++k)
        images.push_back(load_one(paths[todo[first + k]], max_pixels, on_corrupt));
      PreparedBatch reuse;
      {
        std::lock_guard<std::mutex> lock(mu);
        if (!spare.empty()) {
          reuse = std::move(spare.back());
          spare.pop_back();
        }
      }
      LoadedBatch b = make_batch(extractor, todo, first, images.data(), count, std::move(reuse));
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
      compute(b);
      std::lock_guard<std::mutex> lock(mu);
      spare.push_back(std::move(b.prepared));
    }
  } catch (...) {
    finish();
    throw;
  }
  finish();
  return finish_stats();
}

}  // namespace fg
