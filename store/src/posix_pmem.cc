// The real Env's persistent-memory mappings, through libpmem2.
#include "posix_pmem.h"

#include <libpmem2.h>
#include <unistd.h>

namespace sluice::store {
namespace {

// A libpmem2 mapping of a whole file. Writes use libpmem2's memcpy with
// PMEM2_F_MEM_NODRAIN (non-temporal stores or CLWB as the CPU allows, no
// fence); Drain() is its drain function (SFENCE). Both are what the mapping's
// granularity calls for, so at kPage they msync; Flush() is its flush
// function.
class Pmem2Region final : public PersistentRegion {
 public:
  Pmem2Region(int fd, std::string path, pmem2_map* map)
      : fd_(fd),
        path_(std::move(path)),
        map_(map),
        bytes_(static_cast<std::byte*>(pmem2_map_get_address(map)), pmem2_map_get_size(map)),
        granularity_(ToGranularity(pmem2_map_get_store_granularity(map))),
        memcpy_(pmem2_get_memcpy_fn(map)),
        flush_(pmem2_get_flush_fn(map)),
        drain_(pmem2_get_drain_fn(map)) {}
  ~Pmem2Region() override {
    pmem2_map_delete(&map_);
    ::close(fd_);
  }

  Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    if (offset > bytes_.size() || data.size() > bytes_.size() - offset) {
      return InvalidArgument("write to " + path_ + " past the end of the mapping");
    }
    if (!data.empty())
      memcpy_(bytes_.data() + offset, data.data(), data.size(), PMEM2_F_MEM_NODRAIN);
    return Status::Ok();
  }

  Status Flush(std::uint64_t offset, std::uint64_t size) override {
    if (offset > bytes_.size() || size > bytes_.size() - offset) {
      return InvalidArgument("flush of " + path_ + " past the end of the mapping");
    }
    if (size != 0) flush_(bytes_.data() + offset, size);
    return Status::Ok();
  }

  Status Drain() override {
    drain_();
    return Status::Ok();
  }

  std::span<const std::byte> bytes() const override { return bytes_; }
  PersistGranularity granularity() const override { return granularity_; }
  const std::string& path() const override { return path_; }

 private:
  static PersistGranularity ToGranularity(pmem2_granularity g) {
    switch (g) {
      case PMEM2_GRANULARITY_BYTE: return PersistGranularity::kByte;
      case PMEM2_GRANULARITY_CACHE_LINE: return PersistGranularity::kCacheLine;
      case PMEM2_GRANULARITY_PAGE: break;
    }
    return PersistGranularity::kPage;
  }

  const int fd_;
  const std::string path_;
  pmem2_map* map_;
  const std::span<std::byte> bytes_;
  const PersistGranularity granularity_;
  const pmem2_memcpy_fn memcpy_;
  const pmem2_flush_fn flush_;
  const pmem2_drain_fn drain_;
};

// libpmem2 explains its failures in a thread-local message.
Status Pmem2Error(const std::string& what, int rc) {
  return IoError(what + ": " + pmem2_errormsg() + " (libpmem2 error " + std::to_string(rc) + ")");
}

}  // namespace

// Requiring PAGE (the weakest granularity) makes pmem2_map_new accept any
// file, so that the caller can see and explain the effective one.
Result<std::unique_ptr<PersistentRegion>> MapPersistentFile(int fd, const std::string& path) {
  pmem2_config* cfg = nullptr;
  pmem2_source* src = nullptr;
  pmem2_map* map = nullptr;
  int rc = pmem2_config_new(&cfg);
  if (rc == 0) rc = pmem2_config_set_required_store_granularity(cfg, PMEM2_GRANULARITY_PAGE);
  if (rc == 0) rc = pmem2_source_from_fd(&src, fd);
  if (rc == 0) rc = pmem2_map_new(&map, cfg, src);
  Status st = rc == 0 ? Status::Ok() : Pmem2Error("map " + path, rc);
  if (src != nullptr) pmem2_source_delete(&src);
  if (cfg != nullptr) pmem2_config_delete(&cfg);
  if (!st.ok()) {
    ::close(fd);
    return st;
  }
  return std::unique_ptr<PersistentRegion>(std::make_unique<Pmem2Region>(fd, path, map));
}

}  // namespace sluice::store
