#include "fault_env.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <string_view>
#include <system_error>

namespace sluice::store {

namespace {

Status FaultStatus(StatusCode code) {
  return {code, "injected fault"};
}

std::uint64_t Mix(std::uint64_t z) {  // splitmix64's finaliser
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t kSector = 512;

// Whether a sector torn by `seed` reached the medium.
bool SectorKept(std::uint64_t seed, std::uint64_t sector) {
  return (Mix(seed ^ (sector * 0x9e3779b97f4a7c15ull)) & 1) != 0;
}

}  // namespace

FileKind FileKindOf(const std::string& path) {
  const std::string_view name = std::string_view(path).substr(path.rfind('/') + 1);
  if (name.starts_with("wal-") && name.ends_with(".log")) return FileKind::kWal;
  if (name.starts_with("seg-") && name.ends_with(".dat")) return FileKind::kSegment;
  return FileKind::kMetadata;
}

// Forwards to the wrapped file, telling the env what is written and synced.
// A second, buffered handle (`shadow_`) reads pre-images: it needs no
// alignment, and the kernel keeps it coherent with O_DIRECT writes.
class FaultFile final : public File {
 public:
  FaultFile(FaultInjectionEnv* env, std::unique_ptr<File> base, std::unique_ptr<File> shadow)
      : env_(env), base_(std::move(base)), shadow_(std::move(shadow)), kind_(FileKindOf(path())) {}

  Status WriteAndSync(std::span<const WriteSlice> slices) override {
    std::uint64_t total = 0;
    for (const auto& s : slices) total += s.data.size();
    Status error;
    std::uint64_t sector_seed = 0;
    const std::uint64_t allowed = env_->Admit(total, &error, &sector_seed);
    if (allowed == total && error.ok()) {
      for (const auto& s : slices) {
        SLUICE_RETURN_IF_ERROR(env_->RecordWrite(shadow_.get(), path(), s.offset, s.data.size()));
      }
      // The wrapped engine (io_uring or pwrite) does the real work.
      std::vector<AlignedBuffer> copies;
      std::vector<WriteSlice> flipped;
      SLUICE_RETURN_IF_ERROR(base_->WriteAndSync(WithFlips(slices, total, copies, flipped)));
      env_->MarkSynced(path());
      return Status::Ok();
    }
    if (sector_seed != 0) {
      for (const auto& s : slices) SLUICE_RETURN_IF_ERROR(WriteSectors(s, sector_seed));
      return error;
    }
    // Torn: the first `allowed` bytes land, unsynced, through the buffered
    // handle (a prefix of a direct write need not be aligned).
    std::uint64_t left = allowed;
    for (const auto& s : slices) {
      if (left == 0) break;
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, s.data.size()));
      SLUICE_RETURN_IF_ERROR(env_->RecordWrite(shadow_.get(), path(), s.offset, n));
      SLUICE_RETURN_IF_ERROR(shadow_->Write(s.offset, s.data.first(n)));
      left -= n;
    }
    return error;
  }

  Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    Status error;
    std::uint64_t sector_seed = 0;
    const std::uint64_t allowed = env_->Admit(data.size(), &error, &sector_seed);
    if (sector_seed != 0) {
      SLUICE_RETURN_IF_ERROR(WriteSectors({offset, data}, sector_seed));
      return error;
    }
    const auto n = static_cast<std::size_t>(allowed);
    if (n > 0) {
      SLUICE_RETURN_IF_ERROR(env_->RecordWrite(shadow_.get(), path(), offset, n));
      if (n == data.size() && error.ok()) {
        const WriteSlice slice{offset, data};
        std::vector<AlignedBuffer> copies;
        std::vector<WriteSlice> flipped;
        const auto out = WithFlips({&slice, 1}, data.size(), copies, flipped);
        return base_->Write(offset, out[0].data);
      }
      SLUICE_RETURN_IF_ERROR(shadow_->Write(offset, data.first(n)));
    }
    return error;
  }

  Status Sync() override {
    Status error;
    if (env_->Admit(0, &error) != 0 || !error.ok()) return error;
    SLUICE_RETURN_IF_ERROR(base_->Sync());
    env_->MarkSynced(path());
    return Status::Ok();
  }

  Result<std::size_t> Read(std::uint64_t offset, std::span<std::byte> data) override {
    auto got = base_->Read(offset, data);
    if (!got.ok()) return got;
    for (const std::uint64_t b : env_->PlanFlips(env_->read_flips_, kind_, *got)) {
      data[b / 8] ^= std::byte{static_cast<unsigned char>(1u << (b % 8))};
      env_->NoteFlip(path(), offset + b / 8, static_cast<std::uint8_t>(b % 8), false);
    }
    return got;
  }

  Status Preallocate(std::uint64_t size, Preallocation how) override {
    auto current = base_->Size();
    if (!current.ok()) return current.status();
    const std::uint64_t grow = size > *current ? size - *current : 0;
    Status error;
    // All or nothing: a half-preallocated file only costs a retry.
    if (env_->Admit(grow, &error) != grow || !error.ok()) return error.ok() ? FaultStatus(StatusCode::kIoError) : error;
    SLUICE_RETURN_IF_ERROR(base_->Preallocate(size, how));
    env_->MarkSynced(path());  // Preallocate syncs the whole file
    return Status::Ok();
  }

  Result<std::uint64_t> Size() override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  // `slices`, or copies of them with the planned bits flipped (kept alive
  // by `copies`); aligned copies, so that direct files take them.
  std::span<const WriteSlice> WithFlips(std::span<const WriteSlice> slices, std::uint64_t total,
                                        std::vector<AlignedBuffer>& copies,
                                        std::vector<WriteSlice>& flipped) {
    const auto bits = env_->PlanFlips(env_->write_flips_, kind_, total);
    if (bits.empty()) return slices;
    std::uint64_t start = 0;  // of the current slice within the operation
    auto next = bits.begin();
    for (const auto& s : slices) {
      AlignedBuffer copy = AllocateAligned(s.data.size());
      std::memcpy(copy.get(), s.data.data(), s.data.size());
      for (; next != bits.end() && *next / 8 < start + s.data.size(); ++next) {
        const std::uint64_t at = *next / 8 - start;
        copy[at] ^= std::byte{static_cast<unsigned char>(1u << (*next % 8))};
        env_->NoteFlip(path(), s.offset + at, static_cast<std::uint8_t>(*next % 8), true);
      }
      flipped.push_back({s.offset, {copy.get(), s.data.size()}});
      copies.push_back(std::move(copy));
      start += s.data.size();
    }
    return flipped;
  }

  // A write torn by sectors: the kept ones land, unsynced, through the
  // buffered handle.
  Status WriteSectors(const WriteSlice& s, std::uint64_t seed) {
    const std::uint64_t end = s.offset + s.data.size();
    for (std::uint64_t p = s.offset; p < end;) {
      const std::uint64_t next = std::min(end, (p / kSector + 1) * kSector);
      if (SectorKept(seed, p / kSector)) {
        const auto part = s.data.subspan(static_cast<std::size_t>(p - s.offset),
                                         static_cast<std::size_t>(next - p));
        SLUICE_RETURN_IF_ERROR(env_->RecordWrite(shadow_.get(), path(), p, part.size()));
        SLUICE_RETURN_IF_ERROR(shadow_->Write(p, part));
      }
      p = next;
    }
    return Status::Ok();
  }

  FaultInjectionEnv* const env_;
  const std::unique_ptr<File> base_;
  const std::unique_ptr<File> shadow_;  // null for read-only files
  const FileKind kind_;
};

// Forwards to the wrapped region, telling the env what is written and
// drained. A torn write lands its prefix, undrained.
class FaultRegion final : public PersistentRegion {
 public:
  FaultRegion(FaultInjectionEnv* env, std::unique_ptr<PersistentRegion> base)
      : env_(env), base_(std::move(base)) {}

  Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    if (offset > size() || data.size() > size() - offset) return base_->Write(offset, data);
    Status error;
    const auto n = static_cast<std::size_t>(env_->Admit(data.size(), &error));
    if (n > 0) {
      env_->RecordRegionWrite(*base_, offset, n);
      const auto bits = n == data.size() && error.ok()
                            ? env_->PlanFlips(env_->write_flips_, FileKind::kPmem, n)
                            : std::vector<std::uint64_t>{};
      if (!bits.empty()) {
        std::vector<std::byte> copy(data.begin(), data.end());
        for (const std::uint64_t b : bits) {
          copy[b / 8] ^= std::byte{static_cast<unsigned char>(1u << (b % 8))};
          env_->NoteFlip(path(), offset + b / 8, static_cast<std::uint8_t>(b % 8), true);
        }
        return base_->Write(offset, copy);
      }
      SLUICE_RETURN_IF_ERROR(base_->Write(offset, data.first(n)));
    }
    return error;
  }

  // Nothing to undo: the bytes are already there. Fails once the machine is off.
  Status Flush(std::uint64_t offset, std::uint64_t size) override {
    Status error;
    if (env_->Admit(0, &error) != 0 || !error.ok()) return error;
    return base_->Flush(offset, size);
  }

  Status Drain() override {
    Status error;
    if (env_->Admit(0, &error) != 0 || !error.ok()) return error;
    SLUICE_RETURN_IF_ERROR(base_->Drain());
    env_->MarkPersisted(path());
    return Status::Ok();
  }

  std::span<const std::byte> bytes() const override { return base_->bytes(); }
  PersistGranularity granularity() const override { return base_->granularity(); }
  const std::string& path() const override { return base_->path(); }

 private:
  FaultInjectionEnv* const env_;
  const std::unique_ptr<PersistentRegion> base_;
};

void FaultInjectionEnv::SetWriteError(StatusCode code) {
  std::lock_guard lock(mu_);
  error_ = code;
}

void FaultInjectionEnv::FailAfterBytes(std::uint64_t n, StatusCode code,
                                       std::uint64_t sector_seed) {
  std::lock_guard lock(mu_);
  budget_armed_ = true;
  budget_ = n;
  budget_code_ = code;
  sector_seed_ = sector_seed;
  tripped_ = false;
}

void FaultInjectionEnv::FlipBitsOnWrite(const BitFlips& flips) {
  std::lock_guard lock(mu_);
  write_flips_ = {true, flips, 0};
}

void FaultInjectionEnv::FlipBitsOnRead(const BitFlips& flips) {
  std::lock_guard lock(mu_);
  read_flips_ = {true, flips, 0};
}

std::vector<FlippedBit> FaultInjectionEnv::flipped_bits() const {
  std::lock_guard lock(mu_);
  return flipped_;
}

void FaultInjectionEnv::ClearFaults() {
  std::lock_guard lock(mu_);
  error_ = StatusCode::kOk;
  budget_armed_ = false;
  sector_seed_ = 0;
  tripped_ = false;
  write_flips_.armed = false;
  read_flips_.armed = false;
}

std::uint64_t FaultInjectionEnv::Admit(std::uint64_t n, Status* error, std::uint64_t* sector_seed) {
  std::lock_guard lock(mu_);
  if (error_ != StatusCode::kOk) {
    *error = FaultStatus(error_);
    return 0;
  }
  if (!budget_armed_) return n;
  // Once the budget is spent even a sync fails: the machine is off.
  if (budget_ == 0 || n > budget_) {
    *error = FaultStatus(budget_code_);
    std::uint64_t allowed = std::min(n, budget_);
    // Only the write in flight when the power went is torn by sectors.
    if (sector_seed_ != 0 && sector_seed != nullptr && n > 0 && !tripped_) {
      *sector_seed = sector_seed_;
      allowed = 0;
    }
    tripped_ = true;
    budget_ = 0;
    return allowed;
  }
  budget_ -= n;
  return n;
}

std::vector<std::uint64_t> FaultInjectionEnv::PlanFlips(FlipState& state, FileKind kind,
                                                        std::uint64_t n) {
  std::lock_guard lock(mu_);
  if (!state.armed || n == 0) return {};
  if (state.spec.kind != FileKind::kAny && state.spec.kind != kind) return {};
  const std::uint64_t ordinal = state.seen++;
  if (ordinal < state.spec.skip) return {};
  if (state.spec.times != 0 && ordinal - state.spec.skip >= state.spec.times) return {};
  const std::uint64_t total = 8 * n;
  const std::uint64_t count = std::min<std::uint64_t>(state.spec.bits, total);
  std::vector<std::uint64_t> bits;
  for (std::uint64_t i = 0; bits.size() < count; ++i) {
    const std::uint64_t b =
        Mix(state.spec.seed ^ Mix(ordinal * 0x9e3779b97f4a7c15ull + i + 1)) % total;
    if (std::find(bits.begin(), bits.end(), b) == bits.end()) bits.push_back(b);
  }
  std::sort(bits.begin(), bits.end());
  return bits;
}

void FaultInjectionEnv::NoteFlip(const std::string& path, std::uint64_t offset, std::uint8_t bit,
                                 bool on_write) {
  std::lock_guard lock(mu_);
  flipped_.push_back({path, offset, bit, on_write});
}

Status FaultInjectionEnv::RecordWrite(File* shadow, const std::string& path, std::uint64_t offset,
                                      std::uint64_t n) {
  SLUICE_CHECK(shadow != nullptr);  // writing a read-only file
  auto size = shadow->Size();
  if (!size.ok()) return size.status();
  Undo undo{offset, {}};
  if (offset < *size) {
    undo.pre_image.resize(static_cast<std::size_t>(std::min(n, *size - offset)));
    auto got = shadow->Read(offset, undo.pre_image);
    if (!got.ok()) return got.status();
    undo.pre_image.resize(*got);
  }
  std::lock_guard lock(mu_);
  FileState& state = files_[path];
  if (state.undo.empty()) state.synced_size = *size;
  state.undo.push_back(std::move(undo));
  state.unsynced += n;
  return Status::Ok();
}

void FaultInjectionEnv::MarkSynced(const std::string& path) {
  std::lock_guard lock(mu_);
  files_.erase(path);
}

std::uint64_t FaultInjectionEnv::unsynced_bytes() const {
  std::lock_guard lock(mu_);
  std::uint64_t total = 0;
  for (const auto& [path, state] : files_) total += state.unsynced;
  return total;
}

void FaultInjectionEnv::RecordRegionWrite(const PersistentRegion& region, std::uint64_t offset,
                                          std::uint64_t n) {
  const auto pre = region.bytes().subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(n));
  std::lock_guard lock(mu_);
  regions_[region.path()].push_back(Undo{offset, {pre.begin(), pre.end()}});
  unpersisted_ += n;
}

void FaultInjectionEnv::MarkPersisted(const std::string& path) {
  std::lock_guard lock(mu_);
  auto it = regions_.find(path);
  if (it == regions_.end()) return;
  for (const auto& u : it->second) unpersisted_ -= u.pre_image.size();
  regions_.erase(it);
}

std::uint64_t FaultInjectionEnv::unpersisted_bytes() const {
  std::lock_guard lock(mu_);
  return unpersisted_;
}

Status FaultInjectionEnv::DropUnpersisted(std::uint64_t seed) {
  constexpr std::uint64_t kLine = 64;
  // Whether the line at `offset` goes back: the same answer for every write
  // to it, so that it ends either as drained or as last written.
  const auto reverts = [seed](std::uint64_t line) {
    std::uint64_t z = seed ^ (line * 0x9e3779b97f4a7c15ull);  // splitmix64
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return seed == 0 || ((z ^ (z >> 31)) & 1) != 0;
  };
  std::map<std::string, std::vector<Undo>> regions;
  {
    std::lock_guard lock(mu_);
    regions.swap(regions_);
    unpersisted_ = 0;
  }
  for (auto& [path, undo] : regions) {
    auto file = base_->OpenFile(path, FileOptions{});
    if (!file.ok()) return file.status();
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      const std::uint64_t end = it->offset + it->pre_image.size();
      for (std::uint64_t p = it->offset; p < end;) {
        const std::uint64_t next = std::min(end, (p / kLine + 1) * kLine);
        if (reverts(p / kLine)) {
          const auto chunk = std::span<const std::byte>(it->pre_image)
                                 .subspan(static_cast<std::size_t>(p - it->offset),
                                          static_cast<std::size_t>(next - p));
          SLUICE_RETURN_IF_ERROR((*file)->Write(p, chunk));
        }
        p = next;
      }
    }
    SLUICE_RETURN_IF_ERROR((*file)->Sync());
  }
  return Status::Ok();
}

Result<std::unique_ptr<PersistentRegion>> FaultInjectionEnv::MapPersistent(const std::string& path,
                                                                           std::uint64_t size) {
  auto base = base_->MapPersistent(path, size);
  if (!base.ok()) return base.status();
  return std::unique_ptr<PersistentRegion>(std::make_unique<FaultRegion>(this, std::move(*base)));
}

Status FaultInjectionEnv::DropUnsyncedData() {
  SLUICE_RETURN_IF_ERROR(DropUnpersisted(0));
  std::map<std::string, FileState> files;
  {
    std::lock_guard lock(mu_);
    files.swap(files_);
  }
  for (auto& [path, state] : files) {
    auto file = base_->OpenFile(path, FileOptions{});
    if (!file.ok()) return file.status();
    for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
      SLUICE_RETURN_IF_ERROR((*file)->Write(it->offset, it->pre_image));
    }
    std::error_code ec;
    std::filesystem::resize_file(path, state.synced_size, ec);
    if (ec) return ErrnoStatus("truncate " + path, ec.value());
    SLUICE_RETURN_IF_ERROR((*file)->Sync());
  }
  return Status::Ok();
}

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path,
                                                          FileOptions options) {
  auto base = base_->OpenFile(path, options);
  if (!base.ok()) return base.status();
  std::unique_ptr<File> shadow;
  if (!options.read_only) {
    auto s = base_->OpenFile(path, FileOptions{});
    if (!s.ok()) return s.status();
    shadow = std::move(*s);
  }
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(*base), std::move(shadow)));
}

Status FaultInjectionEnv::Rename(const std::string& from, const std::string& to) {
  SLUICE_RETURN_IF_ERROR(base_->Rename(from, to));
  std::lock_guard lock(mu_);
  files_.erase(to);
  if (auto node = files_.extract(from)) {
    node.key() = to;
    files_.insert(std::move(node));
  }
  return Status::Ok();
}

Status FaultInjectionEnv::Remove(const std::string& path) {
  SLUICE_RETURN_IF_ERROR(base_->Remove(path));
  std::lock_guard lock(mu_);
  files_.erase(path);
  return Status::Ok();
}

}  // namespace sluice::store
