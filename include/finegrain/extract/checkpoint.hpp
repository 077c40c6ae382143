// The <output>.partial file of an extraction, so an interrupted run can resume.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace fg {

// The work file beside an output (<output>.partial) that makes an
// interrupted extraction resumable. It is not a feature table (own magic,
// no end marker), so nothing mistakes it for finished output. Records are
// appended and flushed per batch; a torn last record is dropped on resume.
class ExtractCheckpoint {
 public:
  static std::string path_for(const std::string& output) { return output + ".partial"; }
  // Opens `path`. With resume and a file made with the same `identity`
  // (options, model, manifest), keeps its records; a different identity is
  // an Error saying so. Without resume, starts a new file. The file is
  // locked (flock) while this object lives: a second run on the same output
  // fails with an Error naming the running one's pid.
  ExtractCheckpoint(const std::string& path, const std::string& identity, std::size_t dim,
                    std::size_t rows_per_image, bool resume);
  ~ExtractCheckpoint();
  std::size_t resumed() const { return resumed_; }
  // Whether a partial file (of an earlier run) was there before.
  bool existed() const { return existed_; }
  bool done(std::size_t index) const { return records_.count(index) != 0; }
  void add_rows(std::size_t index, const float* rows);
  void add_skip(std::size_t index, const std::string& problem);
  void flush();
  // Every record, in index order.
  void replay(const std::function<void(std::size_t, const float*)>& on_rows,
              const std::function<void(std::size_t, const std::string&)>& on_skip);
  void remove();
  const std::string& path() const { return path_; }

 private:
  struct Impl;
  void lock();
  std::string path_;
  std::size_t dim_, rows_per_image_;
  std::size_t resumed_ = 0;
  bool existed_ = false;
  std::map<std::size_t, std::uint64_t> records_;  // index -> file offset
  std::unique_ptr<Impl> impl_;
};

}  // namespace fg
