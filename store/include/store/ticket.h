// A ticket completes when the batch it stands for is durable, or failed.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "base/status.h"

namespace sluice::store {

class Ticket {
 public:
  using Callback = std::function<void(const Status&)>;

  // A ticket already completed with `status`.
  static Ticket Completed(Status status);
  // A pending ticket; `callback`, if set, runs once on completion, on the
  // thread that completes it (the store's commit thread: keep it short).
  static Ticket Pending(Callback callback);

  bool done() const;
  // Blocks until completion; returns the batch's outcome.
  Status Wait() const;
  // False when `timeout` passed first.
  bool WaitFor(std::chrono::milliseconds timeout) const;
  // The outcome. REQUIRES: done().
  Status status() const;

  // Completes the ticket. Called once, by the store.
  void Complete(Status status) const;

 private:
  struct State;
  explicit Ticket(std::shared_ptr<State> s) : state_(std::move(s)) {}
  std::shared_ptr<State> state_;
};

}  // namespace sluice::store
