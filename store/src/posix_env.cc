// The real Env: POSIX files, written through io_uring (one ring per file) or
// pwrite + fdatasync; persistent-memory mappings through libpmem2.
#include <dirent.h>
#include <fcntl.h>
#include <liburing.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "base/mutex.h"
#include "posix_pmem.h"
#include "store/env.h"

namespace sluice::store {

void AlignedFree::operator()(std::byte* p) const { std::free(p); }

AlignedBuffer AllocateAligned(std::size_t size) {
  void* p = nullptr;
  // posix_memalign rather than aligned_alloc: it accepts any size, while
  // aligned_alloc requires a multiple of the alignment.
  const int err = posix_memalign(&p, kDirectAlignment, std::max<std::size_t>(size, 1));
  SLUICE_CHECK(err == 0);  // out of memory: nothing sensible left to do
  return AlignedBuffer(static_cast<std::byte*>(p));
}

Result<std::unique_ptr<PersistentRegion>> Env::MapPersistent(const std::string& path,
                                                             std::uint64_t /*size*/) {
  return Unsupported("map " + path + ": this environment cannot map persistent memory");
}

namespace {

class BufferedFile final : public WholeFile {
 public:
  BufferedFile(std::unique_ptr<std::byte[]> data, std::size_t size)
      : data_(std::move(data)), size_(size) {}
  std::span<const std::byte> bytes() const override { return {data_.get(), size_}; }

 private:
  std::unique_ptr<std::byte[]> data_;
  std::size_t size_;
};

class MappedFile final : public WholeFile {
 public:
  MappedFile(void* addr, std::size_t size) : addr_(addr), size_(size) {}
  ~MappedFile() override { ::munmap(addr_, size_); }
  std::span<const std::byte> bytes() const override {
    return {static_cast<const std::byte*>(addr_), size_};
  }

 private:
  void* addr_;
  std::size_t size_;
};

}  // namespace

Result<std::unique_ptr<WholeFile>> Env::ReadWholeFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto file, OpenFile(path, FileOptions{.read_only = true}));
  SLUICE_ASSIGN_OR_RETURN(auto size, file->Size());
  // Not zero-filled: Read overwrites what it returns, and only that is kept.
  std::unique_ptr<std::byte[]> data(new std::byte[std::max<std::uint64_t>(size, 1)]);
  SLUICE_ASSIGN_OR_RETURN(auto got, file->Read(0, {data.get(), static_cast<std::size_t>(size)}));
  return std::unique_ptr<WholeFile>(std::make_unique<BufferedFile>(std::move(data), got));
}

Result<Env::Space> Env::FileSystemSpace(const std::string& path) {
  struct statvfs vfs{};
  if (::statvfs(path.c_str(), &vfs) != 0) return ErrnoStatus("statvfs " + path, errno);
  Space space;
  space.free_bytes = std::uint64_t{vfs.f_bavail} * vfs.f_frsize;
  space.total_bytes = std::uint64_t{vfs.f_blocks} * vfs.f_frsize;
  space.read_only = (vfs.f_flag & ST_RDONLY) != 0;
  return space;
}

namespace {

// Submission queue depth of each file's ring. A batch with more slices is
// submitted in rounds; only the last round carries the fsync.
constexpr unsigned kRingEntries = 64;
// Bytes of zeros written per call by Preallocate().
constexpr std::size_t kZeroChunk = 1 << 20;
// Bound on rounds that made no progress (EAGAIN/EINTR storms), so that a
// misbehaving kernel yields an error instead of a hang.
constexpr int kMaxIdleRounds = 1000;

bool IsAligned(std::uint64_t v) { return v % kDirectAlignment == 0; }

bool Transient(int err) { return err == EAGAIN || err == EINTR; }

// Writes all of `data` at `offset` with pwrite, resuming after short writes.
Status PwriteAll(int fd, std::uint64_t offset, const std::byte* data, std::size_t size,
                 const std::string& path) {
  int idle = 0;
  while (size > 0) {
    const ssize_t n = ::pwrite(fd, data, size, static_cast<off_t>(offset));
    if (n < 0) {
      if (Transient(errno) && ++idle < kMaxIdleRounds) continue;
      return ErrnoStatus("pwrite " + path, errno);
    }
    if (n == 0) return IoError("pwrite " + path + ": wrote nothing");
    data += n;
    offset += static_cast<std::uint64_t>(n);
    size -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status Fdatasync(int fd, const std::string& path) {
  for (int i = 0; i < kMaxIdleRounds; ++i) {
    if (::fdatasync(fd) == 0) return Status::Ok();
    if (errno != EINTR) return ErrnoStatus("fdatasync " + path, errno);
  }
  return IoError("fdatasync " + path + ": interrupted too often");
}

// Creates a ring and checks that it can do what WriteAndSync needs.
// Returns the negative errno of the failure, 0 on success.
int InitRing(io_uring* ring) {
  const int rc = io_uring_queue_init(kRingEntries, ring, 0);
  if (rc < 0) return rc;
  io_uring_probe* probe = io_uring_get_probe_ring(ring);
  const bool ok = probe != nullptr && io_uring_opcode_supported(probe, IORING_OP_WRITE) &&
                  io_uring_opcode_supported(probe, IORING_OP_FSYNC);
  if (probe != nullptr) io_uring_free_probe(probe);
  if (!ok) {
    io_uring_queue_exit(ring);
    return -EOPNOTSUPP;
  }
  return 0;
}

class PosixFile final : public File {
 public:
  PosixFile(int fd, std::string path, bool direct)
      : fd_(fd), path_(std::move(path)), direct_(direct) {}
  ~PosixFile() override {
    if (ring_ok_) io_uring_queue_exit(&ring_);
    ::close(fd_);
  }

  // Returns the negative errno when the ring cannot be created.
  int EnableRing() {
    const int rc = InitRing(&ring_);
    ring_ok_ = rc == 0;
    return rc;
  }

  Status WriteAndSync(std::span<const WriteSlice> slices) override {
    for (const auto& s : slices) {
      SLUICE_RETURN_IF_ERROR(CheckAlignment(s.offset, s.data.data(), s.data.size()));
    }
    if (!ring_ok_) {
      for (const auto& s : slices) {
        SLUICE_RETURN_IF_ERROR(PwriteAll(fd_, s.offset, s.data.data(), s.data.size(), path_));
      }
      return Fdatasync(fd_, path_);
    }
    MutexLock lock(ring_mu_);  // the ring is not thread-safe
    return UringWriteAndSync(slices);
  }

  Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    SLUICE_RETURN_IF_ERROR(CheckAlignment(offset, data.data(), data.size()));
    return PwriteAll(fd_, offset, data.data(), data.size(), path_);
  }

  Status Sync() override { return Fdatasync(fd_, path_); }

  Result<std::size_t> Read(std::uint64_t offset, std::span<std::byte> data) override {
    SLUICE_RETURN_IF_ERROR(CheckAlignment(offset, data.data(), data.size()));
    std::size_t done = 0;
    int idle = 0;
    while (done < data.size()) {
      const ssize_t n = ::pread(fd_, data.data() + done, data.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0) {
        if (Transient(errno) && ++idle < kMaxIdleRounds) continue;
        return ErrnoStatus("pread " + path_, errno);
      }
      if (n == 0) break;  // end of file
      done += static_cast<std::size_t>(n);
      // A direct read may stop at an unaligned end of file; continuing would
      // ask for an unaligned offset.
      if (direct_ && !IsAligned(done)) break;
    }
    return done;
  }

  Status Preallocate(std::uint64_t size, Preallocation how) override {
    SLUICE_ASSIGN_OR_RETURN(auto current, Size());
    const std::uint64_t start = current;
    if (size <= start) return Status::Ok();
    // Reserve the extents in one go where the file system can (contiguous
    // blocks); the zeros below are what makes the first syncs cheap.
    if (::fallocate(fd_, 0, static_cast<off_t>(start), static_cast<off_t>(size - start)) != 0) {
      if (errno != EOPNOTSUPP && errno != ENOSYS) return ErrnoStatus("fallocate " + path_, errno);
      if (how == Preallocation::kReserve && ::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
        return ErrnoStatus("ftruncate " + path_, errno);
      }
    }
    if (how == Preallocation::kReserve) return Fdatasync(fd_, path_);
    int fd = fd_;
    int buffered_fd = -1;
    if (direct_ && (!IsAligned(start) || !IsAligned(size))) {
      // An unaligned range cannot go through O_DIRECT; a second, buffered
      // descriptor writes it and the fdatasync below flushes it.
      buffered_fd = ::open(path_.c_str(), O_WRONLY | O_CLOEXEC);
      if (buffered_fd < 0) return ErrnoStatus("open " + path_, errno);
      fd = buffered_fd;
    }
    const AlignedBuffer zeros = AllocateAligned(kZeroChunk);
    std::memset(zeros.get(), 0, kZeroChunk);
    Status st;
    for (std::uint64_t off = start; off < size && st.ok();) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(kZeroChunk, size - off));
      st = PwriteAll(fd, off, zeros.get(), n, path_);
      off += n;
    }
    if (st.ok()) st = Fdatasync(fd, path_);
    if (buffered_fd >= 0) ::close(buffered_fd);
    return st;
  }

  Result<std::uint64_t> Size() override {
    struct stat st{};
    if (::fstat(fd_, &st) != 0) return ErrnoStatus("fstat " + path_, errno);
    return static_cast<std::uint64_t>(st.st_size);
  }

  const std::string& path() const override { return path_; }

 private:
  // Offsets come from recovered files too, so a misaligned write is an
  // error the caller survives, never an abort.
  Status CheckAlignment(std::uint64_t offset, const void* p, std::size_t n) const {
    if (!direct_ || (IsAligned(offset) && IsAligned(n) &&
                     IsAligned(reinterpret_cast<std::uintptr_t>(p)))) {
      return Status::Ok();
    }
    return InvalidArgument("direct write to " + path_ + " at offset " + std::to_string(offset) +
                           " of " + std::to_string(n) + " bytes is not 4096-aligned");
  }

  struct Pending {
    std::uint64_t offset;
    const std::byte* data;
    std::size_t size;
  };

  // The writes go out in rounds of at most kWindowBytes, the last with an
  // IORING_OP_FSYNC (DATASYNC) that drains them. A short or failed write is
  // resubmitted (its remainder) in the next round, and the sync with it,
  // until a round with the sync completes whole.
  Status UringWriteAndSync(std::span<const WriteSlice> slices) SLUICE_REQUIRES(ring_mu_) {
    std::vector<Pending> pending;
    pending.reserve(slices.size());
    for (const auto& s : slices) {
      if (!s.data.empty()) pending.push_back({s.offset, s.data.data(), s.data.size()});
    }
    int idle = 0;
    for (;;) {
      // At most kWindowBytes at a time in the device's queue (at least one
      // write): a small synced write to another file (the write-ahead log)
      // waits behind what is queued, and a large group would make every
      // acknowledgement wait for it.
      std::size_t nwrites = 0;
      for (std::size_t bytes = 0; nwrites < std::min<std::size_t>(pending.size(), kRingEntries - 1);
           ++nwrites) {
        bytes += pending[nwrites].size;
        if (nwrites > 0 && bytes > kWindowBytes) break;
      }
      const bool with_sync = nwrites == pending.size();
      for (std::size_t i = 0; i < nwrites; ++i) {
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        SLUICE_CHECK(sqe != nullptr);  // the ring was drained by the previous round
        // Capped at 1 GiB (the length is 32 bits); the rest follows as if
        // the write had been short.
        const auto len = static_cast<unsigned>(std::min<std::size_t>(pending[i].size, 1u << 30));
        io_uring_prep_write(sqe, fd_, pending[i].data, len, pending[i].offset);
        sqe->user_data = i;
      }
      if (with_sync) {
        // The writes go to the device together (a linked chain would issue
        // them one after the other); the sync waits for all of them (drain).
        // A short or failed write is retried below before the round counts.
        io_uring_sqe* sqe = io_uring_get_sqe(&ring_);
        SLUICE_CHECK(sqe != nullptr);
        io_uring_prep_fsync(sqe, fd_, IORING_FSYNC_DATASYNC);
        sqe->flags |= IOSQE_IO_DRAIN;
        sqe->user_data = kSyncTag;
      }
      const unsigned want = static_cast<unsigned>(nwrites + (with_sync ? 1 : 0));
      std::vector<int> results(nwrites, -ECANCELED);
      int sync_result = -ECANCELED;
      SLUICE_RETURN_IF_ERROR(SubmitAndReap(want, results, &sync_result));

      bool progress = false;
      std::vector<Pending> next;
      for (std::size_t i = 0; i < nwrites; ++i) {
        const int r = results[i];
        Pending p = pending[i];
        if (r < 0) {
          if (!Transient(-r) && r != -ECANCELED) return ErrnoStatus("io_uring write " + path_, -r);
        } else if (r == 0) {
          return IoError("io_uring write " + path_ + ": wrote nothing");
        } else {
          progress = true;
          p.offset += static_cast<std::uint64_t>(r);
          p.data += r;
          p.size -= static_cast<std::size_t>(r);
        }
        if (p.size > 0) next.push_back(p);
      }
      next.insert(next.end(), pending.begin() + static_cast<std::ptrdiff_t>(nwrites),
                  pending.end());
      pending = std::move(next);
      if (with_sync && pending.empty()) {
        if (sync_result == 0) return Status::Ok();
        if (sync_result != -ECANCELED && !Transient(-sync_result)) {
          return ErrnoStatus("io_uring fdatasync " + path_, -sync_result);
        }
      }
      if (!progress && ++idle >= kMaxIdleRounds) {
        return IoError("io_uring " + path_ + ": no progress after repeated retries");
      }
    }
  }

  // Submits `want` prepared entries and waits for as many completions. Every
  // submitted entry is reaped before returning, even on error: the kernel
  // must not touch the caller's buffers after we return.
  Status SubmitAndReap(unsigned want, std::vector<int>& results, int* sync_result) {
    unsigned submitted = 0;
    Status st;
    while (submitted < want) {
      const int rc = io_uring_submit(&ring_);
      if (rc < 0) {
        if (Transient(-rc)) continue;
        st = ErrnoStatus("io_uring_submit " + path_, -rc);
        break;
      }
      submitted += static_cast<unsigned>(rc);
      if (rc == 0) break;  // nothing left in the queue
    }
    for (unsigned got = 0; got < submitted;) {
      io_uring_cqe* cqe = nullptr;
      const int rc = io_uring_wait_cqe(&ring_, &cqe);
      if (rc < 0) {
        if (rc == -EINTR || rc == -EAGAIN) continue;
        // Returning would let the kernel write from buffers the caller frees.
        CheckFailed(__FILE__, __LINE__, "io_uring_wait_cqe", std::strerror(-rc));
      }
      if (cqe->user_data == kSyncTag) {
        *sync_result = cqe->res;
      } else {
        results.at(cqe->user_data) = cqe->res;
      }
      io_uring_cqe_seen(&ring_, cqe);
      ++got;
    }
    if (st.ok() && submitted < want) st = IoError("io_uring_submit " + path_ + ": entries left");
    return st;
  }

  static constexpr std::uint64_t kSyncTag = ~std::uint64_t{0};
  // Enough to keep the device busy (a 4 MiB write with a sync each ran at
  // fio's bandwidth here), little enough that a log commit does not wait
  // for a whole flush group.
  static constexpr std::size_t kWindowBytes = 4u << 20;

  const int fd_;
  const std::string path_;
  const bool direct_;
  Mutex ring_mu_;
  io_uring ring_{};
  bool ring_ok_ = false;
};

class PosixEnv final : public Env {
 public:
  explicit PosixEnv(IoEngine engine) : engine_(engine) {}

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, FileOptions options) override {
    int flags = O_CLOEXEC | (options.read_only ? O_RDONLY : O_RDWR);
    if (options.create && !options.read_only) flags |= O_CREAT;
    if (options.direct) flags |= O_DIRECT;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) {
      const int err = errno;
      if (err == EINVAL && options.direct) {
        return Unsupported("open " + path +
                           ": O_DIRECT refused (EINVAL); the file system (tmpfs?) does not "
                           "support direct I/O, put the store on a real disk");
      }
      if (err == ENOENT) return NotFound("open " + path + ": no such file");
      return ErrnoStatus("open " + path, err);
    }
    auto file = std::make_unique<PosixFile>(fd, path, options.direct);
    if (engine_ == IoEngine::kIoUring && !options.read_only) {
      const int rc = file->EnableRing();
      if (rc < 0) return ErrnoStatus("io_uring_queue_init for " + path, -rc);
    }
    return std::unique_ptr<File>(std::move(file));
  }

  Status CreateDirs(const std::string& path) override {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return ErrnoStatus("create directories " + path, ec.value());
    return Status::Ok();
  }

  Status SyncDir(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return ErrnoStatus("open directory " + path, errno);
    Status st;
    while (::fsync(fd) != 0) {
      if (errno == EINTR) continue;
      st = ErrnoStatus("fsync directory " + path, errno);
      break;
    }
    ::close(fd);
    return st;
  }

  Status Rename(const std::string& from, const std::string& to) override {
    if (::rename(from.c_str(), to.c_str()) != 0) {
      return ErrnoStatus("rename " + from + " to " + to, errno);
    }
    return Status::Ok();
  }

  Status Remove(const std::string& path) override {
    if (::remove(path.c_str()) != 0) return ErrnoStatus("remove " + path, errno);
    return Status::Ok();
  }

  Result<std::vector<std::string>> ListDir(const std::string& dir) override {
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return ErrnoStatus("opendir " + dir, errno);
    std::vector<std::string> names;
    errno = 0;
    while (const dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name != "." && name != "..") names.emplace_back(name);
    }
    const int err = errno;
    ::closedir(d);
    if (err != 0) return ErrnoStatus("readdir " + dir, err);
    std::sort(names.begin(), names.end());
    return names;
  }

  bool Exists(const std::string& path) override {
    struct stat st{};
    return ::stat(path.c_str(), &st) == 0;
  }

  IoEngine io_engine() const override { return engine_; }

  Result<std::unique_ptr<WholeFile>> ReadWholeFile(const std::string& path) override {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Env::ReadWholeFile(path);  // the same error, worded alike
    struct stat st{};
    void* addr = MAP_FAILED;
    std::size_t size = 0;
    if (::fstat(fd, &st) == 0 && st.st_size > 0) {
      size = static_cast<std::size_t>(st.st_size);
      addr = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    }
    ::close(fd);
    if (addr == MAP_FAILED) return Env::ReadWholeFile(path);
    // Every page read in now, or an error now: a page that cannot be read
    // would otherwise raise SIGBUS when touched.
    if (::madvise(addr, size, MADV_POPULATE_READ) != 0) {
      ::munmap(addr, size);
      return Env::ReadWholeFile(path);
    }
    return std::unique_ptr<WholeFile>(std::make_unique<MappedFile>(addr, size));
  }

  Result<std::unique_ptr<PersistentRegion>> MapPersistent(const std::string& path,
                                                          std::uint64_t size) override {
    if (size == 0 || size % kDirectAlignment != 0) {
      return InvalidArgument("map " + path + ": size must be a positive multiple of 4096");
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus("open " + path, errno);
    Status st = SizeForMapping(fd, path, size);
    if (!st.ok()) {
      ::close(fd);
      return st;
    }
    return MapPersistentFile(fd, path);
  }

 private:
  // An empty file (new, or a crash before it was sized) becomes `size`
  // allocated zeros, made durable; another size is refused.
  static Status SizeForMapping(int fd, const std::string& path, std::uint64_t size) {
    struct stat st{};
    if (::fstat(fd, &st) != 0) return ErrnoStatus("fstat " + path, errno);
    const auto current = static_cast<std::uint64_t>(st.st_size);
    if (current == size) return Status::Ok();
    if (current != 0) {
      return InvalidArgument(path + " has " + std::to_string(current) + " bytes, expected " +
                             std::to_string(size) + " (its layout depends on its size; move it "
                             "away to start afresh)");
    }
    if (::fallocate(fd, 0, 0, static_cast<off_t>(size)) != 0) {
      if (errno != EOPNOTSUPP && errno != ENOSYS) return ErrnoStatus("fallocate " + path, errno);
      if (::ftruncate(fd, static_cast<off_t>(size)) != 0)
        return ErrnoStatus("ftruncate " + path, errno);
    }
    return Fdatasync(fd, path);
  }

  const IoEngine engine_;
};

}  // namespace

Result<std::unique_ptr<Env>> NewPosixEnv(IoEngine engine, std::string* why) {
  std::string reason;
  IoEngine chosen = IoEngine::kPwrite;
  if (engine == IoEngine::kPwrite) {
    reason = "pwrite+fdatasync: requested";
  } else {
    // Probe once: a kernel with kernel.io_uring_disabled, a seccomp filter
    // (containers) or an old kernel refuses here rather than at first write.
    io_uring ring{};
    const int rc = InitRing(&ring);
    if (rc == 0) {
      io_uring_queue_exit(&ring);
      chosen = IoEngine::kIoUring;
      reason = "io_uring: available";
    } else if (engine == IoEngine::kIoUring) {
      return Unsupported(std::string("io_uring requested but unavailable: ") + std::strerror(-rc) +
                         " (kernel.io_uring_disabled, seccomp or kernel < 5.6?)");
    } else {
      reason = std::string("pwrite+fdatasync: io_uring unavailable: ") + std::strerror(-rc) +
               " (kernel.io_uring_disabled, seccomp or kernel < 5.6?)";
    }
  }
  if (why != nullptr) *why = reason;
  return std::unique_ptr<Env>(std::make_unique<PosixEnv>(chosen));
}

}  // namespace sluice::store
