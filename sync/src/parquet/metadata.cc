#include "metadata.h"

#include "thrift_compact.h"

namespace sluice::sync::parquet {

namespace {

std::int32_t I32(auto e) { return static_cast<std::int32_t>(e); }

void WriteStatistics(ThriftWriter& w, std::int16_t id, const Statistics& s) {
  w.BeginStruct(id);
  w.I64(3, s.null_count);
  if (s.max_value) w.Binary(5, *s.max_value);
  if (s.min_value) w.Binary(6, *s.min_value);
  if (s.max_value) w.Bool(7, s.max_exact);
  if (s.min_value) w.Bool(8, s.min_exact);
  if (s.nan_count) w.I64(9, *s.nan_count);
  w.EndStruct();
}

void WriteColumnMeta(ThriftWriter& w, const ColumnChunkMeta& c) {
  w.BeginStruct(3);
  w.I32(1, I32(c.type));
  w.BeginList(2, CType::kI32, c.encodings.size());
  for (std::int32_t e : c.encodings) w.ListI32(e);
  w.BeginList(3, CType::kBinary, 1);
  w.ListBinary(c.path);
  w.I32(4, I32(c.codec));
  w.I64(5, c.num_values);
  w.I64(6, c.total_uncompressed_size);
  w.I64(7, c.total_compressed_size);
  w.I64(9, c.data_page_offset);
  if (c.dictionary_page_offset) w.I64(11, *c.dictionary_page_offset);
  WriteStatistics(w, 12, c.statistics);
  w.BeginList(13, CType::kStruct, c.encoding_stats.size());
  for (const PageEncodingStats& e : c.encoding_stats) {
    w.ListBeginStruct();
    w.I32(1, I32(e.page_type));
    w.I32(2, e.encoding);
    w.I32(3, e.count);
    w.EndStruct();
  }
  w.EndStruct();
}

void WriteColumnChunk(ThriftWriter& w, const ColumnChunkMeta& c) {
  w.ListBeginStruct();
  w.I64(2, 0);  // file_offset: deprecated, 0 when no metadata is outside the footer
  WriteColumnMeta(w, c);
  if (c.offset_index_offset) {
    w.I64(4, *c.offset_index_offset);
    w.I32(5, c.offset_index_length);
  }
  if (c.column_index_offset) {
    w.I64(6, *c.column_index_offset);
    w.I32(7, c.column_index_length);
  }
  w.EndStruct();
}

void WriteRowGroup(ThriftWriter& w, const RowGroupMeta& g) {
  w.ListBeginStruct();
  w.BeginList(1, CType::kStruct, g.columns.size());
  for (const ColumnChunkMeta& c : g.columns) WriteColumnChunk(w, c);
  w.I64(2, g.total_byte_size);
  w.I64(3, g.num_rows);
  if (!g.sorting_columns.empty()) {
    w.BeginList(4, CType::kStruct, g.sorting_columns.size());
    for (const SortingColumn& s : g.sorting_columns) {
      w.ListBeginStruct();
      w.I32(1, s.column_idx);
      w.Bool(2, s.descending);
      w.Bool(3, s.nulls_first);
      w.EndStruct();
    }
  }
  w.I64(5, g.file_offset);
  w.I64(6, g.total_compressed_size);
  w.I16(7, g.ordinal);
  w.EndStruct();
}

void WriteSchemaField(ThriftWriter& w, const SchemaField& f) {
  w.ListBeginStruct();
  w.I32(1, I32(f.type));
  w.I32(3, f.optional ? 1 : 0);  // OPTIONAL : REQUIRED
  w.Binary(4, f.name);
  switch (f.logical) {
    case LogicalType::kNone:
      break;
    case LogicalType::kString:
      w.I32(6, kConvertedUtf8);
      w.BeginStruct(10);
      w.EmptyStruct(1);  // STRING
      w.EndStruct();
      break;
    case LogicalType::kTimestampMicrosUtc:
      w.I32(6, kConvertedTimestampMicros);
      w.BeginStruct(10);
      w.BeginStruct(8);  // TIMESTAMP
      w.Bool(1, true);   // isAdjustedToUTC
      w.BeginStruct(2);  // unit
      w.EmptyStruct(2);  // MICROS
      w.EndStruct();
      w.EndStruct();
      w.EndStruct();
      break;
  }
  w.EndStruct();
}

}  // namespace

void SerializePageHeader(const PageHeader& h, std::string* out) {
  ThriftWriter w(out);
  w.BeginMessage();
  w.I32(1, I32(h.type));
  w.I32(2, h.uncompressed_page_size);
  w.I32(3, h.compressed_page_size);
  switch (h.type) {
    case PageType::kDataPage:
      w.BeginStruct(5);
      w.I32(1, h.num_values);
      w.I32(2, h.encoding);
      w.I32(3, kEncodingRle);  // definition levels
      w.I32(4, kEncodingRle);  // repetition levels (none: max level 0)
      w.EndStruct();
      break;
    case PageType::kDictionaryPage:
      w.BeginStruct(7);
      w.I32(1, h.num_values);
      w.I32(2, h.encoding);
      w.EndStruct();
      break;
    case PageType::kDataPageV2:
      w.BeginStruct(8);
      w.I32(1, h.num_values);
      w.I32(2, h.num_nulls);
      w.I32(3, h.num_rows);
      w.I32(4, h.encoding);
      w.I32(5, h.definition_levels_byte_length);
      w.I32(6, 0);  // repetition levels
      w.Bool(7, h.is_compressed);
      w.EndStruct();
      break;
  }
  w.EndMessage();
}

void SerializeFileMeta(const FileMeta& m, std::string* out) {
  ThriftWriter w(out);
  w.BeginMessage();
  w.I32(1, m.version);
  w.BeginList(2, CType::kStruct, m.fields.size() + 1);
  w.ListBeginStruct();  // the root
  w.Binary(4, "schema");
  w.I32(5, static_cast<std::int32_t>(m.fields.size()));
  w.EndStruct();
  for (const SchemaField& f : m.fields) WriteSchemaField(w, f);
  w.I64(3, m.num_rows);
  w.BeginList(4, CType::kStruct, m.row_groups.size());
  for (const RowGroupMeta& g : m.row_groups) WriteRowGroup(w, g);
  w.BeginList(5, CType::kStruct, m.key_value.size());
  for (const auto& [k, v] : m.key_value) {
    w.ListBeginStruct();
    w.Binary(1, k);
    w.Binary(2, v);
    w.EndStruct();
  }
  w.Binary(6, m.created_by);
  w.BeginList(7, CType::kStruct, m.fields.size());
  for (std::size_t i = 0; i < m.fields.size(); ++i) {
    w.ListBeginStruct();
    w.EmptyStruct(1);  // TYPE_ORDER
    w.EndStruct();
  }
  w.EndMessage();
}

void SerializeColumnIndex(const ColumnIndex& c, std::string* out) {
  ThriftWriter w(out);
  w.BeginMessage();
  w.BeginList(1, CType::kBoolTrue, c.null_pages.size());
  for (bool b : c.null_pages) w.ListBool(b);
  w.BeginList(2, CType::kBinary, c.min_values.size());
  for (const std::string& s : c.min_values) w.ListBinary(s);
  w.BeginList(3, CType::kBinary, c.max_values.size());
  for (const std::string& s : c.max_values) w.ListBinary(s);
  w.I32(4, I32(c.boundary_order));
  w.BeginList(5, CType::kI64, c.null_counts.size());
  for (std::int64_t n : c.null_counts) w.ListI64(n);
  if (c.nan_counts) {
    w.BeginList(8, CType::kI64, c.nan_counts->size());
    for (std::int64_t n : *c.nan_counts) w.ListI64(n);
  }
  w.EndMessage();
}

void SerializeOffsetIndex(const std::vector<PageLocation>& pages, std::string* out) {
  ThriftWriter w(out);
  w.BeginMessage();
  w.BeginList(1, CType::kStruct, pages.size());
  for (const PageLocation& p : pages) {
    w.ListBeginStruct();
    w.I64(1, p.offset);
    w.I32(2, p.compressed_page_size);
    w.I64(3, p.first_row_index);
    w.EndStruct();
  }
  w.EndMessage();
}

}  // namespace sluice::sync::parquet
