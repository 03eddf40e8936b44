// Writing and reading partition objects (layout: sync/partition_format.h,
// docs/format/partition.md).
//
// Lossless: every timestamp and value a writer takes comes back from a reader
// bit-exact and in the order it was written (per series), including NaN
// payloads, -0.0, infinities, int64 extremes and unordered or duplicate
// timestamps. Readers treat the bytes as untrusted: any damage gives a
// Corruption status naming the series and offset, never a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "base/status.h"
#include "store/env.h"
#include "store/types.h"
#include "sync/partition_format.h"

namespace sluice::sync {

// Free-form key/value labels of a series (line, machine, ...). Written sorted
// by key; keys must be unique.
using Tags = std::vector<std::pair<std::string, std::string>>;

// Which partition an object holds, and where it came from.
struct PartitionIdentity {
  std::string gateway_id;
  std::string site;
  std::int64_t window_start_ns = 0;   // ns since the Unix epoch
  std::int64_t window_length_ns = 0;  // 0 when unknown
  std::uint32_t shard = 0;
  bool late = false;                  // the late partition of its window
};

// Inclusive on both ends; the default holds every timestamp.
struct TimeRange {
  std::int64_t min_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t max_ns = std::numeric_limits<std::int64_t>::max();
  bool Contains(std::int64_t t) const { return t >= min_ns && t <= max_ns; }
  bool Overlaps(std::int64_t lo, std::int64_t hi) const { return lo <= max_ns && hi >= min_ns; }
};

// Where one column chunk lives in the object and how to decode it.
struct ChunkRef {
  std::uint64_t offset = 0;
  std::uint64_t length = 0;      // stored bytes
  std::uint64_t raw_length = 0;  // after decompression
  std::uint32_t masked_crc = 0;  // masked CRC32C of the stored bytes
  ChunkCodec codec = ChunkCodec::kFloatRaw;
  ChunkCompression compression = ChunkCompression::kNone;
};

struct SeriesStats {
  std::uint64_t count = 0;
  std::int64_t min_time_ns = 0;  // first time, chronologically; 0 when empty
  std::int64_t max_time_ns = 0;  // last time
  std::optional<double> min_float, max_float;  // float64: over non-NaN values
  std::uint64_t nan_count = 0;
  std::optional<std::int64_t> min_int, max_int;  // int64
  std::uint64_t true_count = 0;                  // bool
};

struct SeriesEntry {
  store::SeriesInfo info;
  Tags tags;
  SeriesStats stats;
  ChunkRef timestamps;
  ChunkRef values;
};

struct PartitionMetadata {
  std::uint32_t format_version = kPartitionFormatVersion;
  PartitionIdentity identity;
  std::int64_t min_time_ns = 0;  // over all series; 0 when empty
  std::int64_t max_time_ns = 0;
  std::uint64_t record_count = 0;
  int zstd_level = 0;            // 0 when chunks were stored uncompressed
  std::vector<SeriesEntry> series;  // in the order the writer added them
};

// One series' values in the order written. Bools are 0 or 1 bytes.
using ValueColumn = std::variant<std::vector<double>, std::vector<std::int64_t>,
                                 std::vector<std::uint8_t>, std::vector<std::string>>;

struct SeriesColumns {
  std::vector<std::int64_t> timestamps;
  ValueColumn values;
};

// How the writer picks among a column's candidate encodings.
enum class CodecSelection : std::uint8_t {
  kSmallestEncoded = 1,     // smallest before zstd, then compress that one only
  kSmallestCompressed = 2,  // compress every candidate, keep the smallest
};

// Which codecs a writer may use. Readers accept both; a fleet whose upstream
// readers predate revision 2 keeps writing revision 1 until they are updated.
enum class CodecRevision : std::uint8_t {
  k1 = 1,  // codecs 1, 10, 11, 12, 20, 30, 40; metadata stored as is
  k2 = 2,  // also scaled timestamps (2), decimal digits (13), Rice packing,
           // dictionaries, zstd-compressed metadata
  k3 = 3,  // also float32 decimal digits (14), float dictionaries (15)
};

struct PartitionWriterOptions {
  // Compress each chunk with zstd (kept only where it shrinks the chunk).
  // Default: true.
  bool compress = true;
  // zstd level, [1, 22]. Default: 3.
  int zstd_level = 3;
  // Default: kSmallestCompressed (smaller objects; encodes each float column
  // about four times, see bench/README.md for the cost).
  CodecSelection selection = CodecSelection::kSmallestCompressed;
  // Default: k3.
  CodecRevision revision = CodecRevision::k3;

  Status Validate() const;
};

// Builds one partition object in memory. Not thread-safe.
class PartitionWriter {
 public:
  explicit PartitionWriter(PartitionIdentity identity, PartitionWriterOptions options = {});
  ~PartitionWriter();
  PartitionWriter(PartitionWriter&&) noexcept;
  PartitionWriter& operator=(PartitionWriter&&) noexcept;

  // Declares a series. InvalidArgument for a duplicate id or name, an empty
  // name, an unknown type, duplicate tag keys, or a name, unit or tag that is
  // not UTF-8 (protobuf string fields; readers upstream would refuse it).
  Status AddSeries(const store::SeriesInfo& info, Tags tags = {});
  // Appends one record to its (declared) series; its value must have the
  // series' type.
  Status Append(const store::Record& record);
  // Appends whole columns to a declared series: timestamps and values of
  // equal length and the series' type.
  Status AppendColumns(store::SeriesId series, const SeriesColumns& columns);

  // Encodes everything into one object. The writer is empty afterwards.
  // InvalidArgument for bad options or a gateway id or site that is not UTF-8.
  // Deterministic: equal inputs and options give equal bytes.
  Result<std::string> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct PartitionReaderOptions {
  // Largest decompressed chunk a reader accepts, so that a hostile object
  // cannot make it allocate without bound. Default: 1 GiB.
  std::uint64_t max_chunk_bytes = std::uint64_t{1} << 30;
};

// Reads an object held in memory. Open() checks the header, footer and
// metadata; chunk CRCs are checked when a chunk is read (or all at once by
// VerifyChecksums()).
class PartitionReader {
 public:
  static Result<PartitionReader> Open(std::string bytes, PartitionReaderOptions options = {});
  // Reads the whole file through `env` (store/env.h), then Open().
  static Result<PartitionReader> OpenFile(store::Env& env, const std::string& path,
                                          PartitionReaderOptions options = {});

  const PartitionMetadata& metadata() const { return meta_; }
  std::size_t series_count() const { return meta_.series.size(); }
  const SeriesEntry& series(std::size_t index) const { return meta_.series.at(index); }
  // Index of the series with that name, or NotFound.
  Result<std::size_t> FindSeries(std::string_view name) const;

  // The series' columns, keeping only timestamps inside `range` (write order
  // preserved). Skips decoding when the range misses the series' stats.
  Result<SeriesColumns> ReadColumns(std::size_t index, TimeRange range = {}) const;
  // The same as records of the series.
  Result<std::vector<store::Record>> ReadRecords(std::size_t index, TimeRange range = {}) const;

  // Checks every chunk's CRC; Corruption names the first bad one.
  Status VerifyChecksums() const;

 private:
  PartitionReader(std::string bytes, PartitionMetadata meta, PartitionReaderOptions options)
      : bytes_(std::move(bytes)), meta_(std::move(meta)), options_(options) {}
  bool ChunkCrcMatches(const ChunkRef& c) const;
  Result<std::string> LoadChunk(const SeriesEntry& s, const ChunkRef& c, const char* what) const;

  std::string bytes_;
  PartitionMetadata meta_;
  PartitionReaderOptions options_;
};

}  // namespace sluice::sync
