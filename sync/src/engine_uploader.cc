#include "engine_uploader.h"

#include <span>

#include "base/status.h"

namespace sluice::sync {

Uploader::Uploader(std::unique_ptr<Sink> sink)
    : sink_(std::move(sink)), thread_([this] { Run(); }) {}

Uploader::~Uploader() {
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !busy_; });
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Uploader::Start(std::shared_ptr<const std::string> bytes, std::string key, PaceFn pace,
                     Done done) {
  {
    std::lock_guard lock(mu_);
    SLUICE_CHECK(!busy_);
    busy_ = true;
    bytes_ = std::move(bytes);
    key_ = std::move(key);
    pace_ = std::move(pace);
    done_ = std::move(done);
  }
  cv_.notify_all();
}

bool Uploader::WaitIdle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return !busy_; });
}

bool Uploader::idle() const {
  std::lock_guard lock(mu_);
  return !busy_;
}

void Uploader::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return busy_ || stopping_; });
    if (!busy_) return;  // stopping, nothing to do
    auto bytes = std::move(bytes_);
    PutRequest request;
    request.key = std::move(key_);
    request.pace = std::move(pace_);
    Done done = std::move(done_);
    lock.unlock();
    request.bytes = std::as_bytes(std::span(bytes->data(), bytes->size()));
    Result<PutResult> result = sink_->Put(request);
    done(std::move(result));
    bytes.reset();  // the object's memory goes with the attempt
    lock.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

}  // namespace sluice::sync
