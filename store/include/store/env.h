// The environment: every file and persistent-memory mapping the store touches
// goes through this interface, so that tests can inject faults (drop unsynced
// or unpersisted data, ENOSPC, EIO) and simulate a power cut without a real
// one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::store {

// One write of a batch: `data` lands at `offset`.
struct WriteSlice {
  std::uint64_t offset = 0;
  std::span<const std::byte> data;
};

enum class IoEngine : std::uint8_t {
  kAuto = 0,     // io_uring when the kernel allows it, else pwrite
  kIoUring = 1,  // io_uring or fail at open
  kPwrite = 2,   // pwrite + fdatasync
};

struct FileOptions {
  bool create = false;     // create when missing
  bool direct = false;     // O_DIRECT: offsets, lengths and buffers 4096-aligned
  bool read_only = false;
};

enum class Preallocation : std::uint8_t {
  kWriteZeros,  // the write-ahead log: many small synced writes
  kReserve,     // segments: 1 MiB blocks
};

class File {
 public:
  virtual ~File() = default;

  // Writes every slice, then makes them durable (fdatasync) before returning.
  // With io_uring the writes and the sync go to the kernel in one submission.
  // REQUIRES: for a direct file, every offset, size and address is aligned to
  // kDirectAlignment.
  virtual Status WriteAndSync(std::span<const WriteSlice> slices) = 0;
  // Writes without syncing; durability needs a later Sync().
  virtual Status Write(std::uint64_t offset, std::span<const std::byte> data) = 0;
  virtual Status Sync() = 0;
  // Reads up to data.size() bytes at offset; returns how many were read
  // (fewer only at end of file).
  virtual Result<std::size_t> Read(std::uint64_t offset, std::span<std::byte> data) = 0;
  // Extends the file to `size` bytes that read as zeros, then syncs it.
  // kWriteZeros writes the zeros, so that later small synced writes land on
  // written extents: the first fdatasync into fallocate()d (unwritten)
  // extents was measured at 650 ms on ext4, and every commit into them pays
  // for converting extents. kReserve only reserves the space (fallocate, or
  // a sparse extension where the file system has none): for files written
  // in large pieces, where the conversion is cheap next to writing every
  // byte twice.
  virtual Status Preallocate(std::uint64_t size, Preallocation how) = 0;
  virtual Result<std::uint64_t> Size() = 0;
  virtual const std::string& path() const = 0;
};

inline constexpr std::size_t kDirectAlignment = 4096;

// What a store to a persistent mapping needs before it survives power loss
// (libpmem2's "store granularity"). Never renumbered.
enum class PersistGranularity : std::uint8_t {
  kByte = 0,       // stores are persistent once visible (eADR): drain only
  kCacheLine = 1,  // cache lines must be flushed (CLWB) and drained (SFENCE)
  kPage = 2,       // not persistent memory: every persist is an msync of pages
};

// A file mapped into memory for load/store persistence (libpmem2). Writes go
// through Write() rather than plain stores so that a fault-injecting Env can
// see, tear and drop them. Not thread-safe: one writer at a time.
class PersistentRegion {
 public:
  virtual ~PersistentRegion() = default;

  // Copies `data` to `offset` and starts flushing it, without waiting:
  // persistent only once a later Drain() returns OK. Until then a power cut
  // may keep any subset of the written cache lines.
  // REQUIRES: offset + data.size() <= size().
  virtual Status Write(std::uint64_t offset, std::span<const std::byte> data) = 0;
  // Starts flushing bytes stored earlier (by a previous process, say: after
  // a crash they may still sit in CPU caches); persistent after Drain().
  virtual Status Flush(std::uint64_t offset, std::uint64_t size) = 0;
  // Waits until every Write() and Flush() before it is persistent.
  virtual Status Drain() = 0;
  // The mapped bytes as loads see them (persistent or not), valid while the
  // region lives.
  virtual std::span<const std::byte> bytes() const = 0;
  std::uint64_t size() const { return bytes().size(); }
  // Decided when mapped; see PersistGranularity.
  virtual PersistGranularity granularity() const = 0;
  virtual const std::string& path() const = 0;
};

// A whole file's bytes, for one pass of reading (the write-ahead log at
// recovery). Valid while the object lives, as long as nothing writes the
// file meanwhile.
class WholeFile {
 public:
  virtual ~WholeFile() = default;
  virtual std::span<const std::byte> bytes() const = 0;
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Result<std::unique_ptr<File>> OpenFile(const std::string& path, FileOptions options) = 0;
  virtual Status CreateDirs(const std::string& path) = 0;
  // fsync of a directory, so that created, renamed or removed entries persist.
  virtual Status SyncDir(const std::string& path) = 0;
  virtual Status Rename(const std::string& from, const std::string& to) = 0;
  virtual Status Remove(const std::string& path) = 0;
  // Names (not paths) of the entries of `dir`, sorted.
  virtual Result<std::vector<std::string>> ListDir(const std::string& dir) = 0;
  virtual bool Exists(const std::string& path) = 0;

  // The engine in use, decided once at creation.
  virtual IoEngine io_engine() const = 0;

  // Space on the file system holding `path`, as an unprivileged writer sees
  // it (statvfs f_bavail): production runs as a service user and meets
  // ENOSPC before root does. A fault-injecting Env reports 0 free while a
  // no-space fault is armed.
  struct Space {
    std::uint64_t free_bytes = 0;
    std::uint64_t total_bytes = 0;
    bool read_only = false;  // mounted read-only (or remounted so after errors)
  };
  virtual Result<Space> FileSystemSpace(const std::string& path);

  // Maps `path` (all of it) for persistent stores. A missing or empty file
  // is first made `size` bytes of allocated zeros (so that first stores do
  // not fault in blocks); an existing file of another size is refused with
  // InvalidArgument, since its layout depends on its size. The region
  // reports the effective granularity and leaves the policy (refusing kPage,
  // say) to the caller. Default: Unsupported, for Envs without it.
  virtual Result<std::unique_ptr<PersistentRegion>> MapPersistent(const std::string& path,
                                                                  std::uint64_t size);

  // Reads `path` whole. Default: through OpenFile and Read into memory, so
  // that a fault-injecting Env sees the reads. The real file system maps
  // the file read-only and has the kernel fill the mapping at once
  // (MADV_POPULATE_READ): no copy, no zero-filled buffer, one call instead
  // of a page fault per page. When that fails (an I/O error, an old
  // kernel) it reads as the default does, which reports the error.
  virtual Result<std::unique_ptr<WholeFile>> ReadWholeFile(const std::string& path);
};

// The real file system. With kAuto it probes io_uring once (a disabled
// sysctl, a seccomp filter or an old kernel make it fall back to pwrite) and
// reports the choice through io_engine() and `why` (for logs and status).
Result<std::unique_ptr<Env>> NewPosixEnv(IoEngine engine, std::string* why = nullptr);

// Memory aligned for O_DIRECT, freed with std::free.
struct AlignedFree {
  void operator()(std::byte* p) const;
};
using AlignedBuffer = std::unique_ptr<std::byte[], AlignedFree>;
AlignedBuffer AllocateAligned(std::size_t size);

}  // namespace sluice::store
