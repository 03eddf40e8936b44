// Store: registry + write-ahead log + partitions of blocks in segments.
//
// An append is validated against the registry, encoded (batch_format.h) with
// its arrival time, and handed to the WAL. Once the WAL reports it durable it
// is applied to the partition index (DRAM open blocks, flushed to segments),
// so reads never show a record a crash could take away. WAL space is
// released only up to the oldest record not yet in a durable block.
//
// Full or read-only disks: nothing Open must write (a new log file, a
// repaired metadata log, the segment log) is a precondition of serving what
// is already durable. When the write buffer cannot be made writable at Open
// (NoSpace, which includes EROFS), the store opens with what it replayed,
// serves reads, seals, marks synced and reclaims, refuses appends with the
// reason, and tries again as space returns. An append that meets a full file
// system refuses the next ones the same way until free space is back.
// Marking synced and reclaiming free space, so they must not need it: a
// small reserve file is given up when they meet ENOSPC.
//
// Clocks: arrival times follow the wall clock, forward and back (steps over
// kClockTolerance are counted as jumps by the maintenance thread against a
// monotonic clock); partitions a stepped-back clock leaves in the future are
// sealed after a window plus grace without records (PartitionIndex).
#include "store/store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <thread>

#include "batch_format.h"
#include "coding.h"
#include "durable_cursor_impl.h"
#include "log_file.h"
#include "partition_index.h"
#include "pmem_log.h"
#include "registry.h"
#include "store_logs.h"
#include "wal.h"

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

std::int64_t SystemNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t SteadyNow() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Arrival times stay monotonic across wall-clock wobble up to this much
// (NTP slews and small steps); a larger step back is followed, so that a
// clock that was once ahead does not hold every later record in the future.
constexpr std::int64_t kClockTolerance = 1'000'000'000;
// A wall clock that moves this much more or less than the monotonic clock
// between two looks of the maintenance thread has jumped.
constexpr std::int64_t kClockJump = 2'000'000'000;
// How often a store whose writes met a full disk tries again regardless of
// what statvfs says (root may write into ext4's reserved blocks).
constexpr std::int64_t kFullRetryNs = 30'000'000'000;


class StoreImpl final : public Store {
 public:
  StoreImpl(const Options& options, std::unique_ptr<Env> owned_env, Env* env,
            std::function<std::int64_t()> now, std::function<std::int64_t()> mono,
            std::function<bool(const PartitionInfo&)> evict_unsynced)
      : options_(options),
        owned_env_(std::move(owned_env)),
        env_(env),
        now_(std::move(now)),
        mono_(std::move(mono)),
        evict_unsynced_(std::move(evict_unsynced)) {}
  ~StoreImpl() override { (void)Close(); }

  Status Init(const std::string& engine_why) {
    const auto started = std::chrono::steady_clock::now();
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

    std::map<PartitionId, PartitionState> states;
    auto manifest = LogFile::Open(
        env_, options_.dir, "partitions.log", kManifestFormat,
        [&](std::string_view e) {
          PartitionId id;
          PartitionState s;
          if (!DecodeManifestEntry(e, id, s)) return false;
          states[id] = s;
          return true;
        },
        nullptr);
    if (!manifest.ok()) return manifest.status().WithContext("partition manifest");

    std::vector<FoundBlock> found;
    SegmentRecovery seg;
    auto segments = Segments::Open(env_, {options_.dir + "/segments", options_.segment_size},
                                   &found, &seg);
    if (!segments.ok()) return segments.status().WithContext("segments");
    for (auto& n : seg.notes) notes_.push_back(std::move(n));
    quarantined_pages_ = seg.quarantined_pages;
    leftover_files_ = seg.leftover_files;
    missing_segments_ = seg.missing_segments;
    index_ = std::make_unique<PartitionIndex>(options_, env_, std::move(*segments),
                                              std::move(*manifest), std::move(states));
    for (const auto& b : found) index_->AddRecoveredBlock(b);

    wo_.dir = options_.dir + "/wal";
    wo_.file_size = options_.wal_file_size;
    wo_.max_commit_delay = std::chrono::microseconds(options_.wal_max_commit_delay_us);
    wo_.max_group_bytes = options_.wal_max_group_bytes;
    wo_.first_seq = index_->max_seq() + 1;
    if (options_.cursor_retain_bytes > 0) {
      // Before the write buffer is replayed: replay feeds it, and the
      // buffer keeps what it has not confirmed from the first release on.
      DurableCursorImpl::Config cc;
      cc.store_dir = options_.dir;
      cc.wal_dir = wo_.dir;
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
      notes_.push_back("opened read-only: " + w.message() +
                       "; appends resume once space is free");
    }
    if (!verified_) index_->VerifyTail(UINT64_MAX);
    verified_ = true;

    io_engine_ = std::string(EngineName(env_->io_engine())) +
                 (engine_why.empty() ? "" : " (" + engine_why + ")");
    recovery_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
    index_->Start();
    EnsureReserve();
    EnforceBudget();
    SampleSpace();
    maintenance_ = std::thread([this] { Maintain(); });
    return Status::Ok();
  }

  Result<SeriesId> RegisterSeries(std::string_view name, ValueType type,
                                  std::string_view unit) override {
    if (closed_.load()) return Aborted("store is closed");
    return registry_->Register(name, type, unit);
  }
  std::vector<Result<SeriesId>> RegisterSeriesBatch(std::span<const SeriesSpec> specs) override {
    if (closed_.load()) return {specs.size(), Result<SeriesId>(Aborted("store is closed"))};
    return registry_->RegisterBatch(specs);
  }
  std::optional<SeriesInfo> FindSeries(std::string_view name) const override {
    return registry_->Find(name);
  }
  std::optional<SeriesInfo> GetSeries(SeriesId id) const override { return registry_->Get(id); }
  std::vector<SeriesInfo> ListSeries() const override { return registry_->List(); }

  Ticket Append(Batch batch, Ticket::Callback callback) override {
    Ticket ticket = Ticket::Pending(std::move(callback));
    if (closed_.load()) {
      ticket.Complete(Aborted("store is closed"));
      return ticket;
    }
    if (full_.load()) {
      rejected_full_.fetch_add(1);
      ticket.Complete(NoSpace("disk budget: " + std::to_string(disk_used_.load()) + " of " +
                              std::to_string(options_.disk_budget_bytes) +
                              " bytes used; appends resume once synced partitions are reclaimed"));
      return ticket;
    }
    if (unwritable_.load(std::memory_order_acquire)) {
      rejected_no_space_.fetch_add(1);
      ticket.Complete(NoSpace(UnwritableReason() +
                              "; appends resume once space is free (reads and sync go on)"));
      return ticket;
    }
    auto types = std::make_shared<std::vector<ValueType>>();
    if (Status s = Check(batch, *types); !s.ok()) {
      rejected_batches_.fetch_add(1);
      ticket.Complete(s);
      return ticket;
    }
    auto payload = std::make_shared<std::string>();
    auto records = std::make_shared<Batch>(std::move(batch));
    // Arrival times are stored with each batch, so replay places records
    // exactly as they were placed whatever the clock did. They stay
    // monotonic through small wobble and follow a large step back.
    std::lock_guard lock(append_mu_);
    if (!wal_ready_.load(std::memory_order_acquire)) {
      rejected_no_space_.fetch_add(1);
      ticket.Complete(NoSpace(UnwritableReason()));
      return ticket;
    }
    const std::int64_t now = now_();
    const bool wobble = now < last_arrival_ && last_arrival_ - now <= kClockTolerance;
    const std::int64_t arrival = wobble ? last_arrival_ : now;
    last_arrival_ = arrival;
    EncodeBatch(*records, arrival, *payload);
    if (payload->size() > options_.block_size) {
      // A batch never splits across blocks, so it must fit one.
      rejected_batches_.fetch_add(1);
      ticket.Complete(InvalidArgument("batch of " + std::to_string(payload->size()) +
                                      " encoded bytes is larger than block_size (" +
                                      std::to_string(options_.block_size) + "); split it"));
      return ticket;
    }
    const std::span<const std::byte> bytes{reinterpret_cast<const std::byte*>(payload->data()),
                                           payload->size()};
    wal_->Append(static_cast<std::uint8_t>(WalRecordType::kBatch), bytes,
                 [this, ticket, payload, records, types, arrival](Status s, std::uint64_t seq) {
                   if (s.ok()) {
                     // Durable in the WAL: acknowledged even if the block
                     // write below fails (it is retried; the WAL keeps it).
                     index_->Apply(*records, arrival, seq, *types, false);
                     if (cursor_) cursor_->OnDurable(seq, arrival, records, payload);
                     if (fs_full_.load(std::memory_order_relaxed)) {
                       fs_full_.store(false, std::memory_order_release);
                     }
                     wal_->Release(ReleasableSeq());
                     appends_.fetch_add(1);
                     records_.fetch_add(records->size());
                     bytes_.fetch_add(payload->size());
                   } else {
                     failed_batches_.fetch_add(1);
                     // Said in pressure() until an append succeeds or
                     // free space is back (Maintain); appends still try.
                     if (s.code() == StatusCode::kNoSpace) {
                       rejected_no_space_.fetch_add(1);
                       SetFsFull(s.message());
                     }
                   }
                   ticket.Complete(s);
                 });
    return ticket;
  }

  std::optional<Record> Latest(SeriesId series) const override { return index_->Latest(series); }

  Status Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
              const std::function<bool(const Record&)>& visit) const override {
    if (!registry_->Get(series)) {
      return NotFound("series id " + std::to_string(series.value) + " is not registered");
    }
    if (t0 >= t1) return Status::Ok();
    return index_->Scan(series, t0, t1, visit);
  }

  Status ReadPartition(const PartitionId& id,
                       const std::function<bool(const Record&)>& visit) const override {
    return index_->ReadPartition(id, visit);
  }
  Status Seal(const PartitionId& id) override {
    SLUICE_RETURN_IF_ERROR(index_->Seal(id));
    ReleaseWal();
    return Status::Ok();
  }
  // Both free space (a synced partition may be reclaimed), so a full disk
  // must not stop them: on NoSpace the reserve is given up and they retry.
  Status MarkSynced(const PartitionId& id) override {
    Status s = index_->MarkSynced(id);
    if (s.code() == StatusCode::kNoSpace && ReleaseReserve()) s = index_->MarkSynced(id);
    return s;
  }
  Status Reclaim(const PartitionId& id) override {
    Status s = index_->Reclaim(id);
    if (s.code() == StatusCode::kNoSpace && ReleaseReserve()) {
      // The manifest may already say reclaimed; then only segments remain.
      s = index_->Reclaim(id);
      if (s.code() == StatusCode::kInvalidArgument) s = index_->RemoveDeadSegments();
    }
    return s;
  }
  std::vector<PartitionInfo> ListPartitions(std::optional<PartitionState> state) const override {
    return index_->List(state);
  }

  DurableCursor* durable_cursor() override { return cursor_.get(); }

  StorePressure pressure() const override {
    StorePressure p;
    p.disk_used_bytes = disk_used_.load();
    p.disk_budget_bytes = options_.disk_budget_bytes;
    if (unwritable_.load(std::memory_order_acquire) || fs_full_.load(std::memory_order_acquire)) {
      p.full = true;
      p.full_reason = UnwritableReason();
    } else if (full_.load()) {
      p.full = true;
      p.full_reason = "disk budget: " + std::to_string(p.disk_used_bytes) + " of " +
                      std::to_string(p.disk_budget_bytes) + " bytes used";
    }
    p.fs_free_bytes = fs_free_.load();
    p.fs_total_bytes = fs_total_.load();
    p.low_space = options_.free_space_warning_pct > 0 && p.fs_total_bytes > 0 &&
                  p.fs_free_bytes < p.fs_total_bytes / 100 * options_.free_space_warning_pct;
    return p;
  }

  StoreStats stats() const override {
    StoreStats s;
    s.appends = appends_.load();
    s.records = records_.load();
    s.bytes = bytes_.load();
    s.rejected_batches = rejected_batches_.load();
    s.failed_batches = failed_batches_.load();
    s.commit_groups = wal_ready_.load(std::memory_order_acquire) ? wal_->stats().groups : 0;
    s.series = registry_ ? registry_->size() : 0;
    s.recovered_records = recovered_records_;  // less what was already in blocks, below
    s.quarantined_records = quarantined_records_;
    s.last_quarantine_reason = last_quarantine_reason_;
    s.last_quarantine_ns = last_quarantine_ns_;
    s.io_engine = io_engine_;
    s.write_buffer = options_.write_buffer == WriteBufferMode::kWal ? "wal" : "pmem " + PmemPath();
    if (index_) {
      const IndexCounters c = index_->counters();
      s.blocks_written = c.blocks_written;
      s.block_bytes_written = c.block_bytes_written;
      s.block_write_failures = c.block_write_failures;
      s.quarantined_blocks = c.quarantined_blocks;
      s.late_records = c.late_records;
      s.recovered_records -= std::min(s.recovered_records, c.replay_skipped_records);
      s.segment_bytes = index_->segment_bytes();
      s.dram_index_bytes = index_->dram_index_bytes();
    }
    s.quarantined_pages = quarantined_pages_;
    s.missing_segments = missing_segments_;
    s.write_buffer_set_aside = wal_set_aside_;
    s.rejected_full = rejected_full_.load();
    s.rejected_no_space = rejected_no_space_.load();
    s.clock_jumps_forward = clock_jumps_forward_.load();
    s.clock_jumps_backward = clock_jumps_backward_.load();
    s.last_clock_jump_ns = last_clock_jump_ns_.load();
    s.leftover_files = leftover_files_;
    s.reclaimed_partitions = reclaimed_partitions_.load();
    s.evicted_partitions = evicted_partitions_.load();
    s.evicted_records = evicted_records_.load();
    s.recovery_us = recovery_us_;
    s.torn_tail_bytes = torn_tail_bytes_.load();
    {
      std::lock_guard lock(notes_mu_);
      s.notes = notes_;
    }
    return s;
  }

  Status Close() override {
    if (closed_.exchange(true)) return Status::Ok();
    {
      std::lock_guard lock(stop_mu_);
      stop_ = true;
    }
    stop_cv_.notify_all();
    if (maintenance_.joinable()) maintenance_.join();
    if (cursor_) cursor_->Close();
    if (!wal_ready_.load(std::memory_order_acquire)) {
      // Never writable: what was replayed is still in the log's files.
      if (index_) index_->Stop();
      return Status::Ok();
    }
    Status s = wal_->Close();
    // Writing the open blocks makes the next start replay nothing.
    Status f = index_->FlushAll();
    index_->Stop();
    if (f.ok()) wal_->Release(ReleasableSeq());
    // On a full disk the open blocks stay in the write buffer, durable, and
    // the next start replays them: a clean stop, not a failure (a failed
    // stop would have systemd mark the unit failed for a full disk).
    if (s.code() == StatusCode::kNoSpace) s = Status::Ok();
    if (f.code() == StatusCode::kNoSpace) f = Status::Ok();
    return s.ok() ? f : s;
  }

 private:
  // The partition window, shards and grace decide where records go, also at
  // replay; they are fixed when the store is created (store.meta) and later
  // different options are overridden, with a note.
  Status FixPartitionParameters() {
    std::vector<std::uint64_t> stored;
    auto meta = LogFile::Open(
        env_, options_.dir, "store.meta", kMetaFormat,
        [&](std::string_view e) {
          coding::Reader in(e);
          std::uint64_t w = 0, s = 0, g = 0;
          if (!in.GetVarint64(w) || !in.GetVarint64(s) || !in.GetVarint64(g)) return false;
          stored = {w, s, g};
          return true;
        },
        nullptr);
    if (!meta.ok()) return meta.status().WithContext("store.meta");
    meta_ = std::move(*meta);
    if (stored.empty()) {
      coding::PutVarint64(meta_entry_, options_.partition_window_s);
      coding::PutVarint64(meta_entry_, options_.partition_shards);
      coding::PutVarint64(meta_entry_, options_.late_grace_s);
      Status s = meta_->Append(meta_entry_);
      // A new store on a full disk: written before the first append.
      meta_pending_ = s.code() == StatusCode::kNoSpace;
      return meta_pending_ ? Status::Ok() : s;
    }
    Options fixed = options_;
    fixed.partition_window_s = static_cast<std::uint32_t>(stored[0]);
    fixed.partition_shards = static_cast<std::uint32_t>(stored[1]);
    fixed.late_grace_s = static_cast<std::uint32_t>(stored[2]);
    if (fixed.partition_window_s != options_.partition_window_s ||
        fixed.partition_shards != options_.partition_shards ||
        fixed.late_grace_s != options_.late_grace_s) {
      notes_.push_back("partition window, shards and grace are fixed at creation: using " +
                       std::to_string(stored[0]) + " s, " + std::to_string(stored[1]) + ", " +
                       std::to_string(stored[2]) + " s");
      SLUICE_RETURN_IF_ERROR(fixed.Validate().WithContext("store.meta"));
      options_ = fixed;
    }
    return Status::Ok();
  }

  std::string PmemPath() const {
    return options_.pmem_path.empty() ? options_.dir + "/wal.pmem" : options_.pmem_path;
  }

  Result<std::unique_ptr<Wal>> OpenLog(const WalOptions& wo, const Wal::ReplayFn& replay) {
    if (options_.write_buffer == WriteBufferMode::kWal) return Wal::Open(env_, wo, replay);
    PmemLogOptions po;
    po.path = PmemPath();
    po.size = options_.pmem_size;
    po.max_commit_delay = std::min(wo.max_commit_delay, std::chrono::microseconds(1000));
    po.max_group_bytes = std::min<std::uint64_t>(wo.max_group_bytes, options_.pmem_size / 8);
    po.first_seq = wo.first_seq;
    po.max_spin = options_.pmem_max_spin;
    return OpenPmemLog(env_, po, replay);
  }

  // Opens the write buffer, replaying what it holds; at Open, and again
  // from Maintain while a full disk kept it from opening. A second attempt
  // skips the records the first one replayed: they are in the index already.
  Status OpenWriteBuffer() {
    if (meta_pending_) {
      SLUICE_RETURN_IF_ERROR(meta_->Append(meta_entry_).WithContext("store.meta"));
      meta_pending_ = false;
    }
    Wal::ReplayFn replay = [this](const WalRecordView& r) {
      if (r.seq <= replayed_seq_) return Status::Ok();
      if (!verified_) {
        index_->VerifyTail(r.seq);
        verified_ = true;
      }
      replayed_seq_ = r.seq;
      return Replay(r);
    };
    auto wal = OpenLog(wo_, replay);
    if (!wal.ok() && wal.status().code() == StatusCode::kCorruption) {
      wal = SalvageWal(wal.status(), replay);
    }
    if (!wal.ok()) return wal.status().WithContext("write-ahead log");
    torn_tail_bytes_ += (*wal)->stats().torn_tail_bytes;
    {
      std::lock_guard lock(append_mu_);
      wal_ = std::move(*wal);
      wal_ready_.store(true, std::memory_order_release);
    }
    ReleaseWal();
    return Status::Ok();
  }

  void ReleaseWal() {
    if (wal_ready_.load(std::memory_order_acquire)) wal_->Release(ReleasableSeq());
  }

  // Log records blocks no longer need and the cursor (if any) has confirmed.
  std::uint64_t ReleasableSeq() const {
    const std::uint64_t blocks = index_->ReleasableSeq();
    if (!cursor_) return blocks;
    if (cursor_->spills()) cursor_->WantRelease(blocks);
    return std::min(blocks, cursor_->Pin());
  }

  // The store always starts: a write-ahead log damaged before its last write
  // (not a torn tail, which the log handles itself) is set aside whole as
  // wal.corrupt-<n> for inspection. What was replayed before the damage is
  // written to blocks first; records after it are lost, and said so.
  Result<std::unique_ptr<Wal>> SalvageWal(const Status& why, const Wal::ReplayFn& replay) {
    SLUICE_RETURN_IF_ERROR(index_->FlushAll());
    const std::string damaged =
        options_.write_buffer == WriteBufferMode::kWal ? wo_.dir : PmemPath();
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

  void Note(std::string note) {
    std::lock_guard lock(notes_mu_);
    notes_.push_back(std::move(note));
  }

  void SetUnwritable(std::string reason) {
    SetReason(std::move(reason));
    unwritable_.store(true, std::memory_order_release);
  }
  void SetFsFull(std::string reason) {
    SetReason(std::move(reason));
    fs_full_.store(true, std::memory_order_release);
  }
  void SetReason(std::string reason) {
    std::lock_guard lock(unwritable_mu_);
    unwritable_reason_ = std::move(reason);
    unwritable_since_mono_ = mono_();
  }
  std::string UnwritableReason() const {
    std::lock_guard lock(unwritable_mu_);
    return unwritable_reason_.empty() ? "write buffer not open" : unwritable_reason_;
  }

  // The reserve: a preallocated, synced file given up when marking synced or
  // reclaiming meets a full disk, taken back once space returns.
  std::string ReservePath() const { return options_.dir + "/reserve"; }
  void EnsureReserve() {
    if (options_.reserve_bytes == 0 || reserve_held_) return;
    auto f = env_->OpenFile(ReservePath(), {.create = true});
    Status s = f.status();
    if (s.ok()) s = (*f)->Preallocate(options_.reserve_bytes, Preallocation::kReserve);
    if (s.ok()) s = env_->SyncDir(options_.dir);
    if (f.ok()) f->reset();
    if (!s.ok()) {
      (void)env_->Remove(ReservePath());
      return;
    }
    reserve_held_ = true;
  }
  // True when there was a reserve to give up.
  bool ReleaseReserve() {
    std::lock_guard lock(reserve_mu_);
    if (!reserve_held_ && !env_->Exists(ReservePath())) return false;
    if (!env_->Remove(ReservePath()).ok()) return false;
    (void)env_->SyncDir(options_.dir);
    reserve_held_ = false;
    reserve_releases_.fetch_add(1);
    return true;
  }

  void SampleSpace() {
    auto space = env_->FileSystemSpace(options_.dir);
    if (!space.ok()) return;
    fs_free_.store(space->free_bytes);
    fs_total_.store(space->total_bytes);
    fs_read_only_.store(space->read_only);
  }

  // Room for a new log file and a few blocks: enough to try writing again.
  std::uint64_t ResumeBytes() const {
    return options_.wal_file_size + 4 * options_.block_size + options_.reserve_bytes;
  }

  // Counts wall-clock steps: the wall clock moved more (or less) than the
  // monotonic one since the last look.
  void WatchClock() {
    const std::int64_t wall = now_(), mono = mono_();
    if (clock_seen_) {
      const std::int64_t drift = (wall - last_wall_) - (mono - last_mono_);
      if (drift > kClockJump || drift < -kClockJump) {
        (drift > 0 ? clock_jumps_forward_ : clock_jumps_backward_).fetch_add(1);
        last_clock_jump_ns_.store(drift);
      }
    }
    clock_seen_ = true;
    last_wall_ = wall;
    last_mono_ = mono;
  }

  // While appends are refused for want of space: try again once free space
  // is back (or every kFullRetryNs: statvfs speaks for an unprivileged
  // writer), reopening the write buffer when it never opened.
  void RetryWritable() {
    if (!unwritable_.load(std::memory_order_acquire) &&
        !fs_full_.load(std::memory_order_acquire)) {
      return;
    }
    std::int64_t since;
    {
      std::lock_guard lock(unwritable_mu_);
      since = unwritable_since_mono_;
    }
    const bool room = !fs_read_only_.load() && fs_free_.load() >= ResumeBytes();
    if (!room && mono_() - since < kFullRetryNs) return;
    if (!wal_ready_.load(std::memory_order_acquire)) {
      if (Status s = OpenWriteBuffer(); !s.ok()) {
        SetUnwritable("write buffer not writable: " + s.message());
        return;
      }
      Note("write buffer writable again");
    }
    unwritable_.store(false, std::memory_order_release);
    fs_full_.store(false, std::memory_order_release);
  }

  // Rejects the whole batch on the first bad record, naming it.
  Status Check(const Batch& batch, std::vector<ValueType>& types) const {
    if (batch.empty()) return InvalidArgument("empty batch");
    types.reserve(batch.size());
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const Record& r = batch[i];
      auto where = [&] { return "record " + std::to_string(i) + ": "; };
      auto info = registry_->Get(r.series);
      if (!info) {
        return InvalidArgument(where() + "series id " + std::to_string(r.series.value) +
                               " is not registered");
      }
      const ValueType t = TypeOf(r.value);
      if (t != info->type) {
        return InvalidArgument(where() + "series '" + info->name + "' holds " +
                               ValueTypeName(info->type) + ", got " + ValueTypeName(t));
      }
      if (t == ValueType::kBytes &&
          std::get<std::string>(r.value).size() > options_.max_value_bytes) {
        return InvalidArgument(where() + "bytes value of " +
                               std::to_string(std::get<std::string>(r.value).size()) +
                               " bytes exceeds max_value_bytes (" +
                               std::to_string(options_.max_value_bytes) + ")");
      }
      types.push_back(t);
    }
    return Status::Ok();
  }

  // A record that passed the log's CRC but cannot be used (unknown type,
  // undecodable payload, a series the registry lost) is quarantined: counted,
  // its reason kept, and the rest of the log served. The store always starts.
  Status Replay(const WalRecordView& r) {
    const std::string where = "write-ahead log record " + std::to_string(r.seq);
    if (r.type != static_cast<std::uint8_t>(WalRecordType::kBatch)) {
      return Quarantine(where + ": unknown record type " + std::to_string(r.type));
    }
    auto batch = DecodeBatch({reinterpret_cast<const char*>(r.payload.data()), r.payload.size()},
                             options_.max_value_bytes);
    if (!batch.ok()) return Quarantine(where + ": " + batch.status().message());
    std::vector<ValueType> types;
    for (const Record& rec : batch->records) {
      auto info = registry_->Get(rec.series);
      if (!info || info->type != TypeOf(rec.value)) {
        return Quarantine(where + ": series id " + std::to_string(rec.series.value) +
                          (info ? " has another type in the registry" : " is missing from the registry"));
      }
      types.push_back(info->type);
    }
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

  Status Quarantine(std::string reason) {
    ++quarantined_records_;
    last_quarantine_reason_ = std::move(reason);
    last_quarantine_ns_ = now_();
    return Status::Ok();
  }

  // Seals partitions whose window and grace have passed and keeps the disk
  // budget. Periodic: there is no event to wait for, only time and space.
  void Maintain() {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_; })) {
      lock.unlock();
      WatchClock();
      SampleSpace();
      RetryWritable();
      if (index_->SealExpired(now_(), mono_()).ok()) ReleaseWal();
      if (cursor_) {
        cursor_->PersistLosses();
        ReleaseWal();
      }
      EnforceBudget();
      if (!reserve_held_ && fs_free_.load() > 4 * options_.reserve_bytes + ResumeBytes()) {
        std::lock_guard r(reserve_mu_);
        EnsureReserve();
      }
      lock.lock();
    }
  }

  std::uint64_t DiskUsed() const {
    std::uint64_t wal_files = 0;
    if (auto names = env_->ListDir(options_.dir + "/wal"); names.ok()) wal_files = names->size();
    if (cursor_ && cursor_->spills()) {
      // The stream cursor's spill log: files of the same size.
      if (auto names = env_->ListDir(options_.dir + "/stream-spill"); names.ok()) {
        wal_files += names->size();
      }
    }
    return index_->segment_bytes() + wal_files * options_.wal_file_size;
  }

  // Above the high watermark: reclaim synced partitions, oldest first, then
  // offer sealed unsynced ones to the eviction hook, until below the low
  // watermark. Appends are refused from the high watermark until usage is
  // back under the low one.
  void EnforceBudget() {
    std::uint64_t used = DiskUsed();
    disk_used_ = used;
    const std::uint64_t budget = options_.disk_budget_bytes;
    if (budget == 0) return;
    const std::uint64_t high = budget / 100 * options_.disk_high_watermark_pct;
    const std::uint64_t low = budget / 100 * options_.disk_low_watermark_pct;
    if (used >= high) {
      for (const auto& p : index_->List(PartitionState::kSynced)) {
        if (used < low) break;
        if (index_->Reclaim(p.id).ok()) reclaimed_partitions_.fetch_add(1);
        used = DiskUsed();
      }
      if (evict_unsynced_) {
        for (const auto& p : index_->List(PartitionState::kSealed)) {
          if (used < low || !evict_unsynced_(p)) break;
          if (auto dropped = index_->Evict(p.id); dropped.ok()) {
            evicted_partitions_.fetch_add(1);
            evicted_records_.fetch_add(*dropped);
          }
          used = DiskUsed();
        }
      }
    }
    disk_used_ = used;
    if (used >= high) full_ = true;
    else if (used < low) full_ = false;
  }

  Options options_;
  std::unique_ptr<Env> owned_env_;
  Env* env_;
  std::function<std::int64_t()> now_;
  std::function<std::int64_t()> mono_;
  std::function<bool(const PartitionInfo&)> evict_unsynced_;
  std::atomic<bool> full_{false};
  std::atomic<std::uint64_t> disk_used_{0}, rejected_full_{0}, reclaimed_partitions_{0},
      evicted_partitions_{0}, evicted_records_{0};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<PartitionIndex> index_;
  std::unique_ptr<DurableCursorImpl> cursor_;  // when Options::cursor_retain_bytes > 0
  // Set once, under append_mu_, when the write buffer opens (at Open, or
  // later from Maintain after a full disk); read after wal_ready_.
  std::unique_ptr<Wal> wal_;
  std::atomic<bool> wal_ready_{false};
  WalOptions wo_;
  // Open and the maintenance thread (which runs only after Open).
  std::uint64_t replayed_seq_ = 0;
  bool verified_ = false;
  std::unique_ptr<LogFile> meta_;
  std::string meta_entry_;
  bool meta_pending_ = false;
  // Appends refused for want of space (the file system, not the budget).
  std::atomic<bool> unwritable_{false};  // no write buffer: appends refused
  std::atomic<bool> fs_full_{false};     // the last append met a full file system
  mutable std::mutex unwritable_mu_;
  std::string unwritable_reason_;          // GUARDED_BY(unwritable_mu_)
  std::int64_t unwritable_since_mono_ = 0; // GUARDED_BY(unwritable_mu_)
  std::atomic<std::uint64_t> fs_free_{0}, fs_total_{0}, rejected_no_space_{0},
      reserve_releases_{0}, clock_jumps_forward_{0}, clock_jumps_backward_{0};
  std::atomic<bool> fs_read_only_{false};
  std::atomic<std::int64_t> last_clock_jump_ns_{0};
  std::mutex reserve_mu_;
  std::atomic<bool> reserve_held_{false};
  // WatchClock, on the maintenance thread.
  bool clock_seen_ = false;
  std::int64_t last_wall_ = 0, last_mono_ = 0;
  std::mutex append_mu_;
  std::int64_t last_arrival_ = INT64_MIN;  // GUARDED_BY(append_mu_) after Open
  std::atomic<bool> closed_{false};
  bool wal_set_aside_ = false;  // written only during Open
  std::atomic<std::uint64_t> appends_{0}, records_{0}, bytes_{0}, rejected_batches_{0},
      failed_batches_{0};
  // Written only during Open.
  std::uint64_t recovered_records_ = 0;
  std::atomic<std::uint64_t> torn_tail_bytes_{0};
  std::uint64_t leftover_files_ = 0;
  std::uint64_t quarantined_records_ = 0;
  std::uint64_t quarantined_pages_ = 0;
  std::uint64_t missing_segments_ = 0;
  std::uint64_t recovery_us_ = 0;
  std::string last_quarantine_reason_;
  std::int64_t last_quarantine_ns_ = 0;
  mutable std::mutex notes_mu_;
  std::vector<std::string> notes_;  // GUARDED_BY(notes_mu_)
  std::string io_engine_;

  std::thread maintenance_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stop_ = false;
};

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const Options& options, StoreContext context) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<Env> owned;
  std::string why;
  Env* env = context.env;
  if (env == nullptr) {
    auto e = NewPosixEnv(options.io_engine, &why);
    if (!e.ok()) return e.status();
    owned = std::move(*e);
    env = owned.get();
  }
  auto now = context.now_ns ? context.now_ns : SystemNow;
  auto mono = context.monotonic_ns ? context.monotonic_ns : SteadyNow;
  auto store = std::make_unique<StoreImpl>(options, std::move(owned), env, std::move(now),
                                           std::move(mono), std::move(context.evict_unsynced));
  SLUICE_RETURN_IF_ERROR(store->Init(why).WithContext("opening store in " + options.dir));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sluice::store
