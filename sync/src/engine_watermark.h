// The engine's completeness watermark: T, the counts, the local state file
// and the upstream object (sync/watermark.h, docs/sync.md).
//
// Why a record found before T at encode time is late: T only advances to a
// value at most the smallest timestamp of every record pending in the store
// at that moment (NextWatermark), and the store lists a record as soon as its
// append is acknowledged. So a record pending when T advanced has a timestamp
// >= T for as long as it stays pending, and one below T must have been
// acknowledged after T passed it. Advance() lists the partitions and sets T
// under one lock, and LateBefore() reads T under it, so an encode sees
// either the T from before the listing (then its partition, sealed before
// the claim, was listed) or the new one.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/mutex.h"
#include "store/store.h"
#include "sync/engine.h"
#include "sync/sink.h"
#include "sync/watermark.h"

namespace sluice::sync {

struct WatermarkHealth {
  std::int64_t written_ns = 0;     // T last written upstream this run; 0: none
  std::int64_t written_at_ns = 0;  // its wall clock
  std::uint64_t late_records = 0;  // over the gateway's life
  std::string error;               // of the last failed write; empty after a success
  std::int64_t error_ns = 0;       // its wall clock; 0 with no error
};

class WatermarkTracker {
 public:
  // `store` must outlive the tracker.
  WatermarkTracker(store::Store* store, const SyncEngineOptions& options, ClockFn wall_ns);

  // Reads the state file, if any. A missing file is a fresh start; an
  // unreadable or damaged one is reported in health() and otherwise
  // ignored (the engine still starts): the upstream object, read before the
  // first write, then keeps T from regressing.
  void Load();

  // Records with a timestamp below this are late.
  std::int64_t LateBefore() const;

  // A partition the sink confirmed and the store marked synced.
  void AddConfirmed(std::uint64_t objects, std::uint64_t records, std::uint64_t late);

  // Reads the upstream object once per run (T and counts never go below
  // it), advances T from the store's partitions, and when T or the counts
  // changed since the last write: saves the state file, then replaces the
  // object through `sink`. REQUIRES: not called concurrently (the engine
  // serialises calls).
  Status Write(Sink& sink);

  // Saves T and the counts to the state file (at Stop: the counts of
  // partitions confirmed since the last write).
  Status SaveState();

  WatermarkHealth health() const;

 private:
  Watermark DocumentLocked() const SLUICE_REQUIRES(mu_);
  Status SaveDocument(const Watermark& w) const;
  void Merge(const Watermark& w) SLUICE_REQUIRES(mu_);  // T and counts never go down

  store::Store* const store_;
  const std::string key_;            // the object key; empty when the options allow none
  const SyncEngineOptions& options_;
  const ClockFn wall_ns_;

  mutable Mutex mu_;
  // T in effect (the late threshold), and the counts.
  std::optional<std::int64_t> t_ns_ SLUICE_GUARDED_BY(mu_);
  std::uint64_t records_ SLUICE_GUARDED_BY(mu_) = 0;
  std::uint64_t objects_ SLUICE_GUARDED_BY(mu_) = 0;
  std::uint64_t late_ SLUICE_GUARDED_BY(mu_) = 0;
  bool local_loaded_ SLUICE_GUARDED_BY(mu_) = false;  // counts came from the state file
  bool upstream_read_ SLUICE_GUARDED_BY(mu_) = false;
  std::optional<Watermark> last_written_ SLUICE_GUARDED_BY(mu_);  // upstream, this run
  std::string error_ SLUICE_GUARDED_BY(mu_);
  std::int64_t error_ns_ SLUICE_GUARDED_BY(mu_) = 0;
};

}  // namespace sluice::sync
