// StoreImpl (store_impl.h) at Open: the partition parameters fixed at
// creation (store.meta), opening and replaying the write buffer, and setting
// aside a damaged one.
#include "store_impl.h"

#include <pthread.h>

#include "base/coding.h"
#include "batch_format.h"

namespace sluice::store {

namespace {

constexpr LogFileFormat kMetaFormat{0x544d4c53 /* "SLMT" */, 1, 64};

const char* EngineName(IoEngine e) {
  switch (e) {
    case IoEngine::kIoUring: return "io_uring";
    case IoEngine::kPwrite: return "pwrite";
    case IoEngine::kAuto: return "auto";
  }
  return "unknown";
}

}  // namespace

Status StoreImpl::Init(const std::string& engine_why) {
  const auto started = std::chrono::steady_clock::now();
  open_started_ = started;
  SLUICE_RETURN_IF_ERROR(env_->CreateDirs(options_.dir));
  SLUICE_RETURN_IF_ERROR(FixPartitionParameters());

  RegistryRecovery reg;
  auto registry = Registry::Open(env_, options_.dir, &reg);
  if (!registry.ok()) return registry.status().WithContext("series registry");
  registry_ = std::move(*registry);
  if (reg.discarded_bytes) {
    notes_.push_back("series registry: discarded a torn tail of " +
                     std::to_string(reg.discarded_bytes) + " bytes");
  }

  // Restart from the index checkpoint when there is a usable one: the
  // manifest and segments.log are read from where it left off, the segments
  // only after its position, and the rest of the index loads in the
  // background (Maintain). Otherwise every segment is scanned, as a store
  // made before checkpoints existed is.
  const std::string segments_dir = options_.dir + "/segments";
  recovery_path_ = "scan";
  if (options_.index_checkpoint > 0 && env_->Exists(CheckpointPath())) {
    auto ckpt = ReadCheckpointRecent();
    if (ckpt.ok()) {
      checkpoint_ = std::move(*ckpt);
      checkpoint_bytes_ = kCheckpointHeaderBytes + checkpoint_->first.recent_len +
                          checkpoint_->first.full_len;
      checkpoint_on_disk_ = true;
      recovery_path_ = "checkpoint";
    } else {
      recovery_path_ = "scan (index checkpoint not used: " + ckpt.status().message() + ")";
      notes_.push_back("index checkpoint not used (" + ckpt.status().message() +
                       "): every segment was scanned");
    }
  }

  std::map<PartitionId, PartitionState> states;
  auto accept_state = [&](std::string_view e) { return ApplyManifestEntry(e, states); };
  auto manifest = checkpoint_ ? LogFile::OpenFrom(env_, options_.dir, "partitions.log",
                                                  kManifestFormat,
                                                  checkpoint_->second.manifest_bytes,
                                                  accept_state)
                              : LogFile::Open(env_, options_.dir, "partitions.log",
                                              kManifestFormat, accept_state, nullptr);
  if (!manifest.ok()) return manifest.status().WithContext("partition manifest");

  std::vector<FoundBlock> found;
  SegmentRecovery seg;
  std::optional<SegmentStart> start;
  if (checkpoint_) {
    const CheckpointRecent& r = checkpoint_->second;
    start = SegmentStart{r.segment, r.page, r.max_created_segment, r.segments_log_bytes};
  }
  auto segments = Segments::Open(env_, {segments_dir, options_.segment_size}, &found, &seg,
                                 start ? &*start : nullptr);
  if (!segments.ok()) return segments.status().WithContext("segments");
  for (auto& n : seg.notes) notes_.push_back(std::move(n));
  quarantined_pages_ = seg.quarantined_pages;
  leftover_files_ = seg.leftover_files;
  missing_segments_ = seg.missing_segments;
  truncated_segments_ = seg.truncated;
  index_ = std::make_unique<PartitionIndex>(options_, env_, std::move(*segments),
                                            std::move(*manifest), std::move(states));
  if (checkpoint_) index_->StartFromCheckpoint(checkpoint_->second);
  for (const auto& b : found) index_->AddRecoveredBlock(b);

  wo_.dir = options_.dir + "/wal";
  wo_.file_size = options_.wal_file_size;
  wo_.max_commit_delay = options_.wal_max_commit_delay;
  wo_.max_group_bytes = options_.wal_max_group_bytes;
  wo_.first_seq = index_->max_seq() + 1;
  if (options_.cursor_retain_bytes > 0) {
    // Before the write buffer is replayed: replay feeds it, and the
    // buffer keeps what it has not confirmed from the first release on.
    DurableCursorImpl::Config cc;
    cc.store_dir = options_.dir;
    cc.wal_dir = wo_.dir;
    cc.direct = [this](std::uint64_t seq) { return index_->DirectGroupOf(seq); };
    if (options_.write_buffer == WriteBufferMode::kPmem) {
      cc.spill_dir = options_.dir + "/stream-spill";
      cc.spill_file_size = options_.wal_file_size;
    }
    cc.retain_bytes = options_.cursor_retain_bytes;
    cc.memory_bytes = options_.cursor_memory_bytes;
    cc.max_value_bytes = options_.max_value_bytes;
    cursor_ = std::make_unique<DurableCursorImpl>(env_, std::move(cc));
    SLUICE_RETURN_IF_ERROR(cursor_->Load([this] { ReleaseWal(); }));
  }
  if (Status w = OpenWriteBuffer(); !w.ok()) {
    if (w.code() != StatusCode::kNoSpace) return w;
    // Everything the log holds was replayed before the write that failed
    // (a new or extended log file, blocks flushed before a damaged log is
    // set aside): served now, writable later.
    SetUnwritable("write buffer not writable: " + w.message());
    notes_.push_back("opened read-only: " + w.message() + "; appends resume once space is free");
  }
  if (!verified_) index_->VerifyTail(UINT64_MAX);
  verified_ = true;

  io_engine_ = std::string(EngineName(env_->io_engine())) +
               (engine_why.empty() ? "" : " (" + engine_why + ")");
  recovery_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                     std::chrono::steady_clock::now() - started)
                     .count();
  if (!checkpoint_) index_load_us_ = recovery_us_;
  // The mark follows each block: a restart replays only what was still in
  // open blocks (not what the maintenance tick had yet to note).
  index_->Start([this] { WriteReplayMark(); });
  EnsureReserve();
  EnforceBudget();
  SampleSpace();
  maintenance_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "sluice-maint");
    Maintain();
  });
  return Status::Ok();
}

Status StoreImpl::FixPartitionParameters() {
  std::vector<std::uint64_t> stored;
  auto meta = LogFile::Open(
      env_, options_.dir, "store.meta", kMetaFormat,
      [&](std::string_view e) {
        ByteReader in(e);
        std::uint64_t w = 0, s = 0, g = 0;
        if (!in.GetVarint64(w) || !in.GetVarint64(s) || !in.GetVarint64(g)) return false;
        stored = {w, s, g};
        return true;
      },
      nullptr);
  if (!meta.ok()) return meta.status().WithContext("store.meta");
  meta_ = std::move(*meta);
  if (stored.empty()) {
    PutVarint64(meta_entry_, options_.partition_window.count());
    PutVarint64(meta_entry_, options_.partition_shards);
    PutVarint64(meta_entry_, options_.late_grace.count());
    Status s = meta_->Append(meta_entry_);
    // A new store on a full disk: written before the first append.
    meta_pending_ = s.code() == StatusCode::kNoSpace;
    return meta_pending_ ? Status::Ok() : s;
  }
  Options fixed = options_;
  // Stored counts are checked by Validate below; a damaged one beyond a
  // day's seconds is refused there, not wrapped.
  fixed.partition_window = std::chrono::seconds(std::min<std::uint64_t>(stored[0], 1u << 30));
  fixed.partition_shards = static_cast<std::uint32_t>(stored[1]);
  fixed.late_grace = std::chrono::seconds(std::min<std::uint64_t>(stored[2], 1u << 30));
  if (fixed.partition_window != options_.partition_window ||
      fixed.partition_shards != options_.partition_shards ||
      fixed.late_grace != options_.late_grace) {
    notes_.push_back("partition window, shards and grace are fixed at creation: using " +
                     std::to_string(stored[0]) + " s, " + std::to_string(stored[1]) + ", " +
                     std::to_string(stored[2]) + " s");
    SLUICE_RETURN_IF_ERROR(fixed.Validate().WithContext("store.meta"));
    options_ = fixed;
  }
  return Status::Ok();
}

Result<std::unique_ptr<WriteBuffer>> StoreImpl::OpenLog(const WalOptions& wo, const WriteBuffer::ReplayFn& replay) {
  if (options_.write_buffer == WriteBufferMode::kWal) return OpenWal(env_, wo, replay);
  PmemLogOptions po;
  po.path = PmemPath();
  po.size = options_.pmem_size;
  po.max_commit_delay = std::min(wo.max_commit_delay, std::chrono::microseconds(1000));
  po.max_group_bytes = std::min<std::uint64_t>(wo.max_group_bytes, options_.pmem_size / 8);
  po.first_seq = wo.first_seq;
  po.max_spin = options_.pmem_max_spin;
  return OpenPmemLog(env_, po, replay);
}

Status StoreImpl::OpenWriteBuffer() {
  if (meta_pending_) {
    SLUICE_RETURN_IF_ERROR(meta_->Append(meta_entry_).WithContext("store.meta"));
    meta_pending_ = false;
  }
  // Blocks holding records from the log's first one on are checked before
  // the replay mark is trusted (a damaged one lowers the bound).
  auto begin = [this](std::uint64_t first_seq) {
    if (verified_) return;
    index_->VerifyTail(first_seq);
    verified_ = true;
    replay_skip_upto_ = ReplaySkipBound();
  };
  WriteBuffer::ReplayFn replay = [this, begin](const WriteBufferRecord& r) {
    if (r.seq <= replayed_seq_) return Status::Ok();
    begin(r.seq);
    replayed_seq_ = r.seq;
    if (r.seq <= replay_skip_upto_) {
      ++replay_mark_skipped_;
      return Status::Ok();
    }
    return Replay(r);
  };
  // The log need not even read files below the bound (nor, on a second
  // attempt, what the first one replayed).
  WalOptions wo = wo_;
  wo.needs_replay_above = [this, begin](std::uint64_t first_seq) {
    begin(first_seq);
    return std::max(replay_skip_upto_, replayed_seq_);
  };
  auto wal = OpenLog(wo, replay);
  if (!wal.ok() && wal.status().code() == StatusCode::kCorruption) {
    wal = SalvageWal(wal.status(), replay);
  }
  if (!wal.ok()) return wal.status().WithContext("write-ahead log");
  torn_tail_bytes_ += (*wal)->stats().torn_tail_bytes;
  replay_mark_skipped_ += (*wal)->stats().passed_over;
  {
    MutexLock lock(append_mu_);
    wal_ = std::move(*wal);
    wal_ready_.store(true, std::memory_order_release);
  }
  ReleaseWal();
  return Status::Ok();
}

Result<std::unique_ptr<WriteBuffer>> StoreImpl::SalvageWal(const Status& why, const WriteBuffer::ReplayFn& replay) {
  if (!index_->ready()) LoadIndex();  // blocks are written only into a whole index
  SLUICE_RETURN_IF_ERROR(index_->FlushAll());
  const std::string damaged = options_.write_buffer == WriteBufferMode::kWal ? wo_.dir : PmemPath();
  std::string aside;
  for (int n = 1;; ++n) {
    aside = damaged + ".corrupt-" + std::to_string(n);
    if (!env_->Exists(aside)) break;
  }
  SLUICE_RETURN_IF_ERROR(env_->Rename(damaged, aside));
  SLUICE_RETURN_IF_ERROR(env_->SyncDir(aside.substr(0, aside.rfind('/'))));
  wal_set_aside_ = true;
  Note("write buffer damaged (" + why.message() + "); set aside as " + aside +
       "; any records past the damage are lost");
  // Numbering goes on above everything now in blocks: blocks and the next
  // log must never share sequence numbers.
  WalOptions fresh = wo_;
  fresh.first_seq = index_->max_seq() + 1;
  return OpenLog(fresh, replay);
}

Status StoreImpl::Replay(const WriteBufferRecord& r) {
  const std::string where = "write-ahead log record " + std::to_string(r.seq);
  if (r.type == static_cast<std::uint8_t>(WalRecordType::kDirect)) {
    auto marker = DecodeDirectMarker(
        {reinterpret_cast<const char*>(r.payload.data()), r.payload.size()});
    if (!marker.ok()) return Quarantine(where + ": " + marker.status().message());
    // Its records are in direct blocks, indexed with their whole flush
    // group, or nowhere: a group cut short was set aside when the blocks
    // were found (PartitionIndex::VerifyTail), and its batches were never
    // acknowledged.
    last_arrival_ = std::max(last_arrival_, marker->arrival_ns);
    if (cursor_ && !cursor_->spills()) {
      // Read back later through the log reader, which finds the blocks.
      cursor_->OnReplayed(r.seq, marker->arrival_ns, marker->records, r.payload.size());
    } else if (cursor_) {
      // The ring cannot be read back: the cursor keeps the records, read
      // from the blocks now (the flush group's, once).
      SLUICE_ASSIGN_OR_RETURN(auto group, index_->DirectGroupOf(r.seq));
      if (group && group->last_seq == r.seq) {
        auto payload = std::make_shared<std::string>();
        EncodeBatch(group->records, marker->arrival_ns, *payload);
        const std::uint64_t n = group->records.size();
        cursor_->OnReplayed(r.seq, marker->arrival_ns, n, payload->size(),
                            std::make_shared<const Batch>(std::move(group->records)), payload);
      } else {
        cursor_->OnReplayed(r.seq, marker->arrival_ns, 0, r.payload.size(),
                            std::make_shared<const Batch>(), std::make_shared<const std::string>());
      }
    }
    return Status::Ok();
  }
  if (r.type != static_cast<std::uint8_t>(WalRecordType::kBatch)) {
    return Quarantine(where + ": unknown record type " + std::to_string(r.type));
  }
  auto batch = DecodeBatch({reinterpret_cast<const char*>(r.payload.data()), r.payload.size()},
                           options_.max_value_bytes);
  if (!batch.ok()) return Quarantine(where + ": " + batch.status().message());
  std::vector<ValueType> types;
  const std::size_t known = registry_->TypesOf(batch->records, types);
  for (std::size_t i = 0; i < batch->records.size(); ++i) {
    const Record& rec = batch->records[i];
    if (i == known || types[i] != TypeOf(rec.value)) {
      return Quarantine(where + ": series id " + std::to_string(rec.series.value) +
                        (i == known ? " is missing from the registry"
                                    : " has another type in the registry"));
    }
  }
  // A record for a window before the checkpoint's horizon is placed by the
  // states of older partitions: Open loads the whole index first (the
  // maintenance thread, which would, starts only after Open).
  if (index_->NeedsFullIndex(batch->records, batch->arrival_ns)) LoadIndex();
  index_->Apply(batch->records, batch->arrival_ns, r.seq, types, true);
  if (cursor_ && cursor_->spills()) {
    // The ring cannot be read back later: the cursor keeps the batch.
    const std::uint64_t n = batch->records.size();
    cursor_->OnReplayed(r.seq, batch->arrival_ns, n, r.payload.size(),
                        std::make_shared<const Batch>(std::move(batch->records)),
                        std::make_shared<const std::string>(
                            reinterpret_cast<const char*>(r.payload.data()), r.payload.size()));
  } else if (cursor_) {
    cursor_->OnReplayed(r.seq, batch->arrival_ns, batch->records.size(), r.payload.size());
  }
  last_arrival_ = std::max(last_arrival_, batch->arrival_ns);
  recovered_records_ += batch->records.size();
  records_.fetch_add(batch->records.size());
  return Status::Ok();
}

Status StoreImpl::Quarantine(std::string reason) {
  ++quarantined_records_;
  last_quarantine_reason_ = std::move(reason);
  last_quarantine_ns_ = now_();
  return Status::Ok();
}

}  // namespace sluice::store
