// StoreImpl (store_impl.h) and the index checkpoint (index_checkpoint.h):
// reading its recent part at Open, loading the rest on the maintenance
// thread, and writing new ones.
#include <cstring>

#include "store_impl.h"

namespace sluice::store {

namespace {

Result<std::string> ReadExactly(File& f, std::uint64_t offset, std::uint64_t n,
                                const std::string& path) {
  std::string bytes(n, '\0');
  auto got = f.Read(offset, {reinterpret_cast<std::byte*>(bytes.data()), bytes.size()});
  if (!got.ok()) return got.status().WithContext(path);
  if (*got != n) {
    return Corruption(path + ": " + std::to_string(*got) + " bytes at offset " +
                      std::to_string(offset) + ", expected " + std::to_string(n));
  }
  return bytes;
}

}  // namespace

Result<std::pair<CheckpointHeader, CheckpointRecent>> StoreImpl::ReadCheckpointRecent() {
  const std::string path = CheckpointPath();
  SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(path, {}));
  SLUICE_ASSIGN_OR_RETURN(auto head, ReadExactly(*f, 0, kCheckpointHeaderBytes, path));
  SLUICE_ASSIGN_OR_RETURN(auto header, DecodeCheckpointHeader(head));
  SLUICE_ASSIGN_OR_RETURN(auto size, f->Size());
  if (size != kCheckpointHeaderBytes + header.recent_len + header.full_len) {
    return Corruption("index checkpoint: " + std::to_string(size) +
                      " bytes, not what its header says");
  }
  SLUICE_ASSIGN_OR_RETURN(auto bytes,
                          ReadExactly(*f, kCheckpointHeaderBytes, header.recent_len, path));
  SLUICE_ASSIGN_OR_RETURN(auto recent, DecodeCheckpointRecent(bytes, header));
  return std::pair{header, std::move(recent)};
}

void StoreImpl::LoadIndex() {
  const CheckpointHeader& header = checkpoint_->first;
  const CheckpointRecent& recent = checkpoint_->second;
  Result<CheckpointFull> full = [&]() -> Result<CheckpointFull> {
    SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(CheckpointPath(), {}));
    auto bytes = ReadExactly(*f, kCheckpointHeaderBytes + header.recent_len, header.full_len,
                             CheckpointPath());
    if (!bytes.ok()) return bytes.status();
    return DecodeCheckpointFull(*bytes, header);
  }();
  SegmentRecovery rec;
  if (!full.ok()) {
    // The slow path for what the checkpoint covered: every partition's
    // state from the whole manifest, every block from a scan.
    Note("index checkpoint: " + full.status().message() +
         "; the index of the blocks before it was rebuilt by scanning the segments");
    std::map<PartitionId, PartitionState> states;
    if (auto image = LogFile::ReadAll(env_, options_.dir + "/partitions.log"); image.ok()) {
      LogRecovery lr;
      for (std::string_view e : ParseLogImage(*image, kManifestFormat, lr)) {
        if (!ApplyManifestEntry(e, states)) break;
      }
    }
    std::vector<FoundBlock> found;
    const SegmentStart start{recent.segment, recent.page, recent.max_created_segment,
                             recent.segments_log_bytes};
    if (Status s = index_->segments().ScanBefore(start, &found, &rec); !s.ok()) {
      Note("scanning the segments before the index checkpoint: " + s.message());
    }
    full = PartitionIndex::Rebuild(options_, found, states);
  }
  index_->segments().CheckLive(full->live_segments, &rec);
  for (auto& n : rec.notes) Note(std::move(n));
  quarantined_pages_.fetch_add(rec.quarantined_pages);
  missing_segments_.fetch_add(rec.missing_segments);
  index_->LoadFull(std::move(*full));
  index_load_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - open_started_)
                       .count();
  checkpoint_block_bytes_ = 0;
  checkpoint_mono_ = mono_();
}

std::uint64_t StoreImpl::ReplaySkipBound() {
  // Blocks lost whole (a missing segment, a page no header can be read
  // from at a scan) are not known to be damaged: no mark then.
  if (cursor_ || missing_segments_.load() > 0 || quarantined_pages_.load() > 0 ||
      truncated_segments_ > 0) {
    return 0;
  }
  auto f = env_->OpenFile(ReplayMarkPath(), {});
  if (!f.ok()) return 0;
  std::string bytes(kReplayMarkBytes, '\0');
  auto got = (*f)->Read(0, {reinterpret_cast<std::byte*>(bytes.data()), bytes.size()});
  if (!got.ok() || *got != kReplayMarkBytes) return 0;
  auto mark = DecodeReplayMark(bytes);
  if (!mark.ok()) return 0;
  const std::uint64_t damaged = index_->lowest_damaged_seq();
  return std::min(*mark, damaged == 0 ? 0 : damaged - 1);
}

void StoreImpl::WriteReplayMark() {
  if (!wal_ready_.load(std::memory_order_acquire)) return;
  MutexLock lock(mark_mu_);
  const std::uint64_t upto = index_->ReleasableSeq();
  if (upto <= replay_mark_written_) return;
  auto f = env_->OpenFile(ReplayMarkPath(), {.create = true});
  if (!f.ok()) return;
  const std::string bytes = EncodeReplayMark(upto);
  // Not synced: see index_checkpoint.h.
  if ((*f)->Write(0, {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}).ok()) {
    replay_mark_written_ = upto;
  }
}

void StoreImpl::MaybeCheckpoint() {
  if (options_.index_checkpoint == 0 || !index_->ready()) return;
  const IndexCounters c = index_->counters();
  const std::uint64_t written = c.block_bytes_written - checkpoint_block_bytes_;
  const std::int64_t window_ns = std::chrono::nanoseconds(options_.partition_window).count();
  // Only by volume and by time, never in reply to an operation: what a
  // store writes for an operation stays the same from run to run (the
  // fault sweeps count it). A store opened by a scan gets its first
  // checkpoint at its next clean stop at the latest.
  const bool due = written >= options_.index_checkpoint ||
                   (written > 0 && mono_() - checkpoint_mono_ >= window_ns);
  if (due) (void)WriteCheckpoint();
}

Status StoreImpl::WriteCheckpoint() {
  const std::uint64_t block_bytes = index_->counters().block_bytes_written;
  if (!wal_ready_.load(std::memory_order_acquire)) return Status::Ok();  // later
  CheckpointRecent recent;
  CheckpointFull full;
  if (!index_->Snapshot(now_(), wal_->stats().first_seq, &recent, &full)) return Status::Ok();
  const std::string bytes = EncodeCheckpoint(recent, full);
  const std::string path = CheckpointPath();
  const std::string tmp = path + ".tmp";
  // Written aside, synced, then renamed over the last one: a crash leaves
  // the old checkpoint or the new one, never a mix.
  Status s = [&]() -> Status {
    if (env_->Exists(tmp)) SLUICE_RETURN_IF_ERROR(env_->Remove(tmp));
    SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(tmp, {.create = true}));
    SLUICE_RETURN_IF_ERROR(
        f->Write(0, {reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()}));
    SLUICE_RETURN_IF_ERROR(f->Sync());
    f.reset();
    SLUICE_RETURN_IF_ERROR(env_->Rename(tmp, path));
    return env_->SyncDir(options_.dir);
  }();
  checkpoint_mono_ = mono_();
  if (!s.ok()) {
    (void)env_->Remove(tmp);
    checkpoint_errors_.fetch_add(1);
    MutexLock lock(notes_mu_);
    last_checkpoint_error_ = s.message();
    return s;
  }
  checkpoint_block_bytes_ = block_bytes;
  checkpoint_on_disk_ = true;
  checkpoints_written_.fetch_add(1);
  checkpoint_bytes_ = bytes.size();
  return Status::Ok();
}

}  // namespace sluice::store
