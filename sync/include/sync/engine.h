// The sync engine: ships SEALED partitions of a Store to a Sink and marks
// them SYNCED once the sink confirmed the bytes (docs/sync.md).
//
//   auto engine = SyncEngine::Open(store, [&] { return OpenS3Sink(s3); }, options);
//   ...                    // partitions sealed by the store are uploaded
//   (*engine)->health();   // what users see
//   (*engine)->Stop();     // joins every thread
//
// What a caller may rely on:
//  - Store::MarkSynced(p) is called only after the sink answered kCreated or
//    kAlreadyIdentical for p's object.
//  - Objects are deterministic: the same partition always encodes to the
//    same bytes under the same key, so a retry after a crash, a timeout or a
//    lost response is idempotent (the sink's identical-object check).
//  - No partition is ever uploaded by two calls at once, not even when an
//    attempt overran its deadline (Ceph RGW ignores If-None-Match on
//    CompleteMultipartUpload, so only this keeps two writers apart).
//  - Memory and threads are bounded: one encoded object per uploading
//    thread; at most 3 * (live_workers + backfill_workers) + 2 threads (a
//    worker, its uploader and at most one stuck uploader each, one scanner,
//    one watermark writer).
//  - The completeness watermark T (sync/watermark.h) never moves backwards,
//    also across restarts: it is saved to watermark_state_file before the
//    object is written, and the upstream object is read before the first
//    write of a run.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "store/store.h"
#include "sync/parquet.h"
#include "sync/partition.h"
#include "sync/sink.h"

namespace sluice::sync {

// What the sink receives: the compact partition object (docs/format/
// partition.md), or Apache Parquet (docs/format/parquet.md), which Spark,
// DuckDB, Trino and pandas read directly.
enum class ObjectFormat : std::uint8_t {
  kSlp = 1,
  kParquet = 2,
};
const char* ObjectFormatName(ObjectFormat format);     // "slp", "parquet"; also the extension

struct SyncEngineOptions {
  // Identity written into every object and its key (object_key.h rules).
  // Defaults: none (required).
  std::string gateway_id;
  std::string site;
  // Key prefix before "site=...", e.g. "raw"; may be empty. Default: empty.
  std::string key_prefix;
  // The store's partition window, recorded in each object. 0: unknown
  // (objects say so). Default: 0.
  std::chrono::seconds partition_window{0};

  // How often the store is asked for sealed partitions (Kick() asks at
  // once). Bounds: 10 ms .. 10 min. Default: 1 s.
  std::chrono::milliseconds poll_interval{1000};

  // Workers per lane. The live lane takes the newest sealed partitions first,
  // the backfill lane the oldest first; their sum is the concurrency limit.
  // Bounds: each 1 .. 16. Defaults: 1 and 1.
  std::uint32_t live_workers = 1;
  std::uint32_t backfill_workers = 1;

  // Upload bandwidth shared by all workers, bytes/s: a token bucket, from
  // which each chunk of an object takes its size as the sink sends it
  // (PutRequest::pace), so a failed attempt spends only what went out.
  // 0: unlimited. Default: 0.
  std::uint64_t bandwidth = 0;
  // Token bucket capacity, bytes: what may go out at once after a quiet
  // period. 0: one second's worth of bandwidth. Default: 0.
  std::uint64_t bandwidth_burst = 0;

  // Retryable errors (IsRetryable) wait a full-jitter delay, uniform in
  // [0, min(cap, base * 2^(n-1))] after the n-th consecutive failure.
  // Bounds: base 1 ms .. 10 min, cap base .. 1 day. Defaults: 500 ms and 5 min.
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_cap{300'000};

  // A partition whose upload failed permanently (not IsRetryable: wrong
  // credentials, missing bucket, a different object under its key, a corrupt
  // local partition) is parked this long before it is tried again.
  // Bounds: 1 s .. 7 days. Default: 1 h.
  std::chrono::seconds permanent_cooldown{3600};

  // An attempt (one Sink::Put) still running after this long is stuck: counted, visible in
  // health, and its worker goes on with other partitions on a fresh sink.
  // The stuck call itself cannot be cancelled (Sink has no cancel); the
  // partition is retried when it returns (the S3 sink's low-speed limit ends
  // a stalled transfer). Measured on the steady clock, not the context's
  // clock: it bounds a real blocking call. Bounds: 10 ms .. 1 day.
  // Default: 15 min.
  std::chrono::milliseconds attempt_timeout{900'000};

  // Which format objects take. Default: kSlp.
  ObjectFormat format = ObjectFormat::kSlp;
  // How objects are encoded. Defaults: the writers' defaults.
  PartitionWriterOptions writer;
  ParquetOptions parquet;

  // Drop exact duplicates (same series, timestamp and value, bit for bit)
  // within a partition when it is encoded: at-least-once redelivery after a
  // crash stores some records twice. Records with the same series and
  // timestamp but another value are kept (and counted as conflicts).
  // Default: true.
  bool deduplicate = true;

  // Completeness watermarks (sync/watermark.h, docs/sync.md): how often T is
  // computed and, when it or the counts changed, written to the sink under
  // <key_prefix>/_watermarks/site=<site>/gateway=<id>.json. Steady clock,
  // like attempt_timeout. 0: no watermarks. Bounds: 0 .. 1 day.
  // Default: 1 min.
  std::chrono::seconds watermark_interval{60};
  // T stays at least this far behind the wall clock: when nothing is
  // pending T advances to wall clock minus this, and records stamped ahead
  // of the gateway's clock do not carry T into the future. Bounds:
  // 0 .. 1 day. Default: 1 min.
  std::chrono::seconds watermark_min_lag{60};
  // Where T and the counts are saved (the watermark document, replaced
  // atomically), e.g. in the store's directory. Empty: not saved locally;
  // then only the upstream object keeps T from regressing after a restart.
  // Default: empty.
  std::string watermark_state_file;

  // InvalidArgument naming the first bad field.
  Status Validate() const;
};

// Counters of one lane since Open.
struct SyncLaneHealth {
  std::uint64_t uploaded_objects = 0;    // confirmed by the sink and marked synced
  std::uint64_t uploaded_bytes = 0;      // their object sizes
  std::uint64_t already_identical = 0;   // of those, the sink already held them
  std::uint64_t retries = 0;             // attempts that failed retryably
  std::uint64_t permanent_failures = 0;  // attempts that failed permanently (parked)
  std::uint64_t stuck_attempts = 0;      // attempts that overran attempt_timeout
  std::uint32_t in_flight = 0;           // attempts running now
};

struct SyncHealth {
  bool running = false;
  // Wall clock of the last confirmed upload, ns since the epoch; 0: none yet.
  std::int64_t last_success_ns = 0;
  // Failed attempts since the last success (retryable and permanent).
  std::uint64_t consecutive_failures = 0;
  std::string last_error;  // of the last failed attempt; empty after a success
  std::int64_t last_error_ns = 0;  // its wall clock, ns since the epoch; 0 with no error
  // The last attempt found stuck (still running past attempt_timeout);
  // kept after later successes, so that a hang is never forgotten unseen.
  std::string last_stuck;
  // Sealed partitions not yet synced, and their size on local disk (block
  // bytes: the objects are usually smaller).
  std::uint64_t backlog_partitions = 0;
  std::uint64_t backlog_bytes = 0;
  // Age of the oldest sealed partition not yet synced: wall clock minus its
  // window start, ns; 0 when the backlog is empty.
  std::int64_t oldest_unsynced_age_ns = 0;
  std::int64_t oldest_unsynced_window_ns = 0;
  // Partitions parked after a permanent failure, and the last such error.
  std::uint64_t parked_partitions = 0;
  std::string last_permanent_error;
  std::int64_t last_permanent_error_ns = 0;  // its wall clock; 0: none
  // Over partitions synced since Open: exact duplicates dropped at encode,
  // and records kept that share series and timestamp with another value.
  std::uint64_t duplicates_dropped = 0;
  std::uint64_t timestamp_conflicts = 0;
  // Completeness watermark (0 and empty while watermarks are off). T last
  // written upstream, ns since the epoch (0: none yet this run), wall clock
  // minus it, and when it was written.
  std::int64_t watermark_ns = 0;
  std::int64_t watermark_lag_ns = 0;
  std::int64_t watermark_written_ns = 0;
  // Records confirmed that arrived with a timestamp before the T in effect:
  // over the gateway's life, as in the watermark document.
  std::uint64_t watermark_late_records = 0;
  // The last failed watermark write (state file, sink); empty after a
  // success.
  std::string watermark_error;
  std::int64_t watermark_error_ns = 0;  // its wall clock; 0 with no error
  SyncLaneHealth live, backfill;
};

// Where one sealed, not yet synced partition stands in the engine.
enum class UploadState : std::uint8_t {
  kWaiting = 1,    // due, or backing off after a retryable failure
  kUploading = 2,  // an attempt is running (or stuck: see SyncHealth::last_stuck)
  kParked = 3,     // failed permanently; tried again after permanent_cooldown
};
const char* UploadStateName(UploadState state);  // "waiting", "uploading", "parked"

struct PartitionUpload {
  UploadState state = UploadState::kWaiting;
  std::uint32_t attempts = 0;  // attempts started on it since Open
  std::string last_error;      // its last failed attempt (the park reason); empty: none
};

// What the engine needs from its surroundings; tests replace parts of it.
struct SyncEngineContext {
  // Monotonic clock, ns: backoff, cool-downs and the token bucket.
  // Default: MonotonicNs (std::chrono::steady_clock).
  ClockFn now_ns;
  // Wall clock, ns since the epoch: health timestamps and ages.
  // Default: WallNs (std::chrono::system_clock).
  ClockFn wall_ns;
  // Waits until now_ns() >= until_ns (token bucket, backoff). Default: a
  // condition-variable wait that Stop() and Kick() interrupt. A test clock
  // advances its time and returns at once, so tests never sleep.
  std::function<void(std::int64_t until_ns)> sleep_until;
  // Source of jitter. Default: a std::mt19937_64 seeded from random_device.
  std::function<std::uint64_t()> random;
  // Called on the uploading thread right before Sink::Put, and after the
  // outcome was handled (status OK: the partition is synced). For tests and
  // logs; must be quick and must not call back into the engine.
  std::function<void(const store::PartitionId&, std::string_view key, std::uint64_t bytes)>
      on_upload_start;
  std::function<void(const store::PartitionId&, const Status&)> on_upload_done;
};

class SyncEngine {
 public:
  // Makes one sink per uploading thread (Sink instances are not thread-safe).
  using SinkFactory = std::function<Result<std::unique_ptr<Sink>>()>;

  virtual ~SyncEngine() = default;

  // Checks the options, opens the first sinks and starts the threads.
  // `store` must outlive the engine (or its Stop()).
  static Result<std::unique_ptr<SyncEngine>> Open(store::Store* store, SinkFactory sinks,
                                                  SyncEngineOptions options,
                                                  SyncEngineContext context = {});

  // Looks for sealed partitions now instead of at the next poll, and wakes
  // idle workers (also after a test clock moved).
  virtual void Kick() = 0;
  virtual SyncHealth health() const = 0;
  // The sealed partitions the engine knows, by id: those seen at its last
  // look at the store (every poll_interval, or Kick()) and those in
  // flight. A partition sealed since is not in it yet; a synced one is gone.
  // Thread-safe; one pass over the engine's queue under its lock, no store
  // access: cheap enough for every admin request.
  virtual std::map<store::PartitionId, PartitionUpload> UploadStates() const = 0;
  // Computes T and writes the watermark now, on the caller's thread, as the
  // engine does every watermark_interval (tests, tools). Nothing is
  // written when T and the counts are what was written last. Unsupported
  // when watermarks are off.
  virtual Status WriteWatermark() = 0;
  // Stops taking work, waits for running Puts to return (their outcome is
  // still recorded) and joins every thread. Idempotent; run by the destructor.
  virtual void Stop() = 0;
};

// The key of a partition's object holding data of the UTC hour starting at
// `data_hour_ns` (default: the window's hour): BuildObjectKey with seq 0 for
// a regular partition and 1 for the late partition of the same window and
// shard.
Result<std::string> SyncObjectKey(const SyncEngineOptions& options, const store::PartitionId& id,
                                  std::optional<std::int64_t> data_hour_ns = std::nullopt);

// One object of a partition: its records of one UTC data hour.
struct PartitionObject {
  std::string key;
  std::string bytes;
  std::int64_t hour_start_ns = 0;
  std::uint64_t records = 0;
};

// A partition as it goes upstream: one object per data hour it holds (a
// regular partition usually one; a late or backfilled one spanning days,
// one per hour), so that a query on any hour prunes to exactly the objects
// holding it.
struct EncodedPartition {
  std::vector<PartitionObject> objects;  // ascending hour
  std::uint64_t records = 0;             // in the objects
  std::uint64_t duplicates_dropped = 0;  // exact duplicates left out
  std::uint64_t timestamp_conflicts = 0; // same series and timestamp, another value: kept
  std::uint64_t late_records = 0;        // of `records`, those before `late_before_ns`
  std::uint64_t bytes() const;
};

// Encodes one partition deterministically: records from ReadPartition (each
// series sorted by time, exact duplicates dropped unless
// options.deduplicate is false), the series dictionary from GetSeries,
// identity from options and the id. Records (kept) with a timestamp before
// `late_before_ns` are counted in late_records (the engine passes its
// watermark: they arrived after T passed them).
Result<EncodedPartition> EncodePartitionObjects(
    const store::Store& store, const SyncEngineOptions& options, const store::PartitionId& id,
    std::int64_t late_before_ns = std::numeric_limits<std::int64_t>::min());

// The single object of a partition whose data lies in one hour (tests and
// benchmarks); InvalidArgument when it spans several.
Result<std::string> EncodePartition(const store::Store& store, const SyncEngineOptions& options,
                                    const store::PartitionId& id);

}  // namespace sluice::sync
