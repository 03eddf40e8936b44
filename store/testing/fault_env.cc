// FaultInjectionEnv (fault_env.h): files, persistent regions, call faults
// and the power cut; directory entries are in fault_env_dirs.cc. Long
// because the power cut has to undo every kind of write it tracks, and
// keeping the tracking and the undoing together is what keeps them in step.
#include "fault_env.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
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

// Where a preallocation from `current` towards `size` stops on a full disk:
// part-way, and not on a 4096-byte boundary. `current` when it cannot move.
std::uint64_t PartialSize(std::uint64_t current, std::uint64_t size) {
  std::uint64_t p = (current + (size - current) / 2) / kDirectAlignment * kDirectAlignment + 3072;
  if (p <= current || p >= size) p = (current + (size - current) / 2) | 1;
  return p > current && p < size ? p : current;
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
    if (auto v = env_->CountCall(kind_); !v.error.ok()) {
      // The call FailCall hit may leave some of its bytes (unsynced): half
      // on ENOSPC, all of them on EIO (the write went, the sync failed).
      if (v.first) {
        SLUICE_RETURN_IF_ERROR(
            LandPrefix(slices, v.error.code() == StatusCode::kNoSpace ? total / 2 : total));
      }
      return v.error;
    }
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
    SLUICE_RETURN_IF_ERROR(LandPrefix(slices, allowed));
    return error;
  }

  Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    if (auto v = env_->CountCall(kind_); !v.error.ok()) {
      if (v.first && v.error.code() == StatusCode::kNoSpace) {
        const WriteSlice slice{offset, data};
        SLUICE_RETURN_IF_ERROR(LandPrefix({&slice, 1}, data.size() / 2));
      }
      return v.error;
    }
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
    if (auto v = env_->CountCall(kind_); !v.error.ok()) return v.error;
    Status error;
    if (env_->Admit(0, &error) != 0 || !error.ok()) return error;
    SLUICE_RETURN_IF_ERROR(base_->Sync());
    env_->MarkSynced(path());
    return Status::Ok();
  }

  Result<std::size_t> Read(std::uint64_t offset, std::span<std::byte> data) override {
    auto got = base_->Read(offset, data);
    if (!got.ok()) return got;
    for (const std::uint64_t b : env_->PlanFlips(&FaultInjectionEnv::read_flips_, kind_, *got)) {
      data[b / 8] ^= std::byte{static_cast<unsigned char>(1u << (b % 8))};
      env_->NoteFlip(path(), offset + b / 8, static_cast<std::uint8_t>(b % 8), false);
    }
    return got;
  }

  Status Preallocate(std::uint64_t size, Preallocation how) override {
    const auto v = env_->CountCall(kind_);
    SLUICE_ASSIGN_OR_RETURN(auto current, base_->Size());
    const std::uint64_t grow = size > current ? size - current : 0;
    Status error = v.error;
    if (error.ok() && (env_->Admit(grow, &error) != grow || !error.ok()) && error.ok()) {
      error = FaultStatus(StatusCode::kIoError);
    }
    if (!error.ok()) {
      if (error.code() != StatusCode::kNoSpace) return error;  // nothing changed
      // Nothing to allocate: fallocate over allocated extents succeeds on a
      // full disk too.
      if (grow == 0) return base_->Preallocate(size, how);
      // ENOSPC part-way: the file grew to an unaligned size, and that
      // survives a power cut (its unsynced writes do not).
      const std::uint64_t partial = PartialSize(current, size);
      if (partial > current) {
        SLUICE_RETURN_IF_ERROR(base_->Preallocate(partial, how));
        env_->KeepSize(path(), partial);
      }
      return error;
    }
    SLUICE_RETURN_IF_ERROR(base_->Preallocate(size, how));
    env_->MarkSynced(path());  // Preallocate syncs the whole file
    return Status::Ok();
  }

  Result<std::uint64_t> Size() override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  // The first `n` bytes of `slices` land, unsynced, through the buffered
  // handle (a prefix of a direct write need not be aligned).
  Status LandPrefix(std::span<const WriteSlice> slices, std::uint64_t n) {
    for (const auto& s : slices) {
      if (n == 0) break;
      const auto part = static_cast<std::size_t>(std::min<std::uint64_t>(n, s.data.size()));
      SLUICE_RETURN_IF_ERROR(env_->RecordWrite(shadow_.get(), path(), s.offset, part));
      SLUICE_RETURN_IF_ERROR(shadow_->Write(s.offset, s.data.first(part)));
      n -= part;
    }
    return Status::Ok();
  }

  // `slices`, or copies of them with the planned bits flipped (kept alive
  // by `copies`); aligned copies, so that direct files take them.
  std::span<const WriteSlice> WithFlips(std::span<const WriteSlice> slices, std::uint64_t total,
                                        std::vector<AlignedBuffer>& copies,
                                        std::vector<WriteSlice>& flipped) {
    const auto bits = env_->PlanFlips(&FaultInjectionEnv::write_flips_, kind_, total);
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
    const auto v = env_->CountCall(FileKind::kPmem);
    if (offset > size() || data.size() > size() - offset) return base_->Write(offset, data);
    if (!v.error.ok()) {
      // On ENOSPC the hit write keeps its first half, undrained.
      const std::size_t n =
          v.first && v.error.code() == StatusCode::kNoSpace ? data.size() / 2 : 0;
      if (n > 0) {
        env_->RecordRegionWrite(*base_, offset, n);
        SLUICE_RETURN_IF_ERROR(base_->Write(offset, data.first(n)));
      }
      return v.error;
    }
    Status error;
    const auto n = static_cast<std::size_t>(env_->Admit(data.size(), &error));
    if (n > 0) {
      env_->RecordRegionWrite(*base_, offset, n);
      const auto bits = n == data.size() && error.ok()
                            ? env_->PlanFlips(&FaultInjectionEnv::write_flips_, FileKind::kPmem, n)
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
    if (auto v = env_->CountCall(FileKind::kPmem); !v.error.ok()) return v.error;
    Status error;
    if (env_->Admit(0, &error) != 0 || !error.ok()) return error;
    return base_->Flush(offset, size);
  }

  Status Drain() override {
    if (auto v = env_->CountCall(FileKind::kPmem); !v.error.ok()) return v.error;
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
  MutexLock lock(mu_);
  error_ = code;
}

void FaultInjectionEnv::FailAfterBytes(std::uint64_t n, StatusCode code,
                                       std::uint64_t sector_seed) {
  MutexLock lock(mu_);
  budget_armed_ = true;
  budget_ = n;
  budget_code_ = code;
  sector_seed_ = sector_seed;
  tripped_ = false;
}

void FaultInjectionEnv::FlipBitsOnWrite(const BitFlips& flips) {
  MutexLock lock(mu_);
  write_flips_ = {true, flips, 0};
}

void FaultInjectionEnv::FlipBitsOnRead(const BitFlips& flips) {
  MutexLock lock(mu_);
  read_flips_ = {true, flips, 0};
}

std::vector<FlippedBit> FaultInjectionEnv::flipped_bits() const {
  MutexLock lock(mu_);
  return flipped_;
}

void FaultInjectionEnv::FailCall(CallFault fault, std::uint64_t k, FileKind kind) {
  MutexLock lock(mu_);
  call_fault_ = fault;
  call_armed_ = true;
  call_k_ = k;
  call_kind_ = kind;
  call_seen_ = 0;
}

std::uint64_t FaultInjectionEnv::mutating_calls(FileKind kind) const {
  MutexLock lock(mu_);
  return calls_[static_cast<int>(kind)];
}

void FaultInjectionEnv::PowerOff() {
  MutexLock lock(mu_);
  powered_off_ = true;
}

bool FaultInjectionEnv::powered_off() const {
  MutexLock lock(mu_);
  return powered_off_;
}

FaultInjectionEnv::Verdict FaultInjectionEnv::CountCall(FileKind kind) {
  MutexLock lock(mu_);
  ++calls_[static_cast<int>(FileKind::kAny)];
  if (kind != FileKind::kAny) ++calls_[static_cast<int>(kind)];
  if (powered_off_) return {{StatusCode::kIoError, "injected fault: the machine is off"}, false};
  if (disk_full_) return {FaultStatus(StatusCode::kNoSpace), false};
  if (budget_armed_ && tripped_) return {FaultStatus(budget_code_), false};
  if (call_armed_ && (call_kind_ == FileKind::kAny || call_kind_ == kind) &&
      ++call_seen_ == call_k_) {
    switch (call_fault_) {
      case CallFault::kNoSpaceFrom:
        disk_full_ = true;
        return {FaultStatus(StatusCode::kNoSpace), true};
      case CallFault::kIoErrorAt:
        return {FaultStatus(StatusCode::kIoError), true};
      case CallFault::kCrashAfter:
        powered_off_ = true;  // for every call after this one
        return {};
    }
  }
  return {};
}

bool FaultInjectionEnv::FullLocked() const {
  return error_ == StatusCode::kNoSpace || disk_full_ ||
         (budget_armed_ && tripped_ && budget_code_ == StatusCode::kNoSpace);
}

Result<Env::Space> FaultInjectionEnv::FileSystemSpace(const std::string& path) {
  auto space = base_->FileSystemSpace(path);
  if (!space.ok()) return space;
  MutexLock lock(mu_);
  if (FullLocked()) space->free_bytes = 0;
  return space;
}

void FaultInjectionEnv::ClearFaults() {
  MutexLock lock(mu_);
  call_armed_ = false;
  disk_full_ = false;
  powered_off_ = false;
  error_ = StatusCode::kOk;
  budget_armed_ = false;
  sector_seed_ = 0;
  tripped_ = false;
  write_flips_.armed = false;
  read_flips_.armed = false;
}

std::uint64_t FaultInjectionEnv::Admit(std::uint64_t n, Status* error, std::uint64_t* sector_seed) {
  MutexLock lock(mu_);
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

std::vector<std::uint64_t> FaultInjectionEnv::PlanFlips(FlipState FaultInjectionEnv::*which,
                                                        FileKind kind, std::uint64_t n) {
  MutexLock lock(mu_);
  FlipState& state = this->*which;
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
  MutexLock lock(mu_);
  flipped_.push_back({path, offset, bit, on_write});
}

Status FaultInjectionEnv::RecordWrite(File* shadow, const std::string& path, std::uint64_t offset,
                                      std::uint64_t n) {
  SLUICE_CHECK(shadow != nullptr);  // writing a read-only file
  SLUICE_ASSIGN_OR_RETURN(auto size, shadow->Size());
  Undo undo{offset, {}};
  if (offset < size) {
    undo.pre_image.resize(static_cast<std::size_t>(std::min(n, size - offset)));
    SLUICE_ASSIGN_OR_RETURN(auto got, shadow->Read(offset, undo.pre_image));
    undo.pre_image.resize(got);
  }
  MutexLock lock(mu_);
  FileState& state = files_[path];
  if (state.undo.empty()) state.synced_size = size;
  state.undo.push_back(std::move(undo));
  state.unsynced += n;
  return Status::Ok();
}

void FaultInjectionEnv::MarkSynced(const std::string& path) {
  MutexLock lock(mu_);
  files_.erase(path);
}

void FaultInjectionEnv::KeepSize(const std::string& path, std::uint64_t size) {
  MutexLock lock(mu_);
  auto it = files_.find(path);
  if (it != files_.end()) it->second.durable_size = std::max(it->second.durable_size, size);
}

Result<std::string> FaultInjectionEnv::SyncedImage(const std::string& path) {
  FileState state;
  {
    MutexLock lock(mu_);
    if (auto it = files_.find(path); it != files_.end()) state = it->second;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("fault env: cannot read " + path);
  std::string image{std::istreambuf_iterator<char>(in), {}};
  if (state.undo.empty()) return image;
  for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
    if (it->offset >= image.size()) continue;
    const std::size_t n = std::min<std::size_t>(it->pre_image.size(), image.size() - it->offset);
    if (n == 0) continue;  // an empty pre-image may have no storage at all
    std::memcpy(image.data() + it->offset, it->pre_image.data(), n);
  }
  image.resize(static_cast<std::size_t>(state.synced_size));
  if (state.durable_size > state.synced_size)
    image.resize(static_cast<std::size_t>(state.durable_size));
  return image;
}

std::uint64_t FaultInjectionEnv::unsynced_bytes() const {
  MutexLock lock(mu_);
  std::uint64_t total = 0;
  for (const auto& [path, state] : files_) total += state.unsynced;
  return total;
}

void FaultInjectionEnv::RecordRegionWrite(const PersistentRegion& region, std::uint64_t offset,
                                          std::uint64_t n) {
  const auto pre =
      region.bytes().subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(n));
  MutexLock lock(mu_);
  regions_[region.path()].push_back(Undo{offset, {pre.begin(), pre.end()}});
  unpersisted_ += n;
}

void FaultInjectionEnv::MarkPersisted(const std::string& path) {
  MutexLock lock(mu_);
  auto it = regions_.find(path);
  if (it == regions_.end()) return;
  for (const auto& u : it->second) unpersisted_ -= u.pre_image.size();
  regions_.erase(it);
}

std::uint64_t FaultInjectionEnv::unpersisted_bytes() const {
  MutexLock lock(mu_);
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
    MutexLock lock(mu_);
    regions.swap(regions_);
    unpersisted_ = 0;
  }
  for (auto& [path, undo] : regions) {
    SLUICE_ASSIGN_OR_RETURN(auto file, base_->OpenFile(path, FileOptions{}));
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      const std::uint64_t end = it->offset + it->pre_image.size();
      for (std::uint64_t p = it->offset; p < end;) {
        const std::uint64_t next = std::min(end, (p / kLine + 1) * kLine);
        if (reverts(p / kLine)) {
          const auto chunk = std::span<const std::byte>(it->pre_image)
                                 .subspan(static_cast<std::size_t>(p - it->offset),
                                          static_cast<std::size_t>(next - p));
          SLUICE_RETURN_IF_ERROR(file->Write(p, chunk));
        }
        p = next;
      }
    }
    SLUICE_RETURN_IF_ERROR(file->Sync());
  }
  return Status::Ok();
}

Result<std::unique_ptr<PersistentRegion>> FaultInjectionEnv::MapPersistent(const std::string& path,
                                                                           std::uint64_t size) {
  const bool created = !base_->Exists(path);
  SLUICE_ASSIGN_OR_RETURN(auto base, base_->MapPersistent(path, size));
  if (created) RecordCreate(path);
  return std::unique_ptr<PersistentRegion>(std::make_unique<FaultRegion>(this, std::move(base)));
}

Status FaultInjectionEnv::DropUnsyncedData() {
  SLUICE_RETURN_IF_ERROR(DropUnpersisted(0));
  std::map<std::string, FileState> files;
  {
    MutexLock lock(mu_);
    files.swap(files_);
  }
  for (auto& [path, state] : files) {
    SLUICE_ASSIGN_OR_RETURN(auto file, base_->OpenFile(path, FileOptions{}));
    for (auto it = state.undo.rbegin(); it != state.undo.rend(); ++it) {
      SLUICE_RETURN_IF_ERROR(file->Write(it->offset, it->pre_image));
    }
    std::error_code ec;
    std::filesystem::resize_file(path, state.synced_size, ec);
    if (!ec && state.durable_size > state.synced_size) {
      std::filesystem::resize_file(path, state.durable_size, ec);
    }
    if (ec) return ErrnoStatus("truncate " + path, ec.value());
    SLUICE_RETURN_IF_ERROR(file->Sync());
  }
  return UndoDirOps();
}

Result<std::unique_ptr<File>> FaultInjectionEnv::OpenFile(const std::string& path,
                                                          FileOptions options) {
  bool created = false;
  if (options.create) {
    if (auto v = CountCall(FileKindOf(path)); !v.error.ok()) return v.error;
    created = !base_->Exists(path);
  }
  SLUICE_ASSIGN_OR_RETURN(auto base, base_->OpenFile(path, options));
  if (created) RecordCreate(path);
  std::unique_ptr<File> shadow;
  if (!options.read_only) {
    SLUICE_ASSIGN_OR_RETURN(auto s, base_->OpenFile(path, FileOptions{}));
    shadow = std::move(s);
  }
  return std::unique_ptr<File>(
      std::make_unique<FaultFile>(this, std::move(base), std::move(shadow)));
}

}  // namespace sluice::store
