#include "engine_uploader.h"

#include <span>

#include "base/status.h"

namespace sluice::sync {

Uploader::Uploader(std::unique_ptr<Sink> sink)
    : sink_(std::move(sink)), thread_([this] { Run(); }) {}

Uploader::~Uploader() {
  {
    MutexLock lock(mu_);
    cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return !busy_; });
    stopping_ = true;
  }
  cv_.NotifyAll();
  thread_.join();
}

void Uploader::Start(std::shared_ptr<const std::vector<PartitionObject>> objects, PaceFn pace,
                     Done done) {
  {
    MutexLock lock(mu_);
    SLUICE_CHECK(!busy_);
    busy_ = true;
    objects_ = std::move(objects);
    pace_ = std::move(pace);
    done_ = std::move(done);
  }
  cv_.NotifyAll();
}

bool Uploader::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  MutexLock lock(mu_);
  return cv_.WaitUntil(lock, deadline, [&]() SLUICE_REQUIRES(mu_) { return !busy_; });
}

bool Uploader::idle() const {
  MutexLock lock(mu_);
  return !busy_;
}

void Uploader::Run() {
  MutexLock lock(mu_);
  for (;;) {
    cv_.Wait(lock, [&]() SLUICE_REQUIRES(mu_) { return busy_ || stopping_; });
    if (!busy_) return;  // stopping, nothing to do
    auto objects = std::move(objects_);
    PaceFn pace = std::move(pace_);
    Done done = std::move(done_);
    lock.Unlock();
    PutResult total;
    total.outcome = PutOutcome::kAlreadyIdentical;
    Result<PutResult> result = total;
    for (const auto& o : *objects) {
      PutRequest request;
      request.key = o.key;
      request.pace = pace;
      request.bytes = std::as_bytes(std::span(o.bytes.data(), o.bytes.size()));
      auto put = sink_->Put(request);
      if (!put.ok()) {
        result = put.status();
        break;
      }
      total.size += put->size;
      total.sha256 = put->sha256;
      if (put->outcome != PutOutcome::kAlreadyIdentical) total.outcome = put->outcome;
      result = total;
    }
    done(std::move(result));
    objects.reset();  // the objects' memory goes with the attempt
    lock.Lock();
    busy_ = false;
    cv_.NotifyAll();
  }
}

}  // namespace sluice::sync
