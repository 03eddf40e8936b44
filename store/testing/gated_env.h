// GatedEnv: a test double over a real Env whose commits (WriteAndSync and
// Sync) on the files `gated` selects wait while the gate is closed:
// durability held back on purpose, so that a test can look at what happens
// before it and after (the endpoint's PUBACK waiting for the log, a seal
// whose block write is still in flight). It also counts the bytes each
// thread reads from every file and can hold the reads of every thread but
// one (a restart's background work held back while the foreground goes on).
// Only tests use it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/mutex.h"
#include "store/env.h"

namespace sluice::store {

class GatedEnv final : public Env {
 public:
  GatedEnv(Env* base, std::function<bool(const std::string& path)> gated)
      : base_(base), gated_(std::move(gated)) {}

  void Close();
  void Open();
  // Commits that found the gate closed (and waited or wait).
  std::uint64_t held() const { return held_.load(); }

  // While held, reads on any thread but `free` wait.
  void HoldReadsExcept(std::thread::id free);
  void ReleaseReads();
  // Bytes read, by `thread` and by all threads, since the last reset.
  std::uint64_t bytes_read(std::thread::id thread) const;
  std::uint64_t bytes_read() const;
  void ResetReadCounts();

  Result<std::unique_ptr<File>> OpenFile(const std::string& path, FileOptions options) override;
  Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  Status Rename(const std::string& a, const std::string& b) override { return base_->Rename(a, b); }
  Status Remove(const std::string& p) override { return base_->Remove(p); }
  Result<std::vector<std::string>> ListDir(const std::string& d) override {
    return base_->ListDir(d);
  }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  IoEngine io_engine() const override { return base_->io_engine(); }

 private:
  class GatedFile;
  void Wait();
  void Read(std::size_t n);

  Env* base_;
  std::function<bool(const std::string&)> gated_;
  mutable Mutex mu_;
  CondVar cv_;
  bool closed_ = false;
  std::atomic<std::uint64_t> held_{0};
  bool reads_held_ SLUICE_GUARDED_BY(mu_) = false;
  std::thread::id free_reader_ SLUICE_GUARDED_BY(mu_);
  std::map<std::thread::id, std::uint64_t> read_ SLUICE_GUARDED_BY(mu_);
};

}  // namespace sluice::store
