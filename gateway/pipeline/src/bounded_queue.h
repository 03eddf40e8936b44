// A bounded multi-producer queue with one consumer that can also be woken by
// other events (ticket completions). Push waits while the queue is full:
// that wait is how backpressure reaches the MQTT receive thread.
//
// The consumer may gather: PopAllUntil(..., min_items) sleeps until that
// many items wait (or its deadline), and producers wake it only then. A
// consumer that is faster than its producers would otherwise be woken, and
// pay two context switches, for every single message.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <algorithm>
#include <mutex>

#include "base/status.h"

namespace sluice::gateway::pipeline {

template <typename T>
class BoundedQueue {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Pop { kItem, kWoken, kClosed };

  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) { SLUICE_CHECK(capacity > 0); }

  // Waits while full. False (item untouched) once Close() was called.
  bool Push(T& item) {
    std::unique_lock lock(mu_);
    not_full_.wait(lock, [&] { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() >= wake_at_) not_empty_.notify_one();
    return true;
  }

  enum class TryPushResult { kPushed, kFull, kClosed };
  // Never waits: kFull (item untouched) when the queue is full.
  TryPushResult TryPush(T& item) {
    std::lock_guard lock(mu_);
    if (closed_) return TryPushResult::kClosed;
    if (items_.size() >= capacity_) return TryPushResult::kFull;
    items_.push_back(std::move(item));
    if (items_.size() >= wake_at_) not_empty_.notify_one();
    return TryPushResult::kPushed;
  }

  // Takes the oldest item, waiting until `deadline` at most. kWoken on
  // timeout or Wake(); kClosed once closed and empty.
  Pop PopUntil(T& out, Clock::time_point deadline) {
    std::unique_lock lock(mu_);
    not_empty_.wait_until(lock, deadline, [&] { return !items_.empty() || closed_ || woken_; });
    woken_ = false;
    if (!items_.empty()) {
      out = std::move(items_.front());
      items_.pop_front();
      not_full_.notify_one();
      return Pop::kItem;
    }
    return closed_ ? Pop::kClosed : Pop::kWoken;
  }

  // Moves every waiting item to the end of `out` once at least `min_items`
  // wait, or when `deadline` passes or Wake() is called, whatever waits
  // then. kWoken if nothing waits; kClosed once closed and empty. With
  // `events` false a Wake() does not end this wait (a context switch saved
  // when the consumer has no use for it yet); it is kept for the next call
  // that takes events.
  Pop PopAllUntil(std::deque<T>& out, Clock::time_point deadline, std::size_t min_items,
                  bool events = true) {
    std::unique_lock lock(mu_);
    wake_at_ = std::max<std::size_t>(1, std::min(min_items, capacity_));
    events_ = events;
    not_empty_.wait_until(lock, deadline, [&] {
      return items_.size() >= wake_at_ || closed_ || (events_ && woken_);
    });
    wake_at_ = 1;
    events_ = true;
    if (events) woken_ = false;
    if (!items_.empty()) {
      for (auto& item : items_) out.push_back(std::move(item));
      items_.clear();
      not_full_.notify_all();
      return Pop::kItem;
    }
    return closed_ ? Pop::kClosed : Pop::kWoken;
  }

  // Makes the consumer's current or next PopUntil return (the next
  // PopAllUntil that takes events).
  void Wake() {
    std::lock_guard lock(mu_);
    woken_ = true;
    if (events_) not_empty_.notify_one();
  }

  // Pushers are released with false; the consumer drains what is left.
  void Close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  std::size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable not_full_, not_empty_;
  std::deque<T> items_;
  bool closed_ = false;
  bool woken_ = false;
  bool events_ = true;  // whether a Wake() ends the consumer's current wait
  std::size_t wake_at_ = 1;  // items at which a push wakes the consumer
};

}  // namespace sluice::gateway::pipeline
