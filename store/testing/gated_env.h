// GatedEnv: a test double over a real Env whose commits (WriteAndSync and
// Sync) on the files `gated` selects wait while the gate is closed:
// durability held back on purpose, so that a test can look at what happens
// before it and after (the endpoint's PUBACK waiting for the log, a seal
// whose block write is still in flight). Only tests use it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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

  Env* base_;
  std::function<bool(const std::string&)> gated_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool closed_ = false;
  std::atomic<std::uint64_t> held_{0};
};

}  // namespace sluice::store
