#include "store/ticket.h"

#include "base/mutex.h"

namespace sluice::store {

struct Ticket::State {
  explicit State(Status s) : done(true), status(std::move(s)) {}
  explicit State(Callback cb) : callback(std::move(cb)) {}

  mutable Mutex mu;
  mutable CondVar cv;
  bool done SLUICE_GUARDED_BY(mu) = false;
  Status status SLUICE_GUARDED_BY(mu);
  Callback callback SLUICE_GUARDED_BY(mu);
};

Ticket Ticket::Completed(Status status) {
  return Ticket(std::make_shared<State>(std::move(status)));
}

Ticket Ticket::Pending(Callback callback) {
  return Ticket(std::make_shared<State>(std::move(callback)));
}

bool Ticket::done() const {
  MutexLock lock(state_->mu);
  return state_->done;
}

Status Ticket::Wait() const {
  MutexLock lock(state_->mu);
  state_->cv.Wait(lock, [&]() SLUICE_REQUIRES(state_->mu) { return state_->done; });
  return state_->status;
}

bool Ticket::WaitFor(std::chrono::milliseconds timeout) const {
  MutexLock lock(state_->mu);
  return state_->cv.WaitFor(lock, timeout,
                            [&]() SLUICE_REQUIRES(state_->mu) { return state_->done; });
}

Status Ticket::status() const {
  MutexLock lock(state_->mu);
  SLUICE_CHECK(state_->done);
  return state_->status;
}

void Ticket::Complete(Status status) const {
  Callback cb;
  {
    MutexLock lock(state_->mu);
    SLUICE_CHECK(!state_->done);
    state_->done = true;
    state_->status = status;
    cb = std::move(state_->callback);
  }
  state_->cv.NotifyAll();
  if (cb) cb(status);
}

}  // namespace sluice::store
