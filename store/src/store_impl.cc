// StoreImpl (store_impl.h): registration, appends, reads, partitions,
// stats and Close; and Store::Open.
#include "store_impl.h"

#include "base/clock.h"
#include "batch_format.h"

namespace sluice::store {

Result<SeriesId> StoreImpl::RegisterSeries(std::string_view name, ValueType type,
                                           std::string_view unit) {
  if (closed_.load()) return Aborted("store is closed");
  return registry_->Register(name, type, unit);
}

Ticket StoreImpl::Append(Batch batch, Ticket::Callback callback) {
  Ticket ticket = Ticket::Pending(std::move(callback));
  if (closed_.load()) {
    ticket.Complete(Aborted("store is closed"));
    return ticket;
  }
  if (full_.load()) {
    rejected_full_.fetch_add(1);
    ticket.Complete(NoSpace("disk budget: " + std::to_string(disk_used_.load()) + " of " +
                            std::to_string(options_.disk_budget) +
                            " bytes used; appends resume once synced partitions are reclaimed"));
    return ticket;
  }
  if (unwritable_.load(std::memory_order_acquire)) {
    rejected_no_space_.fetch_add(1);
    ticket.Complete(
        NoSpace(UnwritableReason() + "; appends resume once space is free (reads and sync go on)"));
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
  MutexLock lock(append_mu_);
  if (!wal_ready_.load(std::memory_order_acquire)) {
    rejected_no_space_.fetch_add(1);
    ticket.Complete(NoSpace(UnwritableReason()));
    return ticket;
  }
  const std::int64_t now = now_();
  const bool wobble = now < last_arrival_ && last_arrival_ - now <= kClockTolerance;
  const std::int64_t arrival = wobble ? last_arrival_ : now;
  last_arrival_ = arrival;
  if (IsLarge(*records)) return AppendDirect(std::move(ticket), records, types, arrival);
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
                   if (cursor_) ToCursor(seq, arrival, records, payload);
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

Status StoreImpl::Scan(SeriesId series, std::int64_t t0, std::int64_t t1,
                       const std::function<bool(const Record&)>& visit) const {
  if (!registry_->Get(series)) {
    return NotFound("series id " + std::to_string(series.value) + " is not registered");
  }
  if (t0 >= t1) return Status::Ok();
  return index_->Scan(series, t0, t1, visit);
}

Status StoreImpl::Seal(const PartitionId& id) {
  SLUICE_RETURN_IF_ERROR(index_->Seal(id));
  ReleaseWal();
  return Status::Ok();
}

Status StoreImpl::MarkSynced(const PartitionId& id) {
  Status s = index_->MarkSynced(id);
  if (s.code() == StatusCode::kNoSpace && ReleaseReserve()) s = index_->MarkSynced(id);
  return s;
}

Status StoreImpl::Reclaim(const PartitionId& id) {
  Status s = index_->Reclaim(id);
  if (s.code() == StatusCode::kNoSpace && ReleaseReserve()) {
    // The manifest may already say reclaimed; then only segments remain.
    s = index_->StateOf(id) == PartitionState::kReclaimed ? index_->RemoveDeadSegments()
                                                           : index_->Reclaim(id);
  }
  return s;
}

StorePressure StoreImpl::pressure() const {
  StorePressure p;
  p.disk_used_bytes = disk_used_.load();
  p.disk_budget_bytes = options_.disk_budget;
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
  p.low_space = options_.free_space_warning > 0 && p.fs_total_bytes > 0 &&
                p.fs_free_bytes < p.fs_total_bytes / 100 * options_.free_space_warning;
  return p;
}

StoreStats StoreImpl::stats() const {
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
    s.direct_batches = c.direct_batches;
    s.direct_groups = c.direct_groups;
    s.direct_blocks_set_aside = c.incomplete_direct_blocks;
    s.late_records = c.late_records;
    s.recovered_records -= std::min(s.recovered_records, c.replay_skipped_records);
    s.segment_bytes = index_->segment_bytes();
    s.dram_index_bytes = index_->dram_index_bytes();
    s.open_blocks_memory_bytes = index_->open_blocks_memory_bytes();
  }
  s.quarantined_pages = quarantined_pages_.load();
  s.missing_segments = missing_segments_.load();
  s.recovery_path = recovery_path_;
  s.index_ready = index_ && index_->ready();
  s.index_load_us = index_load_us_.load();
  s.missing_blocks = index_ ? index_->counters().missing_blocks : 0;
  s.checkpoints_written = checkpoints_written_.load();
  s.checkpoint_errors = checkpoint_errors_.load();
  s.checkpoint_bytes = checkpoint_bytes_.load();
  s.replay_mark_skipped = replay_mark_skipped_;
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
    MutexLock lock(notes_mu_);
    s.notes = notes_;
    s.last_checkpoint_error = last_checkpoint_error_;
  }
  return s;
}

Status StoreImpl::Close() {
  if (closed_.exchange(true)) return Status::Ok();
  {
    MutexLock lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.NotifyAll();
  if (maintenance_.joinable()) maintenance_.join();
  if (cursor_) cursor_->Close();
  if (!wal_ready_.load(std::memory_order_acquire)) {
    // Never writable: what was replayed is still in the log's files.
    if (index_) index_->Stop();
    return Status::Ok();
  }
  Status s = wal_->Close();
  // Writing the open blocks makes the next start replay nothing, and a
  // checkpoint after them leaves it no segment to scan.
  Status f = index_->FlushAll();
  index_->Stop();
  if (f.ok()) wal_->Release(ReleasableSeq());
  if (f.ok() && options_.index_checkpoint > 0) (void)WriteCheckpoint();
  // Every record is in blocks now: the next start decodes none of the log.
  if (f.ok()) WriteReplayMark();
  // On a full disk the open blocks stay in the write buffer, durable, and
  // the next start replays them: a clean stop, not a failure (a failed
  // stop would have systemd mark the unit failed for a full disk).
  if (s.code() == StatusCode::kNoSpace) s = Status::Ok();
  if (f.code() == StatusCode::kNoSpace) f = Status::Ok();
  return s.ok() ? f : s;
}

// The cursor takes batches in sequence order; a direct batch is durable
// only once its blocks are written, after later batches of the write
// buffer. Those wait here meanwhile.
void StoreImpl::ToCursor(std::uint64_t seq, std::int64_t arrival,
                         std::shared_ptr<const Batch> records,
                         std::shared_ptr<const std::string> payload) {
  MutexLock lock(cursor_order_mu_);
  if (direct_pending_.empty() || *direct_pending_.begin() > seq) {
    cursor_->OnDurable(seq, arrival, std::move(records), std::move(payload));
    return;
  }
  held_for_cursor_.emplace(seq, CursorBatch{arrival, std::move(records), std::move(payload)});
}

void StoreImpl::DirectDone(std::uint64_t seq, std::optional<CursorBatch> batch) {
  MutexLock lock(cursor_order_mu_);
  direct_pending_.erase(seq);
  if (batch) held_for_cursor_.emplace(seq, std::move(*batch));
  const std::uint64_t until = direct_pending_.empty() ? UINT64_MAX : *direct_pending_.begin();
  while (!held_for_cursor_.empty() && held_for_cursor_.begin()->first < until) {
    auto node = held_for_cursor_.extract(held_for_cursor_.begin());
    CursorBatch& b = node.mapped();
    cursor_->OnDurable(node.key(), b.arrival, std::move(b.records), std::move(b.payload));
  }
}

bool StoreImpl::IsLarge(const Batch& batch) const {
  if (options_.large_value_bytes == 0) return false;
  for (const Record& r : batch) {
    const auto* bytes = std::get_if<std::string>(&r.value);
    if (bytes != nullptr && bytes->size() >= options_.large_value_bytes) return true;
  }
  return false;
}

// A batch holding a large value: the write buffer takes a marker, and once
// that is durable the records go to blocks of their own, written once
// (PartitionIndex::ApplyDirect). The ticket completes when those are
// durable. REQUIRES: append_mu_ held (arrival order is commit order).
Ticket StoreImpl::AppendDirect(Ticket ticket, std::shared_ptr<Batch> records,
                               std::shared_ptr<std::vector<ValueType>> types,
                               std::int64_t arrival) {
  auto marker = std::make_shared<std::string>();
  EncodeDirectMarker({records->size(), arrival}, *marker);
  std::size_t value_bytes = 0;
  for (const Record& r : *records) {
    const auto* b = std::get_if<std::string>(&r.value);
    value_bytes += 16 + (b != nullptr ? b->size() : 0);
  }
  if (value_bytes > options_.block_size) {
    rejected_batches_.fetch_add(1);
    ticket.Complete(InvalidArgument("batch of about " + std::to_string(value_bytes) +
                                    " bytes is larger than block_size (" +
                                    std::to_string(options_.block_size) + "); split it"));
    return ticket;
  }
  const std::span<const std::byte> bytes{reinterpret_cast<const std::byte*>(marker->data()),
                                         marker->size()};
  wal_->Append(
      static_cast<std::uint8_t>(WalRecordType::kDirect), bytes,
      [this, ticket, marker, records, types, arrival, value_bytes](Status s, std::uint64_t seq) {
        if (!s.ok()) {
          failed_batches_.fetch_add(1);
          if (s.code() == StatusCode::kNoSpace) {
            rejected_no_space_.fetch_add(1);
            SetFsFull(s.message());
          }
          ticket.Complete(s);
          return;
        }
        if (cursor_) {
          // Later batches wait for this one on their way to the cursor.
          MutexLock lock(cursor_order_mu_);
          direct_pending_.insert(seq);
        }
        index_->ApplyDirect(
            records, arrival, seq, *types, value_bytes,
            [this, ticket, records, arrival, seq, value_bytes](Status written) {
              if (written.ok()) {
                if (cursor_) {
                  auto payload = std::make_shared<std::string>();
                  EncodeBatch(*records, arrival, *payload);
                  DirectDone(seq, CursorBatch{arrival, records, payload});
                }
                if (fs_full_.load(std::memory_order_relaxed)) {
                  fs_full_.store(false, std::memory_order_release);
                }
                appends_.fetch_add(1);
                records_.fetch_add(records->size());
                bytes_.fetch_add(value_bytes);
              } else {
                if (cursor_) DirectDone(seq, std::nullopt);
                failed_batches_.fetch_add(1);
                if (written.code() == StatusCode::kNoSpace) {
                  rejected_no_space_.fetch_add(1);
                  SetFsFull(written.message());
                }
              }
              wal_->Release(ReleasableSeq());
              ticket.Complete(written);
            });
      });
  return ticket;
}

std::uint64_t StoreImpl::ReleasableSeq() const {
  const std::uint64_t blocks = index_->ReleasableSeq();
  if (!cursor_) return blocks;
  return std::min(blocks, cursor_->Pin(blocks));
}

void StoreImpl::SetReason(std::string reason) {
  MutexLock lock(unwritable_mu_);
  unwritable_reason_ = std::move(reason);
  unwritable_since_mono_ = mono_();
}

Status StoreImpl::Check(const Batch& batch, std::vector<ValueType>& types) const {
  if (batch.empty()) return InvalidArgument("empty batch");
  const std::size_t known = registry_->TypesOf(batch, types);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const Record& r = batch[i];
    auto where = [&] { return "record " + std::to_string(i) + ": "; };
    if (i == known) {
      return InvalidArgument(where() + "series id " + std::to_string(r.series.value) +
                             " is not registered");
    }
    const ValueType t = TypeOf(r.value);
    if (t != types[i]) {
      auto info = registry_->Get(r.series);
      return InvalidArgument(where() + "series '" + info->name + "' holds " +
                             ValueTypeName(info->type) + ", got " + ValueTypeName(t));
    }
    if (t == ValueType::kBytes &&
        std::get<std::string>(r.value).size() > options_.max_value_bytes) {
      return InvalidArgument(
          where() + "bytes value of " + std::to_string(std::get<std::string>(r.value).size()) +
          " bytes exceeds max_value_bytes (" + std::to_string(options_.max_value_bytes) + ")");
    }
  }
  return Status::Ok();
}

Result<std::unique_ptr<Store>> Store::Open(const Options& options, StoreContext context) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  std::unique_ptr<Env> owned;
  std::string why;
  Env* env = context.env;
  if (env == nullptr) {
    SLUICE_ASSIGN_OR_RETURN(auto e, NewPosixEnv(options.io_engine, &why));
    owned = std::move(e);
    env = owned.get();
  }
  ClockFn now = context.now_ns ? context.now_ns : WallNs;
  ClockFn mono = context.monotonic_ns ? context.monotonic_ns : MonotonicNs;
  auto store = std::make_unique<StoreImpl>(options, std::move(owned), env, std::move(now),
                                           std::move(mono), std::move(context.evict_unsynced));
  SLUICE_RETURN_IF_ERROR(store->Init(why).WithContext("opening store in " + options.dir));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace sluice::store
