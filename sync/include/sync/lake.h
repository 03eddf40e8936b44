// `sluice lake`: the job at the core that turns the gateways' `.slp` objects
// into Parquet for Spark, DuckDB, Trino and pandas (docs/central.md).
//
// Contract:
// - Every `.slp` object under `from` becomes one `.parquet` object under `to`
//   with the same relative key, extension replaced
//   (site=a/gateway=g/date=2025-11-25/hour=20/20251125T200000Z-0003-0000000000.slp
//    -> ...-0000000000.parquet). Its bytes are a pure function of the `.slp`
//   bytes and `parquet` options (sync/parquet.h), so a rerun produces the same
//   object again.
// - Writes are the sinks' conditional puts (sync/sink.h): never an overwrite;
//   a key already holding the same bytes counts as done, different bytes are
//   an error for that object (kAlreadyExists) and nothing is changed.
// - Resumable: nothing is kept between runs. A run killed at any point is
//   finished by running it again: objects already converted are found
//   identical (HEAD: size and SHA-256), incomplete multipart uploads of this
//   run's keys left by the killed run are aborted before any work starts.
// - `.parquet` objects under `from` are copied as they are when `to` is
//   another place, left alone when it is the same place; when both x.slp and
//   x.parquet exist under `from`, x.slp wins (the copy would race the
//   conversion for one key).
// - Sources are deleted (delete_source) only after their Parquet object was
//   confirmed; `.parquet` sources are never deleted.
// - Sharding: an object belongs to shard LakeShardOf(target key, N); shards
//   are disjoint and together complete, and stable across versions.
//
// Threads: `workers` threads, each with its own source and target sink.
// Memory: per worker about the source object, its decoded columns and the
// Parquet object (roughly 3-4x the largest source object), plus the key list
// of this shard (about 200 bytes per object).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sync/parquet.h"
#include "sync/sink.h"

namespace sluice::sync {

// Where objects are read or written: a directory or an S3 bucket and prefix.
struct LakeLocation {
  enum class Kind : std::uint8_t { kDirectory = 1, kS3 = 2 };
  Kind kind = Kind::kDirectory;
  std::string dir;     // kDirectory: absolute path, no trailing '/'
  std::string bucket;  // kS3
  std::string prefix;  // kS3: may be empty; no leading or trailing '/'
  // "s3://bucket/prefix" or the directory.
  std::string ToString() const;
};
// "s3://bucket[/prefix]" or a directory path (made absolute).
Result<LakeLocation> ParseLakeLocation(std::string_view text);

struct LakeOptions {
  // Source and target: see ParseLakeLocation. Required. One may not lie
  // inside the other unless they are the same place.
  std::string from, to;
  // Only relative keys starting with one of these (plain string prefixes,
  // e.g. "site=plant-a/"); empty: every object. Default: none.
  std::vector<std::string> prefixes;
  // Parallel conversions, 1..64. Default: 2.
  unsigned workers = 2;
  // This run handles the objects with LakeShardOf(key, shard_count) ==
  // shard_index. Bounds: count 1..65536, index < count. Default: 0 of 1.
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 1;
  // Delete each source .slp once its Parquet object is confirmed. Default: false.
  bool delete_source = false;
  // The Parquet encoding (encoding set, zstd level, ...). Default: writer defaults.
  ParquetOptions parquet;
  // S3 connection settings for s3:// locations (endpoint, region,
  // credentials, addressing, CA, timeouts, multipart sizes); bucket and
  // key_prefix are taken from the location. Default: S3SinkOptions defaults.
  S3SinkOptions s3;
  // fsync directory targets. Default: true.
  bool dir_sync = true;
  // Create a missing target directory. Default: true.
  bool create_target_dir = true;
  // Tries per object for retryable errors (kUnavailable), 1..100, with
  // backoff 0.5 s, 1 s, 2 s, ... up to 30 s. Default: 5.
  unsigned attempts = 5;
  // Larger source objects are refused (memory bound). Default: 2 GiB.
  std::uint64_t max_object_bytes = std::uint64_t{2} << 30;
  // Tests: opens a sink for a location instead of OpenS3Sink / OpenDirSink.
  std::function<Result<std::unique_ptr<Sink>>(const LakeLocation&)> open_sink;

  Status Validate() const;
};

// A snapshot, handed to the progress callback.
struct LakeProgress {
  std::uint64_t objects_total = 0;  // objects this run works on (after shard, filters)
  std::uint64_t objects_done = 0;   // finished, failed included
  std::uint64_t bytes_total = 0;    // source bytes of those objects
  std::uint64_t bytes_done = 0;     // source bytes of the finished ones
  std::uint64_t points = 0;         // records converted so far
  std::uint64_t bytes_written = 0;  // Parquet bytes of the finished objects
  std::int64_t elapsed_ns = 0;      // since RunLake started (steady clock)
};

struct LakeStats {
  std::uint64_t listed = 0;            // objects under `from` (after filters)
  std::uint64_t other_shards = 0;      // of those, left for other shards
  std::uint64_t not_inputs = 0;        // neither .slp nor .parquet: ignored
  std::uint64_t converted = 0;         // .slp -> new .parquet object
  std::uint64_t already_there = 0;     // .slp whose .parquet was already there, identical
  std::uint64_t copied = 0;            // .parquet copied (created or already identical)
  std::uint64_t skipped_parquet = 0;   // .parquet left alone (same place, or its .slp wins)
  std::uint64_t failed = 0;            // objects that ended in an error
  std::uint64_t deleted_sources = 0;
  std::uint64_t aborted_uploads = 0;   // incomplete multipart uploads aborted at the start
  std::uint64_t points = 0;            // records in the converted (or re-checked) .slp objects
  std::uint64_t bytes_read = 0;        // source bytes read
  std::uint64_t bytes_written = 0;     // bytes of the target objects handled (created or identical)
  std::int64_t elapsed_ns = 0;
  // "<key>: <status>" of the failed objects, in key order (at most 100).
  std::vector<std::string> errors;
};

// Called on the caller's thread about every 200 ms while workers run, and
// once at the end.
using LakeProgressFn = std::function<void(const LakeProgress&)>;

// Runs the job. An error Status means nothing or not everything could be
// tried (bad options, a listing failed); per-object failures are counted in
// LakeStats::failed and the other objects go on.
Result<LakeStats> RunLake(const LakeOptions& options, const LakeProgressFn& progress = {});

// --- Pieces of the job, public for tests and for other tools. ---

// FNV-1a, 64 bit (offset basis 0xcbf29ce484222325, prime 0x100000001b3),
// over the bytes of the relative target key (".../x.parquet"), then
// MurmurHash3's fmix64 finalizer (h ^= h >> 33; h *= 0xff51afd7ed558ccd;
// h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33), modulo `count`.
// Hashing the target key puts x.slp and x.parquet in one shard. Fixed:
// machines of different versions must agree.
std::uint32_t LakeShardOf(std::string_view target_key, std::uint32_t count);

// ".slp" -> ".parquet", ".parquet" -> itself; NotFound for other keys.
Result<std::string> LakeTargetKey(std::string_view source_key);

struct LakeConverted {
  std::string parquet;       // the whole file
  std::uint64_t points = 0;  // rows
};
// One .slp object as one Parquet file: every series (sorted by name, records
// by time, stable), the object's identity as metadata. Corruption for a
// damaged object, InvalidArgument for what Parquet cannot hold.
Result<LakeConverted> ConvertSlpToParquet(std::string slp, const ParquetOptions& options);

}  // namespace sluice::sync
