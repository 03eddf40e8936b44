// Runs Sink::Put calls on a thread of its own, so that the worker that
// started one can stop waiting at the attempt deadline. A Sink cannot be
// cancelled, so a stuck call keeps its thread and its sink until it returns;
// the worker then carries on with a fresh Uploader. One job at a time: the
// objects of one partition, put one after the other.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "base/mutex.h"
#include "sync/engine.h"
#include "sync/sink.h"

namespace sluice::sync {

class Uploader {
 public:
  // Runs on the uploader's thread after the last Put returned: the first
  // failure, or the objects' total size, kAlreadyIdentical only when the
  // sink held every one of them already.
  using Done = std::function<void(Result<PutResult>)>;

  explicit Uploader(std::unique_ptr<Sink> sink);
  // Waits for a running Put (and its Done) to finish, then joins.
  ~Uploader();
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;

  // Starts putting each object under its key, in order, paced by `pace`
  // (may be empty); stops at the first failure. REQUIRES: idle().
  void Start(std::shared_ptr<const std::vector<PartitionObject>> objects, PaceFn pace, Done done);
  // True once the running Put and its Done have finished; waits no longer
  // than `deadline`.
  bool WaitIdle(std::chrono::steady_clock::time_point deadline);
  bool idle() const;

 private:
  void Run();

  std::unique_ptr<Sink> sink_;
  mutable Mutex mu_;
  CondVar cv_;
  bool busy_ SLUICE_GUARDED_BY(mu_) = false;  // a job was started and has not finished
  bool stopping_ SLUICE_GUARDED_BY(mu_) = false;
  std::shared_ptr<const std::vector<PartitionObject>> objects_ SLUICE_GUARDED_BY(mu_);
  PaceFn pace_ SLUICE_GUARDED_BY(mu_);
  Done done_ SLUICE_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts after the members above exist
};

}  // namespace sluice::sync
