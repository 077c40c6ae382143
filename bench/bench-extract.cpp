// bench-extract: images/s of feature extraction, end to end (decode +
// preprocess in the producer thread, forward, pooling) against the bare
// net.forward() on the same batches, for the full-width VGG16 topology
// (conv1_1 ... pool5, built in memory with fixed He-initialised weights: no
// download) and the real SqueezeNet 1.1, at batch 1..16.
//
//   bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16]
//                 [--images N] [--size 224] [--threads N] [--reps 3]
//                 [--pools avgmax,bilinear,...]
//   bench-extract --pool-costs
//
// Prints one line per (model, batch, pooling): bare images/s (setInput +
// forward on blobs prepared beforehand), end-to-end images/s, their ratio,
// the share of the end-to-end wall time spent outside setInput + forward,
// and the end-to-end rate against the first pooling's. The poolings' passes
// are interleaved in one run. A pooling is a --pool name, optionally with
// its second-order norm: bilinear, bilinear:matrix-sqrt, compact-bilinear.
// --pool-costs times each pooling step alone on one thread, on a ReLU'd
// random map of fire9's shape (512 x 13 x 13), in CPU ms per image (median).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/extract/bilinear.hpp"
#include "finegrain/extract/extract.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"

using namespace fg;
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// VGG16 configuration D, convolutional part: conv-ReLU blocks of
// (2, 2, 3, 3, 3) convs with 64, 128, 256, 512, 512 channels, each block
// followed by a 2x2 max-pool.
cv::dnn::Net build_vgg16(unsigned seed) {
  cv::dnn::Net net;
  net.setInputsNames({"data"});
  cv::RNG rng(seed);
  const int blocks[5] = {2, 2, 3, 3, 3};
  const int widths[5] = {64, 128, 256, 512, 512};
  int in_channels = 3;
  for (int b = 0; b < 5; ++b) {
    for (int k = 0; k < blocks[b]; ++k) {
      const std::string id = std::to_string(b + 1) + "_" + std::to_string(k + 1);
      const int out = widths[b];
      cv::dnn::LayerParams conv;
      conv.set("kernel_size", 3);
      conv.set("pad", 1);
      conv.set("stride", 1);
      conv.set("num_output", out);
      conv.set("bias_term", true);
      cv::Mat w(std::vector<int>{out, in_channels, 3, 3}, CV_32F);
      rng.fill(w, cv::RNG::NORMAL, 0.0, std::sqrt(2.0 / (9.0 * in_channels)));
      cv::Mat bias(out, 1, CV_32F);
      rng.fill(bias, cv::RNG::UNIFORM, -0.01, 0.01);
      conv.blobs = {w, bias};
      conv.name = "conv" + id;
      conv.type = "Convolution";
      net.addLayerToPrev(conv.name, conv.type, conv);
      cv::dnn::LayerParams relu;
      relu.name = "relu" + id;
      relu.type = "ReLU";
      net.addLayerToPrev(relu.name, relu.type, relu);
      in_channels = out;
    }
    cv::dnn::LayerParams pool;
    pool.set("pool", "max");
    pool.set("kernel_size", 2);
    pool.set("stride", 2);
    pool.name = "pool" + std::to_string(b + 1);
    pool.type = "Pooling";
    net.addLayerToPrev(pool.name, pool.type, pool);
  }
  return net;
}

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    const auto comma = s.find(',', start);
    const std::string part = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    if (!part.empty()) out.push_back(std::atoi(part.c_str()));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

struct Result {
  double bare_ips = 0;
  std::vector<double> e2e_ips, outside_share;  // per extractor
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Bare and end-to-end passes alternate `reps` times after one unmeasured
// pass of each (first-touch memory, thread start-up); the medians are
// reported, as a shared machine's speed drifts by several percent between
// passes.
Result measure(std::vector<Extractor>& extractors, cv::dnn::Net& net, const ModelSpec& spec,
               const std::vector<std::string>& paths, std::size_t batch, int reps) {
  Extractor& ex = extractors.front();
  // The same batches, decoded and prepared beforehand for the bare run.
  std::vector<PreparedBatch> batches;
  for (std::size_t i = 0; i < paths.size(); i += batch) {
    std::vector<cv::Mat> imgs;
    for (std::size_t k = i; k < std::min(paths.size(), i + batch); ++k) {
      std::string problem;
      imgs.push_back(load_image(paths[k], kDefaultMaxPixels, problem));
      if (!problem.empty()) throw Error(cat(paths[k], ": ", problem));
    }
    batches.push_back(ex.prepare(imgs));
  }
  std::vector<cv::Mat> outs;
  auto bare_pass = [&] {
    const auto t0 = Clock::now();
    for (const auto& b : batches) {
      net.setInput(b.blobs[0], spec.input);
      net.forward(outs, ex.layer_nodes());
    }
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  std::vector<std::size_t> todo(paths.size());
  for (std::size_t i = 0; i < todo.size(); ++i) todo[i] = i;
  double checksum = 0;
  auto e2e_pass = [&](Extractor& e) {
    return extract_files(
        e, paths, todo, batch, [&](std::size_t, const float* row) { checksum += row[0]; },
        [&](std::size_t i, const std::string& p) { throw Error(cat(paths[i], ": ", p)); });
  };
  bare_pass();
  for (auto& e : extractors) e2e_pass(e);
  const std::size_t m = extractors.size();
  std::vector<double> bare;
  std::vector<std::vector<double>> e2e(m), outside(m);
  for (int r = 0; r < reps; ++r) {
    bare.push_back(double(paths.size()) / bare_pass());
    for (std::size_t k = 0; k < m; ++k) {
      const PipelineStats st = e2e_pass(extractors[k]);
      e2e[k].push_back(double(st.images) / st.seconds);
      outside[k].push_back(1.0 - st.forward_seconds / st.seconds);
    }
  }
  if (!(checksum == checksum)) std::printf("(nan)\n");
  Result result;
  result.bare_ips = median(bare);
  for (std::size_t k = 0; k < m; ++k) {
    result.e2e_ips.push_back(median(e2e[k]));
    result.outside_share.push_back(median(outside[k]));
  }
  return result;
}

// Median CPU ms of this thread over `reps` calls of f: on a shared machine
// the thread's own CPU time, unlike wall time, does not count the time
// other processes held the core.
double thread_cpu_ms() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return 1e3 * double(t.tv_sec) + 1e-6 * double(t.tv_nsec);
}
template <class F>
double time_ms(int reps, F&& f) {
  std::vector<double> t;
  f();
  for (int r = 0; r < reps; ++r) {
    const double t0 = thread_cpu_ms();
    f();
    t.push_back(thread_cpu_ms() - t0);
  }
  return median(t);
}

void pool_costs(int reps) {
  const std::size_t c = 512, n = 13 * 13;
  cv::setNumThreads(1);
  Eigen::setNbThreads(1);
  cv::RNG rng(3);
  auto relu_map = [&](std::size_t positions) {
    cv::Mat m(int(c), int(positions), CV_32F);
    rng.fill(m, cv::RNG::NORMAL, 0.0, 1.0);
    m = cv::max(m, 0.0f);
    return m;
  };
  const cv::Mat map = relu_map(n), mirror = relu_map(n), big = relu_map(27 * 27);
  std::vector<float> out(packed_dim(c)), avgmax(2 * c);
  PoolOptions first;
  std::printf("# pooling steps on one thread, %zu channels x %zu positions, CPU ms per image, median of %d\n", c, n, reps);
  auto row = [](const char* what, double ms) { std::printf("%-58s %8.2f\n", what, ms); };
  row("avgmax (pool)", time_ms(reps, [&] { pool(map.ptr<float>(), c, 13, 13, first, avgmax.data()); }));
  row("bilinear B (symmetric rank-169 update, packed)",
      time_ms(reps, [&] { bilinear_pool(map.ptr<float>(), c, n, nullptr, out.data()); }));
  std::vector<float> b = out;
  row("signed-sqrt + L2 of 131,328 values", time_ms(reps, [&] {
        out = b;
        signed_sqrt_l2(out.data(), out.size());
      }));
  const float scale = float(1 / std::sqrt(double(n)));
  const MatrixRowF one = gather_positions(map.ptr<float>(), c, n, nullptr, scale);
  row("matrix-sqrt, one view (thin route, 169 x 169 Gram)", time_ms(reps, [&] { matrix_sqrt_of_factor(one, out.data()); }));
  MatrixRowF two(Eigen::Index(c), Eigen::Index(2 * n));
  two << one, gather_positions(mirror.ptr<float>(), c, n, nullptr, scale);
  two *= float(std::sqrt(0.5));
  row("matrix-sqrt, --flip (thin route, 338 x 338 Gram)", time_ms(reps, [&] { matrix_sqrt_of_factor(two, out.data()); }));
  MatrixRowF wide(Eigen::Index(c), Eigen::Index(n + 27 * 27));
  wide << one, gather_positions(big.ptr<float>(), c, 27 * 27, nullptr, float(1 / 27.0));
  row("matrix-sqrt, --scales 224,448 (eigen route, 512 x 512 B)",
      time_ms(reps, [&] { matrix_sqrt_of_factor(wide, out.data()); }));
  for (std::size_t d : {std::size_t(2048), std::size_t(8192)}) {
    const TensorSketch ts(c, c, d, 1);
    std::vector<float> sketch(d);
    for (auto route : {TensorSketch::Route::fft, TensorSketch::Route::direct}) {
      const bool fft = route == TensorSketch::Route::fft;
      const std::string what = cat("compact-bilinear sketch, D ", d, fft ? " (count sketches + FFT)" : " (B, scattered)");
      row(what.c_str(),
          time_ms(reps, [&] { ts.pool(map.ptr<float>(), map.ptr<float>(), n, nullptr, sketch.data(), route); }));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> models{"vgg16", "squeezenet"};
    std::vector<int> batch_sizes{1, 2, 4, 8, 16};
    std::vector<std::string> pools{"avgmax"};
    int images = 0, size = 224, threads = 0, reps = 3;
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw UsageError(cat(a, " needs a value"));
        return argv[++i];
      };
      if (a == "--models") {
        models.clear();
        std::string v = next();
        for (std::size_t s = 0, c; s <= v.size(); s = c + 1) {
          c = v.find(',', s);
          if (c == std::string::npos) c = v.size();
          if (c > s) models.push_back(v.substr(s, c - s));
        }
      } else if (a == "--pools") {
        pools.clear();
        std::string v = next();
        for (std::size_t s = 0, c; s <= v.size(); s = c + 1) {
          c = v.find(',', s);
          if (c == std::string::npos) c = v.size();
          if (c > s) pools.push_back(v.substr(s, c - s));
        }
      } else if (a == "--batches") batch_sizes = parse_list(next());
      else if (a == "--images") images = std::atoi(next().c_str());
      else if (a == "--size") size = std::atoi(next().c_str());
      else if (a == "--threads") threads = std::atoi(next().c_str());
      else if (a == "--reps") reps = std::max(1, std::atoi(next().c_str()));
      else if (a == "--pool-costs") {
        pool_costs(std::max(reps, 15));
        return 0;
      }
      else if (a == "-h" || a == "--help") {
        std::printf("usage: bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16] [--images N] "
                    "[--size 224] [--threads N] [--reps 3] [--pools avgmax,bilinear]\n");
        return 0;
      } else throw UsageError(cat("unknown option ", a));
    }
    if (threads > 0) cv::setNumThreads(threads);
    // Real JPEGs: flowers12 (train and test), all classes, sorted.
    std::vector<std::string> all;
    for (const char* part : {"data/flowers12/train", "data/flowers12/test"})
      for (const auto& d : fs::directory_iterator(asset_path(part)))
        for (const auto& f : fs::directory_iterator(d.path())) all.push_back(f.path().string());
    std::sort(all.begin(), all.end());

    std::printf("# bench-extract: %d threads (OpenCV), input %dx%d, JPEGs from flowers12, median of %d passes\n",
                cv::getNumThreads(), size, size, reps);
    std::printf("%-10s %5s %7s %-22s %12s %12s %8s %15s %9s\n", "model", "batch", "images", "pooling", "bare img/s",
                "e2e img/s", "e2e/bare", "outside network", "vs first");
    for (const auto& m : models) {
      ModelSpec spec;
      cv::dnn::Net net;
      std::string tap;
      int n = images;
      if (m == "vgg16") {
        spec.name = "vgg16-in-memory";
        spec.input = "data";
        spec.mean = {103.939, 116.779, 123.68};
        spec.names = "vgg16";
        spec.default_layers = {"conv5_3"};
        net = build_vgg16(42);
        if (!n) n = 32;
      } else if (m == "squeezenet") {
        spec = parse_model_spec(
            "name squeezenet\nformat onnx\nmodel models/squeezenet1_1_imagenet_notop.onnx\ninput data\n"
            "mean 103.939 116.779 123.68\nlayer fire9 onnx_node!/fire9/Concat\ndefault-layers fire9\n",
            "squeezenet.spec");
        net = cv::dnn::readNet(asset_path("models/squeezenet1_1_imagenet_notop.onnx"));
        if (!n) n = 960;
      } else {
        throw UsageError(cat("unknown model ", m, " (vgg16, squeezenet)"));
      }
      std::vector<Extractor> extractors;
      extractors.reserve(pools.size());
      for (const auto& p : pools) {
        ExtractOptions o;
        o.size = size;
        const auto colon = p.find(':');
        o.pool.pooling = parse_pooling(p.substr(0, colon));
        if (colon != std::string::npos) o.pool.bilinear_norm = parse_bilinear_norm(p.substr(colon + 1));
        extractors.emplace_back(spec, net, o);
      }
      std::vector<std::string> paths(all.begin(), all.begin() + std::min<std::size_t>(all.size(), std::size_t(n)));
      for (int b : batch_sizes) {
        const Result r = measure(extractors, net, spec, paths, std::size_t(b), reps);
        for (std::size_t k = 0; k < pools.size(); ++k)
          std::printf("%-10s %5d %7zu %-22s %12.2f %12.2f %7.1f%% %14.1f%% %8.1f%%\n", m.c_str(), b, paths.size(),
                      pools[k].c_str(), r.bare_ips, r.e2e_ips[k], 100.0 * r.e2e_ips[k] / r.bare_ips,
                      100.0 * r.outside_share[k], 100.0 * r.e2e_ips[k] / r.e2e_ips[0]);
        std::fflush(stdout);
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-extract: error: %s\n", e.what());
    return 1;
  }
}
