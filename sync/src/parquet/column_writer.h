// One column chunk: page splitting, the encoding trial, dictionary with
// fallback, statistics and the page index entries.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "metadata.h"
#include "page_compressor.h"
#include "sync/parquet.h"

namespace sluice::sync::parquet {

// What a column holds, which selects the typed code path once per chunk.
enum class ValueKind : std::uint8_t {
  kInt64,
  kInt32,
  kDouble,
  kBool,
  kBytes,  // byte arrays given one by one
  kCoded,  // byte arrays given as codes into `entries`
};

// One column of one row group. Arrays are borrowed; they must outlive Encode().
struct ColumnSlice {
  ParquetColumn column = ParquetColumn::kSeries;
  ValueKind kind = ValueKind::kInt64;
  bool optional = false;
  std::size_t rows = 0;
  const std::uint8_t* def = nullptr;  // `rows` bytes, 1 = a value (optional only)
  std::size_t values = 0;             // non-null values, in row order
  const std::int64_t* i64 = nullptr;
  const std::int32_t* i32 = nullptr;
  const double* f64 = nullptr;
  const std::uint8_t* bools = nullptr;  // nonzero: true
  const std::string_view* bytes = nullptr;
  // kCoded: codes in first-appearance order (a code is new only when it is
  // the number of distinct codes seen before it), so that the dictionary of
  // any prefix of the chunk is a prefix of `entries`.
  const std::uint32_t* codes = nullptr;
  const std::string_view* entries = nullptr;
  std::size_t entry_count = 0;
  // Cut byte-array min/max to 64 bytes in statistics and the column index
  // (opaque bytes may be large; strings are kept exact).
  bool truncate_bounds = false;
};

struct EncodedChunk {
  std::string bytes;                // dictionary page, data pages, headers included
  ColumnChunkMeta meta;             // page offsets relative to bytes' start
  std::vector<PageLocation> pages;  // offsets relative to bytes' start
  std::optional<ColumnIndex> column_index;  // absent when the spec forbids one
};

// Not thread-safe; reuses its buffers across chunks.
class ChunkEncoder {
 public:
  explicit ChunkEncoder(const ParquetOptions& options);

  // InvalidArgument only when a page or dictionary would exceed 2^31-1 bytes.
  Result<EncodedChunk> Encode(const ColumnSlice& slice);

 private:
  const ParquetOptions& options_;
  PageCompressor compressor_;
};

}  // namespace sluice::sync::parquet
