#include "gated_env.h"

namespace sluice::store {

class GatedEnv::GatedFile final : public File {
 public:
  GatedFile(std::unique_ptr<File> f, GatedEnv* env, bool gate_commits)
      : f_(std::move(f)), env_(env), gate_commits_(gate_commits) {}
  Status WriteAndSync(std::span<const WriteSlice> slices) override {
    if (gate_commits_) env_->Wait();
    return f_->WriteAndSync(slices);
  }
  Status Write(std::uint64_t o, std::span<const std::byte> d) override { return f_->Write(o, d); }
  Status Sync() override {
    if (gate_commits_) env_->Wait();
    return f_->Sync();
  }
  Result<std::size_t> Read(std::uint64_t o, std::span<std::byte> d) override {
    auto n = f_->Read(o, d);
    if (n.ok()) env_->Read(*n);
    return n;
  }
  Status Preallocate(std::uint64_t size, Preallocation how) override {
    return f_->Preallocate(size, how);
  }
  Result<std::uint64_t> Size() override { return f_->Size(); }
  const std::string& path() const override { return f_->path(); }

 private:
  std::unique_ptr<File> f_;
  GatedEnv* env_;
  bool gate_commits_;
};

void GatedEnv::Close() {
  MutexLock l(mu_);
  closed_ = true;
}

void GatedEnv::Open() {
  {
    MutexLock l(mu_);
    closed_ = false;
  }
  cv_.NotifyAll();
}

Result<std::unique_ptr<File>> GatedEnv::OpenFile(const std::string& path, FileOptions options) {
  auto f = base_->OpenFile(path, options);
  if (!f.ok()) return f;
  // Files not gated for commits still have their reads counted (and held).
  return std::unique_ptr<File>(new GatedFile(std::move(*f), this, gated_(path)));
}

void GatedEnv::Read(std::size_t n) {
  MutexLock l(mu_);
  const auto me = std::this_thread::get_id();
  cv_.Wait(l, [&]() SLUICE_REQUIRES(mu_) { return !reads_held_ || me == free_reader_; });
  read_[me] += n;
}

void GatedEnv::HoldReadsExcept(std::thread::id free) {
  MutexLock l(mu_);
  reads_held_ = true;
  free_reader_ = free;
}

void GatedEnv::ReleaseReads() {
  {
    MutexLock l(mu_);
    reads_held_ = false;
  }
  cv_.NotifyAll();
}

std::uint64_t GatedEnv::bytes_read(std::thread::id thread) const {
  MutexLock l(mu_);
  auto it = read_.find(thread);
  return it == read_.end() ? 0 : it->second;
}

std::uint64_t GatedEnv::bytes_read() const {
  MutexLock l(mu_);
  std::uint64_t n = 0;
  for (const auto& [t, b] : read_) n += b;
  return n;
}

void GatedEnv::ResetReadCounts() {
  MutexLock l(mu_);
  read_.clear();
}

void GatedEnv::Wait() {
  MutexLock l(mu_);
  if (closed_) ++held_;
  cv_.Wait(l, [&]() SLUICE_REQUIRES(mu_) { return !closed_; });
}

}  // namespace sluice::store
