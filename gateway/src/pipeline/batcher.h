// Collects records for one Store::Append: flushed when it holds
// max_records, or when its first record has waited `linger`. The linger is
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

  Batcher(std::uint32_t max_records, std::chrono::microseconds linger)
      : max_records_(max_records), linger_(linger) {}

  // Adds one record; the first one of a batch starts the linger.
  void Add(store::Record record, Clock::time_point now) {
    if (records_.empty()) deadline_ = now + linger_;
    records_.push_back(std::move(record));
  }
  bool empty() const { return records_.empty(); }
  std::size_t size() const { return records_.size(); }
  bool Full() const { return records_.size() >= max_records_; }
  // When the batch must go out. REQUIRES: !empty().
  Clock::time_point deadline() const { return deadline_; }
  bool Due(Clock::time_point now) const { return !empty() && (Full() || now >= deadline_); }

  // Hands the records over and starts a new batch.
  store::Batch Take() {
    store::Batch out;
    out.swap(records_);
    out.shrink_to_fit();
    records_.reserve(std::min<std::size_t>(max_records_, 1024));
    return out;
  }

 private:
  const std::uint32_t max_records_;
  const std::chrono::microseconds linger_;
  store::Batch records_;
  Clock::time_point deadline_{};
};

}  // namespace sluice::gateway::pipeline
