// A small Parquet READER for tests, written from parquet.thrift, Encodings.md
// and the Thrift compact-protocol spec, apart from the writer (which has no
// decoder): a generic compact-protocol decoder into a tree of fields, then
// the footer, page headers, levels and every encoding the writer may use.
//
// Throws std::runtime_error on anything it does not understand or that is
// inconsistent (offsets, counts, lengths). Test code only: it trusts sizes
// enough to allocate them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::sync::testing {

// One decoded Thrift value; structs map field ids to values.
struct TValue {
  enum class Kind { kInt, kBool, kBinary, kDouble, kList, kStruct } kind = Kind::kInt;
  std::int64_t i = 0;
  bool b = false;
  std::string bin;
  double d = 0;
  std::vector<TValue> list;
  std::map<std::int16_t, TValue> fields;

  bool Has(std::int16_t id) const { return fields.count(id) != 0; }
  // The field, or throws.
  const TValue& operator[](std::int16_t id) const;
};

// Decodes one struct at `data`; `*used` gets the bytes it took.
TValue DecodeThriftStruct(std::string_view data, std::size_t* used);

// One page as found by walking a column chunk.
struct PageSeen {
  int page_type = 0;
  int encoding = 0;
  std::int64_t offset = 0;     // of the header
  std::int64_t total_size = 0; // header + compressed_page_size
  std::int64_t first_row = 0;  // inside the row group
  std::int64_t rows = 0;
  std::int64_t nulls = 0;
};

struct ChunkSeen {
  TValue column_chunk;  // the ColumnChunk struct from the footer
  bool has_dictionary = false;
  std::int64_t dictionary_entries = 0;
  std::vector<PageSeen> data_pages;
  TValue offset_index;                   // kind kStruct when present
  bool has_column_index = false;
  TValue column_index;
};

// A whole column, concatenated over row groups: one `defined` byte per row and
// the non-null values in order in the vector for its physical type.
struct ColumnValues {
  int physical_type = 0;
  std::vector<std::uint8_t> defined;
  std::vector<std::int64_t> i64;
  std::vector<std::int32_t> i32;
  std::vector<double> f64;
  std::vector<std::uint8_t> booleans;
  std::vector<std::string> bytes;
};

struct ParquetFileSeen {
  TValue footer;  // FileMetaData
  std::vector<std::string> column_names;
  std::vector<std::vector<ChunkSeen>> chunks;  // [row group][column]
  std::vector<ColumnValues> columns;
  std::map<std::string, std::string> key_value;
};

ParquetFileSeen ReadParquetFile(std::string_view file);

}  // namespace sluice::sync::testing
