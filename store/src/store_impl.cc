// Store: registry + write-ahead log + partitions of blocks in segments.
//
// An append is validated against the registry, encoded (batch_format.h) with
// its arrival time, and handed to the WAL. Once the WAL reports it durable it
// is applied to the partition index (DRAM open blocks, flushed to segments),
// so reads never show a record a crash could take away. WAL space is
// released only up to the oldest record not yet in a durable block.
#include "store/store.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <thread>

#include "batch_format.h"
#include "coding.h"
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


class StoreImpl final : public Store {
 public:
  StoreImpl(const Options& options, std::unique_ptr<Env> owned_env, Env* env,
            std::function<std::int64_t()> now,
            std::function<bool(const PartitionInfo&)> evict_unsynced)
      : options_(options),
        owned_env_(std::move(owned_env)),
        env_(env),
        now_(std::move(now)),
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
    missing_segments_ = seg.missing_segments;
    index_ = std::make_unique<PartitionIndex>(options_, env_, std::move(*segments),
                                              std::move(*manifest), std::move(states));
    for (const auto& b : found) index_->AddRecoveredBlock(b);

    WalOptions wo;
    wo.dir = options_.dir + "/wal";
    wo.file_size = options_.wal_file_size;
    wo.max_commit_delay = std::chrono::microseconds(options_.wal_max_commit_delay_us);
    wo.max_group_bytes = options_.wal_max_group_bytes;
    wo.first_seq = index_->max_seq() + 1;
    bool verified = false;
    auto replay = [&](const WalRecordView& r) {
      if (!verified) {
        index_->VerifyTail(r.seq);
        verified = true;
      }
      return Replay(r);
    };
    auto wal = OpenWriteBuffer(wo, replay);
    if (!wal.ok() && wal.status().code() == StatusCode::kCorruption) {
      wal = SalvageWal(wo, wal.status(), replay);
    }
    if (!wal.ok()) return wal.status().WithContext("write-ahead log");
    wal_ = std::move(*wal);
    if (!verified) index_->VerifyTail(UINT64_MAX);
    wal_->Release(index_->ReleasableSeq());

    torn_tail_bytes_ = wal_->stats().torn_tail_bytes;
    io_engine_ = std::string(EngineName(env_->io_engine())) +
                 (engine_why.empty() ? "" : " (" + engine_why + ")");
    recovery_us_ = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::steady_clock::now() - started)
                       .count();
    index_->Start();
    EnforceBudget();
    maintenance_ = std::thread([this] { Maintain(); });
    return Status::Ok();
  }

  Result<SeriesId> RegisterSeries(std::string_view name, ValueType type,
                                  std::string_view unit) override {
    if (closed_.load()) return Aborted("store is closed");
    return registry_->Register(name, type, unit);
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
    auto types = std::make_shared<std::vector<ValueType>>();
    if (Status s = Check(batch, *types); !s.ok()) {
      rejected_batches_.fetch_add(1);
      ticket.Complete(s);
      return ticket;
    }
    auto payload = std::make_shared<std::string>();
    auto records = std::make_shared<Batch>(std::move(batch));
    // Arrival times never go backwards in sequence order, so that replay
    // places late records exactly as they were placed.
    std::lock_guard lock(append_mu_);
    const std::int64_t arrival = std::max(last_arrival_, now_());
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
                     wal_->Release(index_->ReleasableSeq());
                     appends_.fetch_add(1);
                     records_.fetch_add(records->size());
                     bytes_.fetch_add(payload->size());
                   } else {
                     failed_batches_.fetch_add(1);
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
    wal_->Release(index_->ReleasableSeq());
    return Status::Ok();
  }
  Status MarkSynced(const PartitionId& id) override { return index_->MarkSynced(id); }
  Status Reclaim(const PartitionId& id) override { return index_->Reclaim(id); }
  std::vector<PartitionInfo> ListPartitions(std::optional<PartitionState> state) const override {
    return index_->List(state);
  }

  StorePressure pressure() const override {
    return {disk_used_.load(), options_.disk_budget_bytes, full_.load()};
  }

  StoreStats stats() const override {
    StoreStats s;
    s.appends = appends_.load();
    s.records = records_.load();
    s.bytes = bytes_.load();
    s.rejected_batches = rejected_batches_.load();
    s.failed_batches = failed_batches_.load();
    s.commit_groups = wal_ ? wal_->stats().groups : 0;
    s.series = registry_ ? registry_->size() : 0;
    s.recovered_records = recovered_records_;  // less what was already in blocks, below
    s.torn_tail_bytes = torn_tail_bytes_;
    s.quarantined_records = quarantined_records_;
    s.last_quarantine_reason = last_quarantine_reason_;
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
    s.reclaimed_partitions = reclaimed_partitions_.load();
    s.evicted_partitions = evicted_partitions_.load();
    s.evicted_records = evicted_records_.load();
    s.recovery_us = recovery_us_;
    s.notes = notes_;
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
    if (!wal_) return Status::Ok();
    Status s = wal_->Close();
    // Writing the open blocks makes the next start replay nothing.
    Status f = index_->FlushAll();
    index_->Stop();
    if (f.ok()) wal_->Release(index_->ReleasableSeq());
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
    if (stored.empty()) {
      std::string e;
      coding::PutVarint64(e, options_.partition_window_s);
      coding::PutVarint64(e, options_.partition_shards);
      coding::PutVarint64(e, options_.late_grace_s);
      return (*meta)->Append(e);
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

  template <typename Replay>
  Result<std::unique_ptr<Wal>> OpenWriteBuffer(const WalOptions& wo, Replay& replay) {
    if (options_.write_buffer == WriteBufferMode::kWal) return Wal::Open(env_, wo, replay);
    PmemLogOptions po;
    po.path = PmemPath();
    po.size = options_.pmem_size;
    po.max_commit_delay = std::min(wo.max_commit_delay, std::chrono::microseconds(1000));
    po.max_group_bytes = std::min<std::uint64_t>(wo.max_group_bytes, options_.pmem_size / 8);
    po.first_seq = wo.first_seq;
    return OpenPmemLog(env_, po, replay);
  }

  // The store always starts: a write-ahead log damaged before its last write
  // (not a torn tail, which the log handles itself) is set aside whole as
  // wal.corrupt-<n> for inspection. What was replayed before the damage is
  // written to blocks first; records after it are lost, and said so.
  template <typename Replay>
  Result<std::unique_ptr<Wal>> SalvageWal(const WalOptions& wo, const Status& why, Replay& replay) {
    SLUICE_RETURN_IF_ERROR(index_->FlushAll());
    const std::string damaged =
        options_.write_buffer == WriteBufferMode::kWal ? wo.dir : PmemPath();
    std::string aside;
    for (int n = 1;; ++n) {
      aside = damaged + ".corrupt-" + std::to_string(n);
      if (!env_->Exists(aside)) break;
    }
    SLUICE_RETURN_IF_ERROR(env_->Rename(damaged, aside));
    SLUICE_RETURN_IF_ERROR(env_->SyncDir(aside.substr(0, aside.rfind('/'))));
    wal_set_aside_ = true;
    notes_.push_back("write buffer damaged (" + why.message() + "); set aside as " + aside +
                     "; any records past the damage are lost");
    // Numbering goes on above everything now in blocks: blocks and the next
    // log must never share sequence numbers.
    WalOptions fresh = wo;
    fresh.first_seq = index_->max_seq() + 1;
    return OpenWriteBuffer(fresh, replay);
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
    last_arrival_ = std::max(last_arrival_, batch->arrival_ns);
    recovered_records_ += batch->records.size();
    records_.fetch_add(batch->records.size());
    return Status::Ok();
  }

  Status Quarantine(std::string reason) {
    ++quarantined_records_;
    last_quarantine_reason_ = std::move(reason);
    return Status::Ok();
  }

  // Seals partitions whose window and grace have passed and keeps the disk
  // budget. Periodic: there is no event to wait for, only time and space.
  void Maintain() {
    std::unique_lock lock(stop_mu_);
    while (!stop_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_; })) {
      lock.unlock();
      if (index_->SealExpired(now_()).ok()) wal_->Release(index_->ReleasableSeq());
      EnforceBudget();
      lock.lock();
    }
  }

  std::uint64_t DiskUsed() const {
    std::uint64_t wal_files = 0;
    if (auto names = env_->ListDir(options_.dir + "/wal"); names.ok()) wal_files = names->size();
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
  std::function<bool(const PartitionInfo&)> evict_unsynced_;
  std::atomic<bool> full_{false};
  std::atomic<std::uint64_t> disk_used_{0}, rejected_full_{0}, reclaimed_partitions_{0},
      evicted_partitions_{0}, evicted_records_{0};
  std::unique_ptr<Registry> registry_;
  std::unique_ptr<PartitionIndex> index_;
  std::unique_ptr<Wal> wal_;
  std::mutex append_mu_;
  std::int64_t last_arrival_ = INT64_MIN;  // GUARDED_BY(append_mu_) after Open
  std::atomic<bool> closed_{false};
  bool wal_set_aside_ = false;  // written only during Open
  std::atomic<std::uint64_t> appends_{0}, records_{0}, bytes_{0}, rejected_batches_{0},
      failed_batches_{0};
  // Written only during Open.
  std::uint64_t recovered_records_ = 0;
  std::uint64_t torn_tail_bytes_ = 0;
  std::uint64_t quarantined_records_ = 0;
  std::uint64_t quarantined_pages_ = 0;
  std::uint64_t missing_segments_ = 0;
  std::uint64_t recovery_us_ = 0;
  std::string last_quarantine_reason_;
  std::vector<std::string> notes_;
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
  auto store = std::make_unique<StoreImpl>(options, std::move(owned), env, std::move(now),
                                           std::move(context.evict_unsynced));
  SLUICE_RETURN_IF_ERROR(store->Init(why).WithContext("opening store in " + options.dir));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sluice::store
