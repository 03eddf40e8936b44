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
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/mutex.h"
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
  std::uint32_t truncated = 0;          // segments shorter than segment_size, ending in blocks
  std::vector<std::string> notes;       // what was quarantined, where
};

// Where an index checkpoint (index_checkpoint.h) leaves off: segments below
// `segment` and pages of it below `page` hold only blocks the checkpoint
// covers, and segments.log's first `log_bytes` bytes are covered too.
struct SegmentStart {
  std::uint32_t segment = 0;
  std::uint32_t page = 0;
  std::uint32_t max_created = 0;  // the highest id logged created by then
  std::uint64_t log_bytes = 0;
};

// What the checkpoint needs from segments.log and the files, taken at one
// moment.
struct SegmentLife {
  std::uint64_t log_bytes = 0;
  std::uint32_t max_created = 0;
  std::vector<std::uint32_t> live;  // ascending
};

struct SegmentOptions {
  std::string dir;
  std::uint64_t segment_size = 256ull << 20;  // bytes, a multiple of 4096
};

class Segments {
 public:
  // Opens every segment in options.dir and reports each block found, in
  // segment then offset order. With `start` (an index checkpoint's), only
  // blocks at or after it are looked for and reported: the segments before
  // it are opened unread, and only segments.log's entries after
  // start->log_bytes are read (all of it when those do not parse cleanly).
  static Result<std::unique_ptr<Segments>> Open(Env* env, const SegmentOptions& options,
                                                std::vector<FoundBlock>* found,
                                                SegmentRecovery* recovery,
                                                const SegmentStart* start = nullptr)
      // Fills in the new object before any other thread can see it.
      SLUICE_NO_THREAD_SAFETY_ANALYSIS;

  // After an Open from a checkpoint: the blocks before `start`, scanned
  // (the checkpoint's own copy of them could not be used).
  Status ScanBefore(const SegmentStart& start, std::vector<FoundBlock>* found,
                    SegmentRecovery* recovery);
  // After an Open from a checkpoint: segments the checkpoint saw that are
  // gone without the store removing them are counted and noted, as Open
  // does for a full scan. Returns how many.
  std::uint32_t CheckLive(const std::vector<std::uint32_t>& live, SegmentRecovery* recovery);
  // segments.log's length, its highest created id and the segments present,
  // at one moment. Empty when segments.log has a rewrite pending.
  std::optional<SegmentLife> Life() const;

  // Writes a finished block (a multiple of 4096 bytes, at most
  // segment_size - 4096) at the tail, durably, starting a new segment when
  // it does not fit. REQUIRES: one caller at a time.
  Result<BlockAddress> Append(std::string_view block);
  // Append for many blocks: back to back, in as few writes and syncs as the
  // segments allow (one, unless the current segment fills). On an error,
  // the addresses of the blocks written before it are lost with it: the
  // caller writes them all again.
  Result<std::vector<BlockAddress>> AppendMany(std::span<const AlignedBlock> blocks);

  // The whole block at `address`. Thread-safe.
  Result<std::string> Read(const BlockAddress& address) const;

  // Deletes a segment file. REQUIRES: nothing will read it again.
  Status Remove(std::uint32_t segment);

  std::uint64_t bytes_on_disk() const;
  // The path of segment `id` in a segments directory.
  static std::string PathIn(const std::string& dir, std::uint32_t id);
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
  // Walks blocks from byte `from` (after the header page) to `until`.
  Result<ScanResult> Scan(std::uint32_t id, File& file, std::vector<FoundBlock>* found,
                          SegmentRecovery* recovery, std::uint64_t from = kPage,
                          std::uint64_t until = UINT64_MAX);
  Status LogLife(SegmentEvent event, std::uint32_t id);

  Env* env_;
  SegmentOptions options_;
  mutable Mutex log_mu_;    // the flusher starts segments, Reclaim removes them
  std::unique_ptr<LogFile> log_; // segments.log
  std::uint32_t max_created_ SLUICE_GUARDED_BY(log_mu_) = 0;
  // segments.log entries read at Open (id -> created and not removed):
  // after a checkpoint, only those past it.
  std::map<std::uint32_t, bool> logged_;
  mutable Mutex mu_;
  std::map<std::uint32_t, std::unique_ptr<File>> readers_ SLUICE_GUARDED_BY(mu_);
  std::unique_ptr<File> writer_;  // O_DIRECT handle of the current segment
  std::uint32_t current_ = 0;     // 0: none yet
  std::uint64_t tail_ = 0;        // next free offset in the current segment
};

}  // namespace sluice::store
