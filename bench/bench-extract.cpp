// bench-extract: images/s of feature extraction for the full-width VGG16
// topology (conv1_1 ... pool5, built in memory with fixed He-initialised
// weights: no download) and the real SqueezeNet 1.1, at batch 1..16: the
// bare net.forward() with Winograd and with OpenCV's own convolution, the
// PyTorch CPU peer (bench/peer-torch.py, same topology, batch, size and
// threads), and fg-extract's pipeline end to end (decode + preprocess,
// forward, pooling; extract_files as fg-extract runs it) for each pooling
// asked, all interleaved in one run.
//
//   bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16]
//                 [--images N] [--size 224] [--threads N] [--reps 3] [--chunk N]
//                 [--peer bench/peer-torch.py] [--python python3]
//                 [--pools avgmax,bilinear,...]
//   bench-extract --pool-costs
//
// Prints one line per (model, batch, pooling): the four images/s, the ratios
// Winograd/OpenCV, bare/PyTorch and end-to-end/PyTorch, end-to-end/bare (as
// a ratio of the rates, and as the median of chunk-by-chunk pairs), the
// share of the end-to-end wall time spent outside setInput + forward, and the
// end-to-end rate against the first pooling's (the bare and PyTorch figures
// are the same on each pooling's line). On a virtual machine, a pass that
// lost more than 1 % of its time to the hypervisor (steal) is run again. A pooling is a --pool
// name, optionally with its second-order norm: bilinear, bilinear:matrix-sqrt, compact-bilinear.
// --pool-costs times each pooling step alone on one thread, on a ReLU'd random map of fire9's shape
// (512 x 13 x 13), in CPU ms per image (median).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>

#include "finegrain/core/assets.hpp"
#include "finegrain/core/common.hpp"
#include "finegrain/core/io.hpp"
#include "finegrain/core/text.hpp"
#include "finegrain/extract/bilinear.hpp"
#include "finegrain/extract/extractor.hpp"
#include "finegrain/extract/image.hpp"
#include "finegrain/extract/model_spec.hpp"
#include "finegrain/extract/pipeline.hpp"
#include "finegrain/extract/winograd.hpp"

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
  for (const auto& part : split_list(s)) out.push_back(std::atoi(part.c_str()));
  return out;
}

// The PyTorch peer (bench/peer-torch.py) as a child process that runs one
// pass per "pass" line, so that its passes interleave with ours.
class Peer {
 public:
  Peer(const std::string& python, const std::string& script, const std::string& model, int batch,
       int size, int threads, int images) {
    int to[2], from[2];
    if (pipe(to) != 0 || pipe(from) != 0) throw Error("pipe failed");
    pid_ = fork();
    if (pid_ < 0) throw Error("fork failed");
    if (pid_ == 0) {
      dup2(to[0], 0);
      dup2(from[1], 1);
      close(to[1]);
      close(from[0]);
      const std::string b = std::to_string(batch), s = std::to_string(size),
                        t = std::to_string(threads), n = std::to_string(images);
      execlp(python.c_str(), python.c_str(), script.c_str(), "--model", model.c_str(), "--batch",
             b.c_str(), "--size", s.c_str(), "--threads", t.c_str(), "--images", n.c_str(),
             (char*)nullptr);
      std::printf("skip: cannot run %s\n", python.c_str());
      std::_Exit(0);
    }
    close(to[0]);
    close(from[1]);
    in_ = fdopen(to[1], "w");
    out_ = fdopen(from[0], "r");
    status_ = read_line();
    ok_ = status_.rfind("ready", 0) == 0;
  }
  ~Peer() {
    if (in_) {
      std::fputs("quit\n", in_);
      std::fclose(in_);
    }
    if (out_) std::fclose(out_);
    if (pid_ > 0) waitpid(pid_, nullptr, 0);
  }
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }
  const std::string& status() const { return status_; }
  double pass() {
    std::fputs("pass\n", in_);
    std::fflush(in_);
    const std::string line = read_line();
    double v = 0;
    if (!parse_double(line, v)) throw Error(cat("PyTorch peer: unexpected output '", line, "'"));
    return v;
  }

 private:
  std::string read_line() {
    char buf[512];
    if (!std::fgets(buf, sizeof buf, out_)) return "skip: the peer exited";
    std::string line(buf);
    while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
    return line;
  }
  pid_t pid_ = -1;
  FILE* in_ = nullptr;
  FILE* out_ = nullptr;
  bool ok_ = false;
  std::string status_;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

struct Result {
  double wino_ips = 0, opencv_ips = 0, torch_ips = 0;
  double wino_cpu_ms = 0, opencv_cpu_ms = 0;   // process CPU time per image of the bare passes
  std::vector<double> e2e_ips, outside_share;  // per pooling
  // Per pooling: the median over all chunks and reps of the chunk's bare
  // time (of --conv auto's convolution) over its end-to-end time. Each pair
  // ran within seconds on the same images, so a burst of load that falls on
  // one pass moves one pair, not the figure.
  std::vector<double> e2e_per_bare_paired;
};

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Seconds of CPU time the hypervisor gave to other guests ("steal" in
// /proc/stat, summed over the CPUs); 0 where it cannot be read.
double steal_seconds() {
  FILE* f = std::fopen("/proc/stat", "r");
  if (!f) return 0;
  unsigned long long user, nice, system, idle, iowait, irq, softirq, steal = 0;
  const int got = std::fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice,
                              &system, &idle, &iowait, &irq, &softirq, &steal);
  std::fclose(f);
  return got == 8 ? double(steal) / double(sysconf(_SC_CLK_TCK)) : 0;
}

// CPU seconds used so far by all threads of process `pid` (0: this one).
double process_cpu_seconds(pid_t pid) {
  clockid_t clock = CLOCK_PROCESS_CPUTIME_ID;
  if (pid > 0 && clock_getcpuclockid(pid, &clock) != 0) return 0;
  timespec t;
  if (clock_gettime(clock, &t) != 0) return 0;
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// Waits (at most 2 s) until this process and `peer` (0: none) used less
// than 2 ms of CPU in 20 ms between them. Thread pools keep spinning for a
// while after their work ends — PyTorch's OpenMP threads took ~0.1 s of CPU
// after each pass, about 5 % of the SqueezeNet pass that came next — so
// without the wait one side's pass pays for the other's.
void wait_until_quiet(pid_t peer) {
  const auto give_up = Clock::now() + std::chrono::seconds(2);
  auto used = [&] { return process_cpu_seconds(0) + (peer > 0 ? process_cpu_seconds(peer) : 0); };
  double before = used();
  while (Clock::now() < give_up) {
    usleep(20000);
    const double now = used();
    if (now - before < 0.002) return;
    before = now;
  }
}

// Runs one timed pass once both processes are quiet. A pass on a virtual
// machine whose host takes the CPUs away for part of it measures the host,
// not the code: `pass` runs again (up to 4 more times) while more than 1 %
// of its wall time x CPUs went to steal; the last run's result is returned.
// `repeated_for_steal` counts the extra runs.
int repeated_for_steal = 0;
template <class F>
auto timed_pass(pid_t peer, F&& pass) {
  const double cpus = double(std::max(1L, sysconf(_SC_NPROCESSORS_ONLN)));
  for (int attempt = 0;; ++attempt) {
    wait_until_quiet(peer);
    const double s0 = steal_seconds();
    const auto t0 = Clock::now();
    auto result = pass();
    const double wall = std::chrono::duration<double>(Clock::now() - t0).count();
    if (steal_seconds() - s0 <= 0.01 * wall * cpus || attempt == 4) return result;
    ++repeated_for_steal;
  }
}

// Bare passes of both convolutions, the peer's pass and the end-to-end
// passes (one per pooling, all on the network of --conv auto) alternate
// chunk by chunk (`chunk` images each, the PyTorch peer's pass too; the
// order turns by one per chunk), over all images, `reps` times, after one
// unmeasured pass of each (first-touch memory, thread start-up). A shared
// machine's speed drifts by several percent within seconds, so the finer
// the alternation, the more alike the conditions each kind of pass sees.
// Each kind's rate is its images over its summed time in one rep; the
// medians over reps are reported.
Result measure(std::vector<Extractor>& poolings, Extractor& wino, cv::dnn::Net& wino_net,
               Extractor& own, cv::dnn::Net& own_net, const ModelSpec& spec,
               const std::vector<std::string>& paths, std::size_t batch, std::size_t chunk,
               int reps, Peer* peer, ConvImpl auto_conv) {
  // The chunks' batches, decoded and prepared beforehand for the bare runs.
  std::vector<std::vector<std::size_t>> chunks;  // image indexes
  std::vector<std::vector<PreparedBatch>> batches;
  for (std::size_t c = 0; c < paths.size(); c += chunk) {
    const std::size_t end = std::min(paths.size(), c + chunk);
    chunks.emplace_back();
    batches.emplace_back();
    for (std::size_t i = c; i < end; i += batch) {
      std::vector<cv::Mat> imgs;
      for (std::size_t k = i; k < std::min(end, i + batch); ++k) {
        std::string problem;
        imgs.push_back(load_image(paths[k], kDefaultMaxPixels, problem));
        if (!problem.empty()) throw Error(cat(paths[k], ": ", problem));
        chunks.back().push_back(k);
      }
      batches.back().push_back(wino.prepare(imgs));
    }
  }
  std::vector<cv::Mat> outs;
  // Seconds of wall time, and process CPU ms in `cpu_ms`: the CPU time
  // counts only this process's work, so on a loaded machine it moves less
  // (with --threads 1 it is the work itself; with more, idle pool threads
  // spinning count too).
  auto bare_pass = [&](Extractor& ex, cv::dnn::Net& net, std::size_t c, double* cpu_ms) {
    const auto t0 = Clock::now();
    const double c0 = process_cpu_seconds(0);
    for (const auto& b : batches[c]) {
      net.setInput(b.blobs[0], spec.input);
      net.forward(outs, ex.layer_nodes());
    }
    *cpu_ms = 1e3 * (process_cpu_seconds(0) - c0);
    return std::chrono::duration<double>(Clock::now() - t0).count();
  };
  double checksum = 0;
  auto e2e_pass = [&](Extractor& ex, std::size_t c) {
    return extract_files(
        ex, paths, chunks[c], batch, [&](std::size_t, const float* row) { checksum += row[0]; },
        [&](std::size_t i, const std::string& p) { throw Error(cat(paths[i], ": ", p)); });
  };
  double cpu = 0;
  bare_pass(wino, wino_net, 0, &cpu);
  bare_pass(own, own_net, 0, &cpu);
  for (auto& ex : poolings) e2e_pass(ex, 0);
  const std::size_t m = poolings.size();
  const double n = double(paths.size());
  const pid_t peer_pid = peer ? peer->pid() : 0;
  std::vector<double> w, o, t, w_cpu, o_cpu;
  std::vector<std::vector<double>> e2e(m), outside(m), paired(m);
  for (int r = 0; r < reps; ++r) {
    double ws = 0, os = 0, ts = 0, wc = 0, oc = 0;
    std::vector<double> es(m), fs(m);
    for (std::size_t c = 0; c < chunks.size(); ++c) {
      const double images = double(chunks[c].size());
      double wino_s = 0, own_s = 0;  // this chunk's bare passes
      std::vector<double> e2e_s(m);  // and end-to-end ones
      std::vector<std::function<void()>> kinds;
      kinds.push_back([&] {
        wino_s = timed_pass(peer_pid, [&] { return bare_pass(wino, wino_net, c, &cpu); });
        ws += wino_s;
        wc += cpu;
      });
      kinds.push_back([&] {
        own_s = timed_pass(peer_pid, [&] { return bare_pass(own, own_net, c, &cpu); });
        os += own_s;
        oc += cpu;
      });
      if (peer)
        kinds.push_back([&] { ts += images / timed_pass(peer_pid, [&] { return peer->pass(); }); });
      for (std::size_t k = 0; k < m; ++k)
        kinds.push_back([&, k] {
          const PipelineStats st = timed_pass(peer_pid, [&] { return e2e_pass(poolings[k], c); });
          e2e_s[k] = st.seconds;
          es[k] += st.seconds;
          fs[k] += st.forward_seconds;
        });
      // The order turns by one kind per chunk, so that no kind always runs
      // right after the same other one (whatever a pass leaves behind —
      // caches, clocks — falls on every kind alike).
      for (std::size_t j = 0; j < kinds.size(); ++j) kinds[(j + c) % kinds.size()]();
      const double auto_bare_s = auto_conv == ConvImpl::winograd ? wino_s : own_s;
      for (std::size_t k = 0; k < m; ++k) paired[k].push_back(auto_bare_s / e2e_s[k]);
    }
    w.push_back(n / ws);
    o.push_back(n / os);
    if (peer) t.push_back(n / ts);
    w_cpu.push_back(wc / n);
    o_cpu.push_back(oc / n);
    for (std::size_t k = 0; k < m; ++k) {
      e2e[k].push_back(n / es[k]);
      outside[k].push_back(1.0 - fs[k] / es[k]);
    }
  }
  if (!(checksum == checksum)) std::printf("(nan)\n");
  Result result{median(w), median(o), median(t), median(w_cpu), median(o_cpu), {}, {}, {}};
  for (std::size_t k = 0; k < m; ++k) {
    result.e2e_ips.push_back(median(e2e[k]));
    result.outside_share.push_back(median(outside[k]));
    result.e2e_per_bare_paired.push_back(median(paired[k]));
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
  std::printf(
      "# pooling steps on one thread, %zu channels x %zu positions, CPU ms per image, median of "
      "%d\n",
      c, n, reps);
  auto row = [](const char* what, double ms) { std::printf("%-58s %8.2f\n", what, ms); };
  row("avgmax (pool)",
      time_ms(reps, [&] { pool(map.ptr<float>(), c, 13, 13, first, avgmax.data()); }));
  row("bilinear B (symmetric rank-169 update, packed)",
      time_ms(reps, [&] { bilinear_pool(map.ptr<float>(), c, n, nullptr, out.data()); }));
  std::vector<float> b = out;
  row("signed-sqrt + L2 of 131,328 values", time_ms(reps, [&] {
        out = b;
        signed_sqrt_l2(out.data(), out.size());
      }));
  const float scale = float(1 / std::sqrt(double(n)));
  const MatrixRowF one = gather_positions(map.ptr<float>(), c, n, nullptr, scale);
  row("matrix-sqrt, one view (thin route, 169 x 169 Gram)",
      time_ms(reps, [&] { matrix_sqrt_of_factor(one, out.data()); }));
  MatrixRowF two(Eigen::Index(c), Eigen::Index(2 * n));
  two << one, gather_positions(mirror.ptr<float>(), c, n, nullptr, scale);
  two *= float(std::sqrt(0.5));
  row("matrix-sqrt, --flip (thin route, 338 x 338 Gram)",
      time_ms(reps, [&] { matrix_sqrt_of_factor(two, out.data()); }));
  MatrixRowF wide(Eigen::Index(c), Eigen::Index(n + 27 * 27));
  wide << one, gather_positions(big.ptr<float>(), c, 27 * 27, nullptr, float(1 / 27.0));
  row("matrix-sqrt, --scales 224,448 (eigen route, 512 x 512 B)",
      time_ms(reps, [&] { matrix_sqrt_of_factor(wide, out.data()); }));
  for (std::size_t d : {std::size_t(2048), std::size_t(8192)}) {
    const TensorSketch ts(c, c, d, 1);
    std::vector<float> sketch(d);
    for (auto route : {TensorSketch::Route::fft, TensorSketch::Route::direct}) {
      const bool fft = route == TensorSketch::Route::fft;
      const std::string what = cat("compact-bilinear sketch, D ", d,
                                   fft ? " (count sketches + FFT)" : " (B, scattered)");
      row(what.c_str(), time_ms(reps, [&] {
            ts.pool(map.ptr<float>(), map.ptr<float>(), n, nullptr, sketch.data(), route);
          }));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::vector<std::string> models{"vgg16", "squeezenet"};
    std::vector<int> batch_sizes{1, 2, 4, 8, 16};
    std::vector<std::string> pools{"avgmax"};
    int images = 0, size = 224, threads = 0, reps = 3, chunk = 0;
    bool costs = false;
    std::string peer_script, python = "python3";
    for (int i = 1; i < argc; ++i) {
      const std::string a = argv[i];
      auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw UsageError(cat(a, " needs a value"));
        return argv[++i];
      };
      if (a == "--models")
        models = split_list(next());
      else if (a == "--pools")
        pools = split_list(next());
      else if (a == "--pool-costs")
        costs = true;
      else if (a == "--batches")
        batch_sizes = parse_list(next());
      else if (a == "--images")
        images = std::atoi(next().c_str());
      else if (a == "--size")
        size = std::atoi(next().c_str());
      else if (a == "--threads")
        threads = std::atoi(next().c_str());
      else if (a == "--chunk")
        chunk = std::max(1, std::atoi(next().c_str()));
      else if (a == "--reps")
        reps = std::max(1, std::atoi(next().c_str()));
      else if (a == "--peer")
        peer_script = next();
      else if (a == "--python")
        python = next();
      else if (a == "-h" || a == "--help") {
        std::printf(
            "usage: bench-extract [--models vgg16,squeezenet] [--batches 1,2,4,8,16] [--images N] "
            "[--size 224] [--threads N] [--reps 3] [--chunk N] [--peer bench/peer-torch.py] "
            "[--python "
            "python3] [--pools avgmax,bilinear]\n"
            "       bench-extract --pool-costs [--reps 15]\n");
        return 0;
      } else
        throw UsageError(cat("unknown option ", a));
    }
    if (pools.empty()) throw UsageError("--pools needs at least one pooling");
    std::vector<PoolOptions> pool_options(pools.size());  // checked before any output
    for (std::size_t k = 0; k < pools.size(); ++k) {
      const auto colon = pools[k].find(':');
      pool_options[k].pooling = parse_pooling(pools[k].substr(0, colon));
      if (colon != std::string::npos)
        pool_options[k].bilinear_norm = parse_bilinear_norm(pools[k].substr(colon + 1));
    }
    if (costs) {
      pool_costs(std::max(reps, 15));
      return 0;
    }
    if (threads > 0) cv::setNumThreads(threads);
    // Real JPEGs: flowers12 (train and test), all classes, sorted.
    std::vector<std::string> all;
    for (const char* part : {"data/flowers12/train", "data/flowers12/test"})
      for (const auto& d : fs::directory_iterator(asset_path(part)))
        for (const auto& f : fs::directory_iterator(d.path())) all.push_back(f.path().string());
    std::sort(all.begin(), all.end());

    std::printf(
        "# bench-extract: %d threads (OpenCV), input %dx%d, JPEGs from flowers12, "
        "median of %d reps of passes interleaved %s; Winograd kernels: %s\n",
        cv::getNumThreads(), size, size, reps,
        chunk > 0 ? cat("every ", chunk, " images").c_str() : "over all images",
        to_string(best_winograd_isa()).c_str());
    std::printf(
        "# bare = setInput + forward on prepared blobs; e2e = fg-extract's pipeline (decode, "
        "resize, "
        "forward, pooling) with fg-extract's default --conv auto (the spec's conv line; "
        "e2e/bare against that conv's bare pass); torch = PyTorch CPU, same "
        "topology/batch/threads\n");
    std::printf(
        "# cpu w, cpu o = process CPU ms per image of the bare Winograd and OpenCV-conv passes "
        "(less exposed to other processes' load than images/s); cpu o/w = their ratio (> 1: "
        "Winograd needs less CPU)\n");
    std::printf(
        "# e2e/bare = the e2e rate over the bare one (of the medians); paired = the median over "
        "all chunks and reps of each chunk's bare time over its e2e time (passes seconds apart)\n");
    std::printf("%-10s %5s %6s %-22s %10s %10s %10s %10s %9s %9s %9s %8s %8s %8s %8s %8s %8s %8s\n",
                "model", "batch", "images", "pooling", "winograd", "opencv", "torch", "e2e",
                "wino/ocv", "bare/pt", "e2e/pt", "e2e/bare", "paired", "outside", "vs first",
                "cpu w", "cpu o", "cpu o/w");
    for (const auto& m : models) {
      ModelSpec spec;
      int n = images;
      cv::dnn::Net wino_net, own_net;
      if (m == "vgg16") {
        spec.name = "vgg16-in-memory";
        spec.input = "data";
        spec.mean = {103.939, 116.779, 123.68};
        spec.names = "vgg16";
        spec.default_layers = {"conv5_3"};
        wino_net = build_vgg16(42);
        own_net = build_vgg16(42);
        if (!n) n = 32;
      } else if (m == "squeezenet") {
        spec = load_model_spec("squeezenet1_1_imagenet_notop");  // its conv line decides auto
        {
          ConvImplScope scope(ConvImpl::winograd);  // the ONNX reader creates the layers
          wino_net = cv::dnn::readNet(spec.model_path());
        }
        {
          ConvImplScope scope(ConvImpl::opencv);
          own_net = cv::dnn::readNet(spec.model_path());
        }
        if (!n) n = 960;
      } else {
        throw UsageError(cat("unknown model ", m, " (vgg16, squeezenet)"));
      }
      ExtractOptions o;
      o.size = size;
      // The bare runs: their pooling does not matter.
      o.conv = ConvImpl::winograd;
      Extractor wino(spec, wino_net, o);
      o.conv = ConvImpl::opencv;
      Extractor own(spec, own_net, o);
      // One end-to-end extractor per pooling with fg-extract's default conv
      // (auto), on the network built with the convolution it resolves to.
      o.conv.reset();
      const ConvImpl auto_conv = *o.resolved(spec).conv;
      std::printf("# %s: --conv auto runs %s\n", m.c_str(), to_string(auto_conv).c_str());
      std::vector<Extractor> poolings;
      poolings.reserve(pools.size());
      for (const auto& p : pool_options) {
        o.pool = p;
        poolings.emplace_back(spec, auto_conv == ConvImpl::winograd ? wino_net : own_net, o);
      }
      std::vector<std::string> paths(
          all.begin(), all.begin() + std::min<std::size_t>(all.size(), std::size_t(n)));
      const std::size_t chunk_images =
          chunk > 0 ? std::min(std::size_t(chunk), paths.size()) : paths.size();
      for (int b : batch_sizes) {
        std::unique_ptr<Peer> peer;
        if (!peer_script.empty()) {
          peer = std::make_unique<Peer>(python, peer_script, m, b, size, cv::getNumThreads(),
                                        int(chunk_images));
          if (!peer->ok()) {
            std::printf("# PyTorch peer skipped: %s\n", peer->status().c_str());
            peer_script.clear();
            peer.reset();
          }
        }
        const Result r = measure(poolings, wino, wino_net, own, own_net, spec, paths,
                                 std::size_t(b), chunk_images, reps, peer.get(), auto_conv);
        const double auto_bare = auto_conv == ConvImpl::winograd ? r.wino_ips : r.opencv_ips;
        auto ratio = [](double a, double b) {
          return b > 0 ? cat(fixed(a / b, 2), "x") : std::string("-");
        };
        for (std::size_t k = 0; k < pools.size(); ++k)
          std::printf(
              "%-10s %5d %6zu %-22s %10.2f %10.2f %10s %10.2f %9s %9s %9s %7.1f%% %7.1f%% "
              "%7.1f%% %7.1f%% %8.1f %8.1f %7.2fx\n",
              m.c_str(), b, paths.size(), pools[k].c_str(), r.wino_ips, r.opencv_ips,
              r.torch_ips > 0 ? fixed(r.torch_ips, 2).c_str() : "-", r.e2e_ips[k],
              ratio(r.wino_ips, r.opencv_ips).c_str(), ratio(r.wino_ips, r.torch_ips).c_str(),
              ratio(r.e2e_ips[k], r.torch_ips).c_str(), 100.0 * r.e2e_ips[k] / auto_bare,
              100.0 * r.e2e_per_bare_paired[k], 100.0 * r.outside_share[k],
              100.0 * r.e2e_ips[k] / r.e2e_ips[0], r.wino_cpu_ms, r.opencv_cpu_ms,
              r.wino_cpu_ms > 0 ? r.opencv_cpu_ms / r.wino_cpu_ms : 0.0);
        std::fflush(stdout);
      }
    }
    std::printf("# %d passes run again: more than 1%% of their time went to steal\n",
                repeated_for_steal);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-extract: error: %s\n", e.what());
    return 1;
  }
}
