#include "gated_env.h"

namespace sluice::store {

class GatedEnv::GatedFile final : public File {
 public:
  GatedFile(std::unique_ptr<File> f, GatedEnv* env) : f_(std::move(f)), env_(env) {}
  Status WriteAndSync(std::span<const WriteSlice> slices) override {
    env_->Wait();
    return f_->WriteAndSync(slices);
  }
  Status Write(std::uint64_t o, std::span<const std::byte> d) override { return f_->Write(o, d); }
  Status Sync() override {
    env_->Wait();
    return f_->Sync();
  }
  Result<std::size_t> Read(std::uint64_t o, std::span<std::byte> d) override {
    return f_->Read(o, d);
  }
  Status Preallocate(std::uint64_t size, Preallocation how) override {
    return f_->Preallocate(size, how);
  }
  Result<std::uint64_t> Size() override { return f_->Size(); }
  const std::string& path() const override { return f_->path(); }

 private:
  std::unique_ptr<File> f_;
  GatedEnv* env_;
};

void GatedEnv::Close() {
  std::lock_guard l(mu_);
  closed_ = true;
}

void GatedEnv::Open() {
  {
    std::lock_guard l(mu_);
    closed_ = false;
  }
  cv_.notify_all();
}

Result<std::unique_ptr<File>> GatedEnv::OpenFile(const std::string& path, FileOptions options) {
  auto f = base_->OpenFile(path, options);
  if (!f.ok() || !gated_(path)) return f;
  return std::unique_ptr<File>(new GatedFile(std::move(*f), this));
}

void GatedEnv::Wait() {
  std::unique_lock l(mu_);
  if (closed_) ++held_;
  cv_.wait(l, [&] { return !closed_; });
}

}  // namespace sluice::store
