// A small ext4 file system of a test's own: an image file made with
// mkfs.ext4 and mounted on a loop device, so that a test can fill a disk to
// 100% without touching the machine's. The destructor unmounts it and
// deletes the image, also when the test failed.
//
// Needs root and a free loop device. Without them MountOrSkip() prints a
// loud SKIPPED line and exits the process with 77, or with 1 under
// SLUICE_TEST_REQUIRE_SERVICES=1 (as RequireS3Env does for a missing
// service): one test case per process under ctest.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"

namespace sluice::testing {

class LoopFs {
 public:
  // Makes `dir`/fs.img of `size_mib` MiB (ext4, no blocks reserved for
  // root) and mounts it on `dir`/mnt. `test` names the caller in the
  // skip message.
  static std::unique_ptr<LoopFs> MountOrSkip(const std::filesystem::path& dir, int size_mib,
                                             const char* test);
  ~LoopFs();
  LoopFs(const LoopFs&) = delete;
  LoopFs& operator=(const LoopFs&) = delete;

  const std::filesystem::path& mount_point() const { return mnt_; }
  // statvfs: bytes a process may still allocate, and the file system's size.
  std::uint64_t free_bytes() const;
  std::uint64_t total_bytes() const;

  // A file of `bytes` allocated blocks (fallocate), synced: space that a
  // test can hand back later by deleting it.
  Status Ballast(const std::filesystem::path& file, std::uint64_t bytes);
  // Allocates to `file` until the file system refuses (ENOSPC), in 1 MiB
  // and then 4 KiB steps, and syncs it: the file system is then at 100%.
  // Returns the bytes taken.
  Result<std::uint64_t> FillUp(const std::filesystem::path& file);

 private:
  LoopFs(std::filesystem::path image, std::filesystem::path mnt)
      : image_(std::move(image)), mnt_(std::move(mnt)) {}

  std::filesystem::path image_, mnt_;
};

}  // namespace sluice::testing
