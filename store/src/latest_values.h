// The newest record of each series, by series id, for Store::Latest: 17
// bytes a series (its timestamp, its value's 64 bits and the value's kind)
// in chunks that never move, so that growing to 100,000 series copies
// nothing. A bytes value is kept aside, in a map of the series that hold
// one. Not thread-safe: PartitionIndex guards it with its lock.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/types.h"

namespace sluice::store {

class LatestValues {
 public:
  // Keeps `r` when nothing newer is kept for its series (a tie replaces).
  void Offer(const Record& r);
  std::optional<Record> Get(SeriesId series) const;
  // Drops what is kept for `r`'s series when `r` is at least as new, so
  // that Get finds nothing and the caller reads the newest from blocks: for
  // values too large to keep a second copy of.
  void Supersede(const Record& r);
  std::size_t bytes() const;  // held in DRAM, about

 private:
  static constexpr std::size_t kChunk = 1024;  // series a chunk: 17 KiB
  struct Slot {
    std::int64_t timestamp_ns;
    std::uint64_t bits;  // double, int64 or bool; unused for bytes
  };
  struct Chunk {
    Slot slots[kChunk];
    std::uint8_t kind[kChunk];  // 0: none kept; else the Value's index + 1
  };
  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::unordered_map<std::uint32_t, std::string> bytes_;  // by series id
};

}  // namespace sluice::store
