// Collects records for one Store::Append: flushed when it holds
// max_records, or about max_bytes once encoded (the store takes no batch
// larger than a block), or when its first record has waited `linger`. The linger is
// part of the window in which Paho has acknowledged a message that is not
// durable yet, so it is short (2 ms by default).
#pragma once

#include <chrono>
#include <cstdint>

#include "store/types.h"

namespace sluice::gateway::pipeline {

class Batcher {
 public:
  using Clock = std::chrono::steady_clock;

  // A record's encoded size beyond its bytes value: series id, timestamp
  // delta, type tag and length, generously (docs/format/batch.md).
  static constexpr std::size_t kRecordOverhead = 32;

  Batcher(std::uint32_t max_records, std::uint64_t max_bytes, std::chrono::microseconds linger)
      : max_records_(max_records), max_bytes_(max_bytes), linger_(linger) {}

  // Adds one record whose bytes value (if any) is `value_bytes` long; the
  // first one of a batch starts the linger.
  void Add(store::Record record, std::size_t value_bytes, Clock::time_point now) {
    if (records_.empty()) deadline_ = now + linger_;
    records_.push_back(std::move(record));
    bytes_ += value_bytes + kRecordOverhead;
  }
  bool empty() const { return records_.empty(); }
  std::size_t size() const { return records_.size(); }
  bool Full() const { return records_.size() >= max_records_ || bytes_ >= max_bytes_; }
  // When the batch must go out. REQUIRES: !empty().
  Clock::time_point deadline() const { return deadline_; }
  bool Due(Clock::time_point now) const { return !empty() && (Full() || now >= deadline_); }

  // Hands the records over and starts a new batch.
  store::Batch Take() {
    store::Batch out;
    out.swap(records_);
    bytes_ = 0;
    out.shrink_to_fit();
    records_.reserve(std::min<std::size_t>(max_records_, 1024));
    return out;
  }

 private:
  const std::uint32_t max_records_;
  const std::uint64_t max_bytes_;
  const std::chrono::microseconds linger_;
  std::uint64_t bytes_ = 0;  // estimated encoded size of records_
  store::Batch records_;
  Clock::time_point deadline_{};
};

}  // namespace sluice::gateway::pipeline
