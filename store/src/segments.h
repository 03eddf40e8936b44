// Segment files: preallocated (reserved, reading as zeros) files that hold blocks
// (block_format.h), written with O_DIRECT and synced before they count.
//
//   seg-<id, 8 digits>.dat, segment_size bytes
//     [0, 4096)   segment header: magic u32 0x47534c53 "SLSG", version u32 1,
//                 id u32, masked CRC32C of those 12 bytes u32, zeros
//     [4096, ..)  blocks, each starting on a 4096-byte boundary and padded
//                 to one; zeros after the last block
//
// Recovery walks each segment from its first block: a valid header means a
// block of the length it states; all zeros mean the end of the segment; any
// other page is quarantined (counted) and the walk resumes on the next page.
//
// Leftovers of an interrupted segment creation (a crash or ENOSPC between
// creating the file and logging it created: a short file, a size that is
// not a whole page, no header or a torn one) never held a block, since
// blocks are written only after the creation is logged. They are deleted at
// Open and counted (leftover_files). A segment logged created whose header
// is damaged is not trusted (quarantined) and never appended to; nor is one
// shorter than segment_size: appends always go to a whole segment at a
// page-aligned offset, else to a new segment.
//
// segments.log (store_logs.h) beside them records each segment's life,
// created and removed. A segment is logged
// created after its file is durable, and removed before its file is deleted,
// so at Open a segment logged created, never removed, and absent was lost
// behind the store's back: counted and noted, never silent. One present but
// logged removed is a deletion a crash interrupted: finished. Stores made
// before the log existed get it filled from the files present.
// docs/format/segment.md says the same in prose.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "block_format.h"
#include "log_file.h"
#include "store_logs.h"
#include "store/env.h"

namespace sluice::store {

inline constexpr std::uint32_t kSegmentMagic = 0x47534c53;
inline constexpr std::uint32_t kSegmentVersion = 1;
inline constexpr std::uint64_t kPage = 4096;

struct BlockAddress {
  std::uint32_t segment = 0;
  std::uint32_t page = 0;   // offset / 4096
  std::uint32_t pages = 0;  // padded length / 4096
  friend bool operator==(const BlockAddress&, const BlockAddress&) = default;
};

struct FoundBlock {
  BlockAddress address;
  BlockHeader header;
};

struct SegmentRecovery {
  std::uint32_t segments = 0;
  std::uint32_t missing_segments = 0;   // logged as created, never removed, not on disk
  std::uint64_t blocks = 0;
  std::uint64_t quarantined_pages = 0;  // pages neither a block nor zeros
  std::uint32_t leftover_files = 0;     // interrupted creations, deleted
  std::vector<std::string> notes;       // what was quarantined, where
};

struct SegmentOptions {
  std::string dir;
  std::uint64_t segment_size = 256ull << 20;  // bytes, a multiple of 4096
};

class Segments {
 public:
  // Opens every segment in options.dir and reports each block found, in
  // segment then offset order.
  static Result<std::unique_ptr<Segments>> Open(Env* env, const SegmentOptions& options,
                                                std::vector<FoundBlock>* found,
                                                SegmentRecovery* recovery);

  // Writes a finished block (a multiple of 4096 bytes, at most
  // segment_size - 4096) at the tail, durably, starting a new segment when
  // it does not fit. REQUIRES: one caller at a time.
  Result<BlockAddress> Append(std::string_view block);

  // The whole block at `address`. Thread-safe.
  Result<std::string> Read(const BlockAddress& address) const;

  // Deletes a segment file. REQUIRES: nothing will read it again.
  Status Remove(std::uint32_t segment);

  std::uint64_t bytes_on_disk() const;
  bool Has(std::uint32_t segment) const;
  std::uint32_t current_segment() const;

 private:
  Segments(Env* env, SegmentOptions options) : env_(env), options_(std::move(options)) {}
  std::string PathOf(std::uint32_t id) const;
  Status StartSegment(std::uint32_t id);
  struct ScanResult {
    bool header_ok = false;
    bool appendable = false;   // whole, trusted: new blocks may go at `tail`
    std::uint64_t tail = 0;    // page-aligned when appendable
    std::uint64_t size = 0;
  };
  Result<ScanResult> Scan(std::uint32_t id, File& file, std::vector<FoundBlock>* found,
                          SegmentRecovery* recovery);
  Status LogLife(SegmentEvent event, std::uint32_t id);

  Env* env_;
  SegmentOptions options_;
  std::mutex log_mu_;            // the flusher starts segments, Reclaim removes them
  std::unique_ptr<LogFile> log_; // segments.log
  mutable std::mutex mu_;
  std::map<std::uint32_t, std::unique_ptr<File>> readers_;  // GUARDED_BY(mu_)
  std::unique_ptr<File> writer_;  // O_DIRECT handle of the current segment
  std::uint32_t current_ = 0;     // 0: none yet
  std::uint64_t tail_ = 0;        // next free offset in the current segment
};

}  // namespace sluice::store
