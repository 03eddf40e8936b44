// The parts of parquet.thrift that Sluice writes, as plain structs, and their
// compact-protocol serialisation. Field ids are the specification's; fields
// Sluice never sets are left out. Enum values are Parquet's own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::sync::parquet {

enum class PhysicalType : std::int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kDouble = 5,
  kByteArray = 6,
};

enum class PageType : std::int32_t {
  kDataPage = 0,
  kDictionaryPage = 2,
  kDataPageV2 = 3,
};

enum class Codec : std::int32_t {
  kUncompressed = 0,
  kZstd = 6,
};

enum class BoundaryOrder : std::int32_t {
  kUnordered = 0,
  kAscending = 1,
  kDescending = 2,
};

inline constexpr std::int32_t kEncodingPlain = 0;
inline constexpr std::int32_t kEncodingRle = 3;
inline constexpr std::int32_t kConvertedUtf8 = 0;
inline constexpr std::int32_t kConvertedTimestampMicros = 10;

// Min and max are PLAIN-encoded (byte arrays without their length).
struct Statistics {
  std::optional<std::string> min_value, max_value;
  bool min_exact = true, max_exact = true;
  std::int64_t null_count = 0;
  std::optional<std::int64_t> nan_count;  // DOUBLE only
};

struct PageHeader {
  PageType type = PageType::kDataPage;
  std::int32_t uncompressed_page_size = 0;
  std::int32_t compressed_page_size = 0;
  std::int32_t num_values = 0;  // data: rows including nulls; dictionary: entries
  std::int32_t encoding = kEncodingPlain;
  // DATA_PAGE_V2 only.
  std::int32_t num_nulls = 0;
  std::int32_t num_rows = 0;
  std::int32_t definition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageEncodingStats {
  PageType page_type = PageType::kDataPage;
  std::int32_t encoding = kEncodingPlain;
  std::int32_t count = 0;
};

struct ColumnChunkMeta {
  PhysicalType type = PhysicalType::kInt64;
  std::vector<std::int32_t> encodings;  // ascending, unique
  std::string path;                     // the column's name (flat schema)
  Codec codec = Codec::kUncompressed;
  std::int64_t num_values = 0;
  std::int64_t total_uncompressed_size = 0;  // page headers included
  std::int64_t total_compressed_size = 0;
  std::int64_t data_page_offset = 0;
  std::optional<std::int64_t> dictionary_page_offset;
  Statistics statistics;
  std::vector<PageEncodingStats> encoding_stats;
  // Page indexes: absent for a column chunk of one page.
  std::optional<std::int64_t> offset_index_offset;
  std::int32_t offset_index_length = 0;
  std::optional<std::int64_t> column_index_offset;  // also absent when not written
  std::int32_t column_index_length = 0;
};

struct SortingColumn {
  std::int32_t column_idx = 0;
  bool descending = false;
  bool nulls_first = false;
};

struct RowGroupMeta {
  std::vector<ColumnChunkMeta> columns;
  std::int64_t total_byte_size = 0;  // uncompressed
  std::int64_t num_rows = 0;
  std::vector<SortingColumn> sorting_columns;
  std::int64_t file_offset = 0;
  std::int64_t total_compressed_size = 0;
  std::int16_t ordinal = 0;
};

enum class LogicalType : std::uint8_t { kNone, kString, kTimestampMicrosUtc };

struct SchemaField {
  std::string name;
  PhysicalType type = PhysicalType::kInt64;
  bool optional = false;
  LogicalType logical = LogicalType::kNone;
};

struct FileMeta {
  std::int32_t version = 1;
  std::vector<SchemaField> fields;  // under a root named "schema"
  std::int64_t num_rows = 0;
  std::vector<RowGroupMeta> row_groups;
  std::vector<std::pair<std::string, std::string>> key_value;
  std::string created_by;
};

struct ColumnIndex {
  std::vector<bool> null_pages;
  std::vector<std::string> min_values, max_values;  // empty for null pages
  BoundaryOrder boundary_order = BoundaryOrder::kUnordered;
  std::vector<std::int64_t> null_counts;
  std::optional<std::vector<std::int64_t>> nan_counts;  // DOUBLE only
};

struct PageLocation {
  std::int64_t offset = 0;
  std::int32_t compressed_page_size = 0;  // header included
  std::int64_t first_row_index = 0;
};

void SerializePageHeader(const PageHeader& h, std::string* out);
// The footer's FileMetaData (column_orders: TYPE_ORDER for every column).
void SerializeFileMeta(const FileMeta& m, std::string* out);
void SerializeColumnIndex(const ColumnIndex& c, std::string* out);
void SerializeOffsetIndex(const std::vector<PageLocation>& pages, std::string* out);

}  // namespace sluice::sync::parquet
