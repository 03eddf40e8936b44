#include "store/options.h"

#include <string>

namespace sluice::store {
namespace {

Status OutOfBounds(const char* field, std::uint64_t value, std::uint64_t lo, std::uint64_t hi) {
  return InvalidArgument(std::string(field) + ": " + std::to_string(value) +
                         " is outside its bounds [" + std::to_string(lo) + ", " +
                         std::to_string(hi) + "]");
}

// A duration, shown as a count of its field's unit (microseconds, seconds).
template <typename Duration>
Status OutOfBounds(const char* field, Duration value, Duration lo, Duration hi) {
  return InvalidArgument(std::string(field) + ": " + std::to_string(value.count()) +
                         " is outside its bounds [" + std::to_string(lo.count()) + ", " +
                         std::to_string(hi.count()) + "]");
}

}  // namespace

Status Options::Validate() const {
  if (dir.empty() || dir.front() != '/') {
    return InvalidArgument("dir: must be an absolute path, got '" + dir + "'");
  }
  if (pmem_max_spin < std::chrono::microseconds(0) ||
      pmem_max_spin > std::chrono::milliseconds(10)) {
    return InvalidArgument("pmem_max_spin: must be between 0 and 10 ms, got " +
                           std::to_string(pmem_max_spin.count()) + " us");
  }
  if (pmem_size < (1ull << 20) || pmem_size > (64ull << 30) || pmem_size % kDirectAlignment) {
    return InvalidArgument("pmem_size: must be a multiple of 4096 in [1 MiB, 64 GiB], got " +
                           std::to_string(pmem_size));
  }
  if (!pmem_path.empty() && pmem_path.front() != '/') {
    return InvalidArgument("pmem_path: must be an absolute path, got '" + pmem_path + "'");
  }
  if (wal_file_size < (1ull << 20) || wal_file_size > (4ull << 30)) {
    return OutOfBounds("wal_file_size", wal_file_size, 1ull << 20, 4ull << 30);
  }
  if (wal_file_size % kDirectAlignment != 0) {
    return InvalidArgument("wal_file_size: must be a multiple of 4096, got " +
                           std::to_string(wal_file_size));
  }
  using std::chrono::microseconds, std::chrono::seconds;
  if (wal_max_commit_delay < microseconds(0) || wal_max_commit_delay > microseconds(100'000)) {
    return OutOfBounds("wal_max_commit_delay", wal_max_commit_delay, microseconds(0),
                       microseconds(100'000));
  }
  if (wal_max_group_bytes < 4096 || wal_max_group_bytes > wal_file_size / 4) {
    return InvalidArgument("wal_max_group_bytes: " + std::to_string(wal_max_group_bytes) +
                           " is outside its bounds [4096, " + std::to_string(wal_file_size / 4) +
                           "], a quarter of wal_file_size");
  }
  if (block_size < (64u << 10) || block_size > (16u << 20) || block_size % kDirectAlignment) {
    return InvalidArgument("block_size: must be a multiple of 4096 in [65536, 16777216], got " +
                           std::to_string(block_size));
  }
  if (block_max_age < seconds(1) || block_max_age > seconds(3600)) {
    return OutOfBounds("block_max_age", block_max_age, seconds(1), seconds(3600));
  }
  if (open_blocks_bytes < 2 * block_size || open_blocks_bytes > (16ull << 30)) {
    return InvalidArgument("open_blocks_bytes: " + std::to_string(open_blocks_bytes) +
                           " is outside its bounds [" + std::to_string(2ull * block_size) +
                           ", 17179869184], at least two of block_size");
  }
  if (segment_size < 4 * block_size || segment_size > (64ull << 30) ||
      segment_size % kDirectAlignment) {
    return InvalidArgument("segment_size: must be a multiple of 4096 in [4 * block_size, 64 GiB], got " +
                           std::to_string(segment_size));
  }
  if (partition_window < seconds(60) || partition_window > seconds(86400)) {
    return OutOfBounds("partition_window", partition_window, seconds(60), seconds(86400));
  }
  if (partition_shards < 1 || partition_shards > 256) {
    return OutOfBounds("partition_shards", partition_shards, 1, 256);
  }
  if (late_grace < seconds(0) || late_grace > partition_window) {
    return OutOfBounds("late_grace", late_grace, seconds(0), partition_window);
  }
  if (disk_budget != 0 && disk_budget < 8 * segment_size + 16 * wal_file_size) {
    return InvalidArgument("disk_budget: " + std::to_string(disk_budget) +
                           " is below 8 * segment_size + 16 * wal_file_size (" +
                           std::to_string(8 * segment_size + 16 * wal_file_size) + ")");
  }
  if (free_space_warning > 50) {
    return OutOfBounds("free_space_warning", free_space_warning, 0, 50);
  }
  if (reserve > (64ull << 20)) return OutOfBounds("reserve", reserve, 0, 64ull << 20);
  if (index_checkpoint != 0 &&
      (index_checkpoint < (1ull << 20) || index_checkpoint > (64ull << 30))) {
    return InvalidArgument("index_checkpoint: " + std::to_string(index_checkpoint) +
                           " is neither 0 nor within 1 MiB .. 64 GiB");
  }
  if (disk_low_watermark < 1 || disk_low_watermark > 99) {
    return OutOfBounds("disk_low_watermark", disk_low_watermark, 1, 99);
  }
  if (disk_high_watermark <= disk_low_watermark || disk_high_watermark > 100) {
    return OutOfBounds("disk_high_watermark", disk_high_watermark, disk_low_watermark + 1, 100);
  }
  if (max_value_bytes < 1 || max_value_bytes > (1u << 20)) {
    return OutOfBounds("max_value_bytes", max_value_bytes, 1, 1u << 20);
  }
  if (large_value_bytes != 0 && (large_value_bytes < 512 || large_value_bytes > (1u << 20))) {
    return OutOfBounds("large_value_bytes", large_value_bytes, 512, 1u << 20);
  }
  if (cursor_retain_bytes != 0) {
    if (cursor_retain_bytes < wal_file_size || cursor_retain_bytes > 12 * wal_file_size) {
      return OutOfBounds("cursor_retain_bytes", cursor_retain_bytes, wal_file_size,
                         12 * wal_file_size);
    }
  }
  if (cursor_memory_bytes < (1ull << 20) || cursor_memory_bytes > (4ull << 30)) {
    return OutOfBounds("cursor_memory_bytes", cursor_memory_bytes, 1ull << 20, 4ull << 30);
  }
  return Status::Ok();
}

}  // namespace sluice::store
