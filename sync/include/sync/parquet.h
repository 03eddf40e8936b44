// Writing one partition as an Apache Parquet file (layout and schema:
// docs/format/parquet.md). Pure encoding: bytes in memory, no I/O.
//
// Contract:
// - One row per record, schema below, rows sorted by series name (byte-wise)
//   then time. The writer requires sorted input and checks it: series names
//   strictly increasing, timestamps non-decreasing inside a series
//   (ParquetInputBuilder sorts records for callers that cannot promise it).
// - Lossless: timestamp (microseconds) * 1000 + timestamp_nanos gives back the
//   nanosecond timestamp; doubles keep their bits (NaN payloads, -0.0).
// - Deterministic: equal input and options give equal bytes (object keys and
//   conditional writes rely on it). No clock, no hash-order dependence.
// - Errors: InvalidArgument for bad options, unsorted input, names, units,
//   gateway ids or sites that are not UTF-8, or more than 2^31-1 values in one
//   page or dictionary. Never aborts on input.
// - Not thread-safe per call; independent calls may run concurrently.
//
// Schema (column order is fixed):
//   0 series          BYTE_ARRAY STRING          REQUIRED  dictionary
//   1 timestamp       INT64 TIMESTAMP(UTC, MICROS) REQUIRED floor(ns / 1000)
//   2 timestamp_nanos INT32                      REQUIRED  ns - 1000 * timestamp, 0..999
//   3 value_double    DOUBLE                     OPTIONAL  null unless type float64
//   4 value_int       INT64                      OPTIONAL  null unless type int64
//   5 value_bool      BOOLEAN                    OPTIONAL  null unless type bool
//   6 value_bytes     BYTE_ARRAY                 OPTIONAL  null unless type bytes
//   7 type            BYTE_ARRAY STRING          REQUIRED  "float64" | "int64" | "bool" | "bytes"
//   8 unit            BYTE_ARRAY STRING          REQUIRED  may be ""
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "store/types.h"
#include "sync/partition.h"

namespace sluice::sync {

// The Parquet schema version written as "sluice.parquet.schema_version".
inline constexpr int kParquetSchemaVersion = 1;

enum class ParquetColumn : std::uint8_t {
  kSeries = 0,
  kTimestamp = 1,
  kTimestampNanos = 2,
  kValueDouble = 3,
  kValueInt = 4,
  kValueBool = 5,
  kValueBytes = 6,
  kType = 7,
  kUnit = 8,
};
inline constexpr std::size_t kParquetColumnCount = 9;
// "series", "timestamp", ...; nullptr for an unknown column.
const char* ParquetColumnName(ParquetColumn column);

// Values are Parquet's own Encoding enum (parquet.thrift).
enum class ParquetEncoding : std::uint8_t {
  kPlain = 0,
  kRle = 3,                   // booleans only (compact)
  kDeltaBinaryPacked = 5,     // INT32, INT64
  kDeltaLengthByteArray = 6,  // BYTE_ARRAY (compact)
  kDeltaByteArray = 7,        // BYTE_ARRAY (compact)
  kRleDictionary = 8,         // everything but BOOLEAN
  kByteStreamSplit = 9,       // DOUBLE (compact)
};
// "PLAIN", "RLE_DICTIONARY", ...; nullptr for an unknown value.
const char* ParquetEncodingName(ParquetEncoding encoding);

// Which encodings the writer may choose among.
enum class ParquetEncodingSet : std::uint8_t {
  // PLAIN, RLE_DICTIONARY, DELTA_BINARY_PACKED: what Spark 3.3+'s vectorised
  // reader, DuckDB, Trino, pandas/pyarrow and arrow-rs all read.
  kCompatible = 1,
  // Also BYTE_STREAM_SPLIT for doubles, DELTA_LENGTH_BYTE_ARRAY and
  // DELTA_BYTE_ARRAY for byte arrays, RLE for booleans, where a trial shows
  // they help. Readers older than about 2022 may refuse them.
  kCompact = 2,
};

enum class ParquetPageVersion : std::uint8_t {
  kV1 = 1,  // DATA_PAGE: levels and values compressed together
  kV2 = 2,  // DATA_PAGE_V2: levels stored uncompressed before the values
};

struct ParquetOptions {
  // Default: kCompatible.
  ParquetEncodingSet encodings = ParquetEncodingSet::kCompatible;
  // zstd level for every page, [1, 22]; 0 writes UNCOMPRESSED. Default: 3.
  int zstd_level = 3;
  // Rows per row group, [1, 2^31 - 1]. Default: 1,048,576.
  std::uint64_t max_row_group_rows = std::uint64_t{1} << 20;
  // A page is cut once its plain-encoded size reaches this, [1, 2^30]. Default:
  // 1 MiB.
  std::uint64_t target_page_bytes = std::uint64_t{1} << 20;
  // Rows per page at most, [1, 2^31 - 1], so that the page index is useful
  // for pruning. Default: 20,000 (as parquet-mr and arrow-rs).
  std::uint64_t max_page_rows = 20'000;
  // Default: kV1 (the most widely read).
  ParquetPageVersion page_version = ParquetPageVersion::kV1;
  // A column chunk's dictionary stops growing at this many plain-encoded bytes;
  // later pages fall back to the best non-dictionary encoding, [0, 2^30].
  // Default: 1 MiB.
  std::uint64_t max_dictionary_bytes = std::uint64_t{1} << 20;
  // No dictionary encoding anywhere. Default: false.
  bool disable_dictionary = false;
  // Tests and the write driver: use this encoding for the column instead of
  // choosing by trial (RLE_DICTIONARY still falls back past
  // max_dictionary_bytes). Must fit the column's type; may be outside
  // `encodings`. Default: none.
  std::array<std::optional<ParquetEncoding>, kParquetColumnCount> force_encoding{};

  Status Validate() const;
};

// One series' records, sorted by time (non-decreasing). The value type is the
// alternative held by columns.values (bools as 0/1 bytes, bytes as strings).
struct ParquetSeries {
  std::string name;  // UTF-8, not empty
  std::string unit;  // UTF-8, may be empty
  SeriesColumns columns;
};

struct ParquetInput {
  PartitionIdentity identity;     // written as key/value metadata
  std::vector<ParquetSeries> series;  // names strictly increasing (byte-wise)
};

// Encodes `input` as one Parquet file (all of it, magic to magic).
Result<std::string> WriteParquet(const ParquetInput& input, const ParquetOptions& options = {});

// Builds a ParquetInput from a partition's records in any order, as the sync
// engine reads them from the store: groups them by series, orders series by
// name and records by time (stable, so duplicates keep their write order).
class ParquetInputBuilder {
 public:
  explicit ParquetInputBuilder(PartitionIdentity identity);

  // InvalidArgument for a duplicate id or name, an empty name or an unknown type.
  Status AddSeries(const store::SeriesInfo& info);
  // The record's series must be declared and its value of the series' type.
  Status Append(const store::Record& record);
  // The sorted input; the builder is empty afterwards.
  ParquetInput Finish();

 private:
  struct Pending {
    store::SeriesInfo info;
    std::vector<store::Record> records;
  };
  PartitionIdentity identity_;
  std::vector<Pending> series_;
  std::vector<std::pair<std::uint32_t, std::size_t>> by_id_;  // sorted by id
};

}  // namespace sluice::sync
