// The <output>.partial file that makes an interrupted extraction resumable.
#include "finegrain/extract/checkpoint.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "finegrain/core/common.hpp"

namespace fs = std::filesystem;

namespace fg {

namespace {
const char kPartialMagic[] = "FGPARTIAL\n";  // 10 bytes
constexpr std::uint32_t kPartialVersion = 1;

template <class T>
void put(std::ostream& out, T v) {
  out.write(reinterpret_cast<const char*>(&v), sizeof v);
}
template <class T>
bool get(std::istream& in, T& v) {
  return bool(in.read(reinterpret_cast<char*>(&v), sizeof v));
}
}  // namespace

namespace {
// The pid holding a flock on the file with this device and inode, from
// Linux's /proc/locks ("1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF"); 0 if unknown.
long lock_holder(dev_t device, ino_t inode) {
  std::ifstream locks("/proc/locks");
  std::string line;
  while (std::getline(locks, line)) {
    std::istringstream fields(line);
    std::string number, kind, mode, access, id;
    long pid = 0;
    if (!(fields >> number >> kind >> mode >> access >> pid >> id) || kind != "FLOCK") continue;
    unsigned major_number = 0, minor_number = 0;
    unsigned long long ino = 0;
    if (std::sscanf(id.c_str(), "%x:%x:%llu", &major_number, &minor_number, &ino) == 3 &&
        ino == inode && major_number == major(device) && minor_number == minor(device))
      return pid;
  }
  return 0;
}
}  // namespace

struct ExtractCheckpoint::Impl {
  std::fstream file;
  int lock_fd = -1;  // holds the flock that keeps a second run off this output
  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }
};

void ExtractCheckpoint::lock() {
  // Lock, then check that the path still names the locked file: a run that
  // just finished may have removed it between our open() and flock().
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw Error(
          cat(path_, ": cannot create the partial extraction file (", std::strerror(errno), ")"));
    struct stat held {};
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int why = errno;
      ::fstat(fd, &held);
      ::close(fd);
      if (why != EWOULDBLOCK) throw Error(cat(path_, ": cannot lock (", std::strerror(why), ")"));
      const long pid = lock_holder(held.st_dev, held.st_ino);
      throw Error(cat(path_, ": another run", pid > 0 ? cat(" (pid ", pid, ")") : std::string(),
                      " is extracting to this output now; wait for it to finish or stop it"));
    }
    struct stat now {};
    if (::fstat(fd, &held) == 0 && ::stat(path_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev) {
      impl_->lock_fd = fd;
      return;
    }
    ::close(fd);
  }
  throw Error(cat(path_, ": cannot lock (the file keeps being replaced)"));
}

ExtractCheckpoint::ExtractCheckpoint(const std::string& path, const std::string& identity,
                                     std::size_t dim, std::size_t rows_per_image, bool resume)
    : path_(path), dim_(dim), rows_per_image_(rows_per_image), impl_(std::make_unique<Impl>()) {
  std::uint64_t good_end = 0;
  bool keep = false;
  std::error_code error;
  existed_ = fs::file_size(path, error) > 0 && !error;
  lock();
  if (resume && existed_) {
    std::ifstream in(path, std::ios::binary);
    char magic[sizeof kPartialMagic - 1];
    std::uint32_t version = 0, idlen = 0, d = 0, r = 0;
    if (!in.read(magic, sizeof magic) || std::memcmp(magic, kPartialMagic, sizeof magic) != 0 ||
        !get(in, version))
      throw Error(cat(path, ": not a finegrain partial extraction (delete it, or drop --resume)"));
    if (version != kPartialVersion)
      throw Error(cat(path, ": partial extraction version ", version, ", this program writes ",
                      kPartialVersion, " (delete it, or drop --resume)"));
    std::string id;
    if (!get(in, idlen) || idlen > (1u << 24))
      throw Error(cat(path, ": damaged header (delete it)"));
    id.resize(idlen);
    if (!in.read(&id[0], idlen) || !get(in, d) || !get(in, r))
      throw Error(cat(path, ": damaged header (delete it)"));
    if (id != identity || d != dim || r != rows_per_image)
      throw Error(
          cat(path,
              ": made with different options, model or manifest, or with another --threads/--batch "
              "(the values depend on them in the last bits); resume with the same, delete it, or "
              "drop --resume to start afresh"));
    good_end = std::uint64_t(in.tellg());
    const std::uint64_t floats = std::uint64_t(dim) * rows_per_image;
    std::vector<float> buf(floats);
    for (;;) {
      const std::uint64_t at = std::uint64_t(in.tellg());
      char tag;
      std::uint64_t index;
      if (!get(in, tag) || !get(in, index)) break;
      if (tag == 'R') {
        if (!in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(floats * sizeof(float))))
          break;
      } else if (tag == 'S') {
        std::uint32_t len;
        if (!get(in, len) || len > (1u << 20)) break;
        std::string s(len, '\0');
        if (len && !in.read(&s[0], len)) break;
      } else {
        break;
      }
      records_[std::size_t(index)] = at;
      good_end = std::uint64_t(in.tellg());
    }
    keep = true;
    resumed_ = records_.size();
  }
  if (keep) {
    fs::resize_file(path, good_end);  // drop a torn last record
    impl_->file.open(path, std::ios::binary | std::ios::in | std::ios::out);
    impl_->file.seekp(0, std::ios::end);
  } else {
    impl_->file.open(path, std::ios::binary | std::ios::in | std::ios::out | std::ios::trunc);
    if (!impl_->file) throw Error(cat(path, ": cannot create the partial extraction file"));
    impl_->file.write(kPartialMagic, sizeof kPartialMagic - 1);
    put(impl_->file, kPartialVersion);
    put(impl_->file, std::uint32_t(identity.size()));
    impl_->file.write(identity.data(), std::streamsize(identity.size()));
    put(impl_->file, std::uint32_t(dim));
    put(impl_->file, std::uint32_t(rows_per_image));
    impl_->file.flush();
  }
  if (!impl_->file) throw Error(cat(path, ": cannot write the partial extraction file"));
}

ExtractCheckpoint::~ExtractCheckpoint() = default;

void ExtractCheckpoint::add_rows(std::size_t index, const float* rows) {
  auto& f = impl_->file;
  records_[index] = std::uint64_t(f.tellp());
  put(f, 'R');
  put(f, std::uint64_t(index));
  f.write(reinterpret_cast<const char*>(rows),
          std::streamsize(dim_ * rows_per_image_ * sizeof(float)));
}

void ExtractCheckpoint::add_skip(std::size_t index, const std::string& problem) {
  auto& f = impl_->file;
  records_[index] = std::uint64_t(f.tellp());
  put(f, 'S');
  put(f, std::uint64_t(index));
  put(f, std::uint32_t(problem.size()));
  f.write(problem.data(), std::streamsize(problem.size()));
}

void ExtractCheckpoint::flush() {
  impl_->file.flush();
  if (!impl_->file) throw Error(cat(path_, ": write error (disk full?)"));
}

void ExtractCheckpoint::replay(
    const std::function<void(std::size_t, const float*)>& on_rows,
    const std::function<void(std::size_t, const std::string&)>& on_skip) {
  flush();
  auto& f = impl_->file;
  std::vector<float> buf(dim_ * rows_per_image_);
  for (const auto& [index, at] : records_) {
    f.seekg(std::streamoff(at));
    char tag;
    std::uint64_t idx;
    if (!get(f, tag) || !get(f, idx) || idx != index)
      throw Error(cat(path_, ": damaged record (delete it)"));
    if (tag == 'R') {
      if (!f.read(reinterpret_cast<char*>(buf.data()), std::streamsize(buf.size() * sizeof(float))))
        throw Error(cat(path_, ": damaged record (delete it)"));
      on_rows(index, buf.data());
    } else {
      std::uint32_t len;
      if (!get(f, len)) throw Error(cat(path_, ": damaged record (delete it)"));
      std::string s(len, '\0');
      if (len && !f.read(&s[0], len)) throw Error(cat(path_, ": damaged record (delete it)"));
      on_skip(index, s);
    }
  }
  f.clear();
  f.seekp(0, std::ios::end);
}

void ExtractCheckpoint::remove() {
  impl_->file.close();
  std::error_code ec;
  fs::remove(path_, ec);  // while still locked, so no other run can take it over half-removed
  if (impl_->lock_fd >= 0) ::close(impl_->lock_fd);
  impl_->lock_fd = -1;
}

}  // namespace fg
