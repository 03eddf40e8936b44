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
#include <cstddef>
#include <deque>
#include <algorithm>

#include "base/mutex.h"
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
    MutexLock lock(mu_);
    not_full_.Wait(lock,
                   [&]() SLUICE_REQUIRES(mu_) { return closed_ || items_.size() < capacity_; });
    if (closed_) return false;
    items_.push_back(std::move(item));
    if (items_.size() >= wake_at_) not_empty_.NotifyOne();
    return true;
  }

  enum class TryPushResult { kPushed, kFull, kClosed };
  // Never waits: kFull (item untouched) when the queue is full.
  TryPushResult TryPush(T& item) {
    MutexLock lock(mu_);
    if (closed_) return TryPushResult::kClosed;
    if (items_.size() >= capacity_) return TryPushResult::kFull;
    items_.push_back(std::move(item));
    if (items_.size() >= wake_at_) not_empty_.NotifyOne();
    return TryPushResult::kPushed;
  }

  // Takes the oldest item, waiting until `deadline` at most. kWoken on
  // timeout or Wake(); kClosed once closed and empty.
  Pop PopUntil(T& out, Clock::time_point deadline) {
    MutexLock lock(mu_);
    not_empty_.WaitUntil(lock, deadline, [&]() SLUICE_REQUIRES(mu_) {
      return !items_.empty() || closed_ || woken_;
    });
    woken_ = false;
    if (!items_.empty()) {
      out = std::move(items_.front());
      items_.pop_front();
      not_full_.NotifyOne();
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
    MutexLock lock(mu_);
    wake_at_ = std::max<std::size_t>(1, std::min(min_items, capacity_));
    events_ = events;
    not_empty_.WaitUntil(lock, deadline, [&]() SLUICE_REQUIRES(mu_) {
      return items_.size() >= wake_at_ || closed_ || (events_ && woken_);
    });
    wake_at_ = 1;
    events_ = true;
    if (events) woken_ = false;
    if (!items_.empty()) {
      for (auto& item : items_) out.push_back(std::move(item));
      items_.clear();
      not_full_.NotifyAll();
      return Pop::kItem;
    }
    return closed_ ? Pop::kClosed : Pop::kWoken;
  }

  // Makes the consumer's current or next PopUntil return (the next
  // PopAllUntil that takes events).
  void Wake() {
    MutexLock lock(mu_);
    woken_ = true;
    if (events_) not_empty_.NotifyOne();
  }

  // Pushers are released with false; the consumer drains what is left.
  void Close() {
    MutexLock lock(mu_);
    closed_ = true;
    not_full_.NotifyAll();
    not_empty_.NotifyAll();
  }

  std::size_t size() const {
    MutexLock lock(mu_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable Mutex mu_;
  CondVar not_full_, not_empty_;
  std::deque<T> items_ SLUICE_GUARDED_BY(mu_);
  bool closed_ SLUICE_GUARDED_BY(mu_) = false;
  bool woken_ SLUICE_GUARDED_BY(mu_) = false;
  // Whether a Wake() ends the consumer's current wait.
  bool events_ SLUICE_GUARDED_BY(mu_) = true;
  // Items at which a push wakes the consumer.
  std::size_t wake_at_ SLUICE_GUARDED_BY(mu_) = 1;
};

}  // namespace sluice::gateway::pipeline
