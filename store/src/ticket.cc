#include "store/ticket.h"

#include <condition_variable>
#include <mutex>

namespace sluice::store {

struct Ticket::State {
  mutable std::mutex mu;
  mutable std::condition_variable cv;
  bool done = false;
  Status status;
  Callback callback;
};

Ticket Ticket::Completed(Status status) {
  auto s = std::make_shared<State>();
  s->done = true;
  s->status = std::move(status);
  return Ticket(std::move(s));
}

Ticket Ticket::Pending(Callback callback) {
  auto s = std::make_shared<State>();
  s->callback = std::move(callback);
  return Ticket(std::move(s));
}

bool Ticket::done() const {
  std::lock_guard lock(state_->mu);
  return state_->done;
}

Status Ticket::Wait() const {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->done; });
  return state_->status;
}

bool Ticket::WaitFor(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [&] { return state_->done; });
}

Status Ticket::status() const {
  std::lock_guard lock(state_->mu);
  SLUICE_CHECK(state_->done);
  return state_->status;
}

void Ticket::Complete(Status status) const {
  Callback cb;
  {
    std::lock_guard lock(state_->mu);
    SLUICE_CHECK(!state_->done);
    state_->done = true;
    state_->status = status;
    cb = std::move(state_->callback);
  }
  state_->cv.notify_all();
  if (cb) cb(status);
}

}  // namespace sluice::store
