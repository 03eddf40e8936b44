// WriteParquet: checks the input, cuts row groups, lays out each row group's
// nine columns (ColumnSlice) and assembles the file:
//
//   "PAR1" | row group 0: column chunk 0..8 | ... | column indexes |
//   offset indexes | FileMetaData (thrift compact) | u32 LE length | "PAR1"
#include <algorithm>
#include <array>
#include <cstring>

#include "base/coding.h"
#include "column_writer.h"
#include "metadata.h"
#include "sync/parquet.h"

#ifndef SLUICE_PARQUET_CREATED_BY
#define SLUICE_PARQUET_CREATED_BY "sluice"
#endif

namespace sluice::sync {

using parquet::ChunkEncoder;
using parquet::ColumnSlice;
using parquet::EncodedChunk;
using parquet::ValueKind;

const char* ParquetColumnName(ParquetColumn column) {
  switch (column) {
    case ParquetColumn::kSeries: return "series";
    case ParquetColumn::kTimestamp: return "timestamp";
    case ParquetColumn::kTimestampNanos: return "timestamp_nanos";
    case ParquetColumn::kValueDouble: return "value_double";
    case ParquetColumn::kValueInt: return "value_int";
    case ParquetColumn::kValueBool: return "value_bool";
    case ParquetColumn::kValueBytes: return "value_bytes";
    case ParquetColumn::kType: return "type";
    case ParquetColumn::kUnit: return "unit";
  }
  return nullptr;
}

const char* ParquetEncodingName(ParquetEncoding encoding) {
  switch (encoding) {
    case ParquetEncoding::kPlain: return "PLAIN";
    case ParquetEncoding::kRle: return "RLE";
    case ParquetEncoding::kDeltaBinaryPacked: return "DELTA_BINARY_PACKED";
    case ParquetEncoding::kDeltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY";
    case ParquetEncoding::kDeltaByteArray: return "DELTA_BYTE_ARRAY";
    case ParquetEncoding::kRleDictionary: return "RLE_DICTIONARY";
    case ParquetEncoding::kByteStreamSplit: return "BYTE_STREAM_SPLIT";
  }
  return nullptr;
}

namespace {

constexpr std::uint64_t kMaxI32 = 0x7fffffff;

ValueKind KindOf(ParquetColumn c) {
  switch (c) {
    case ParquetColumn::kTimestamp:
    case ParquetColumn::kValueInt:
      return ValueKind::kInt64;
    case ParquetColumn::kTimestampNanos:
      return ValueKind::kInt32;
    case ParquetColumn::kValueDouble:
      return ValueKind::kDouble;
    case ParquetColumn::kValueBool:
      return ValueKind::kBool;
    case ParquetColumn::kValueBytes:
      return ValueKind::kBytes;
    case ParquetColumn::kSeries:
    case ParquetColumn::kType:
    case ParquetColumn::kUnit:
      return ValueKind::kCoded;
  }
  return ValueKind::kBytes;
}

bool EncodingFits(ValueKind k, ParquetEncoding e) {
  switch (e) {
    case ParquetEncoding::kPlain:
      return true;
    case ParquetEncoding::kRle:
      return k == ValueKind::kBool;
    case ParquetEncoding::kDeltaBinaryPacked:
      return k == ValueKind::kInt64 || k == ValueKind::kInt32;
    case ParquetEncoding::kDeltaLengthByteArray:
    case ParquetEncoding::kDeltaByteArray:
      return k == ValueKind::kBytes || k == ValueKind::kCoded;
    case ParquetEncoding::kRleDictionary:
      return k != ValueKind::kBool;
    case ParquetEncoding::kByteStreamSplit:
      return k == ValueKind::kDouble;
  }
  return false;
}

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF):
// engines refuse or mangle anything else in STRING columns.
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
      return false;
    }
    i += n + 1;
  }
  return true;
}

const char* TypeString(const ValueColumn& v) {
  switch (v.index()) {
    case 0: return "float64";
    case 1: return "int64";
    case 2: return "bool";
    default: return "bytes";
  }
}

std::size_t ColumnLength(const ValueColumn& v) {
  return std::visit([](const auto& c) { return c.size(); }, v);
}

Status CheckInput(const ParquetInput& in) {
  if (!IsUtf8(in.identity.gateway_id) || !IsUtf8(in.identity.site)) {
    return InvalidArgument("gateway id or site is not UTF-8");
  }
  for (std::size_t i = 0; i < in.series.size(); ++i) {
    const ParquetSeries& s = in.series[i];
    if (s.name.empty()) return InvalidArgument("series " + std::to_string(i) + " has no name");
    if (!IsUtf8(s.name) || !IsUtf8(s.unit)) {
      return InvalidArgument("series " + std::to_string(i) + ": name or unit is not UTF-8");
    }
    if (i > 0 && !(in.series[i - 1].name < s.name)) {
      return InvalidArgument("series '" + s.name + "' after '" + in.series[i - 1].name +
                             "': names must be strictly increasing");
    }
    const auto& ts = s.columns.timestamps;
    if (ColumnLength(s.columns.values) != ts.size()) {
      return InvalidArgument("series '" + s.name + "': timestamps and values differ in length");
    }
    for (std::size_t k = 1; k < ts.size(); ++k) {
      if (ts[k] < ts[k - 1]) {
        return InvalidArgument("series '" + s.name + "': timestamp " + std::to_string(ts[k]) +
                               " at " + std::to_string(k) + " before " +
                               std::to_string(ts[k - 1]));
      }
    }
  }
  return Status::Ok();
}

// One row group's columns, materialised from the series runs it covers.
// Buffers are reused from one row group to the next.
struct RowGroupColumns {
  std::vector<std::uint32_t> series_codes, type_codes, unit_codes;
  std::vector<std::string_view> series_entries, type_entries, unit_entries;
  std::vector<std::int64_t> micros;
  std::vector<std::int32_t> nanos;
  std::array<std::vector<std::uint8_t>, 4> def;  // double, int, bool, bytes
  std::vector<double> doubles;
  std::vector<std::int64_t> ints;
  std::vector<std::uint8_t> bools;
  std::vector<std::string_view> bytes;

  // Empties the buffers and reserves room for `rows` rows, `typed[k]` of
  // them of type k (float64, int64, bool, bytes).
  void Reset(std::size_t rows, const std::array<std::size_t, 4>& typed) {
    Clear();
    series_codes.reserve(rows);
    type_codes.reserve(rows);
    unit_codes.reserve(rows);
    micros.reserve(rows);
    nanos.reserve(rows);
    for (auto& d : def) d.reserve(rows);
    doubles.reserve(typed[0]);
    ints.reserve(typed[1]);
    bools.reserve(typed[2]);
    bytes.reserve(typed[3]);
  }

  void Clear() {
    series_codes.clear();
    type_codes.clear();
    unit_codes.clear();
    series_entries.clear();
    type_entries.clear();
    unit_entries.clear();
    micros.clear();
    nanos.clear();
    for (auto& d : def) d.clear();
    doubles.clear();
    ints.clear();
    bools.clear();
    bytes.clear();
  }
};

// A code for `s` in first-appearance order (few distinct types and units).
std::uint32_t CodeOf(std::string_view s, std::vector<std::string_view>* entries) {
  for (std::size_t i = 0; i < entries->size(); ++i) {
    if ((*entries)[i] == s) return static_cast<std::uint32_t>(i);
  }
  entries->push_back(s);
  return static_cast<std::uint32_t>(entries->size() - 1);
}

// Rows [begin, begin + n) of series `s` into `g`.
void AddRun(const ParquetSeries& s, std::size_t begin, std::size_t n, RowGroupColumns* g) {
  const auto series_code = static_cast<std::uint32_t>(g->series_entries.size());
  g->series_entries.push_back(s.name);
  g->series_codes.insert(g->series_codes.end(), n, series_code);
  g->type_codes.insert(g->type_codes.end(), n, CodeOf(TypeString(s.columns.values), &g->type_entries));
  g->unit_codes.insert(g->unit_codes.end(), n, CodeOf(s.unit, &g->unit_entries));
  const std::int64_t* ts = s.columns.timestamps.data() + begin;
  for (std::size_t i = 0; i < n; ++i) {
    // Floor division: micros * 1000 + nanos == ns with nanos in [0, 999],
    // negative timestamps included.
    std::int64_t us = ts[i] / 1000;
    std::int64_t rem = ts[i] % 1000;
    if (rem < 0) {
      us -= 1;
      rem += 1000;
    }
    g->micros.push_back(us);
    g->nanos.push_back(static_cast<std::int32_t>(rem));
  }
  const std::size_t which = s.columns.values.index();
  for (std::size_t k = 0; k < 4; ++k) g->def[k].insert(g->def[k].end(), n, k == which ? 1 : 0);
  std::visit(
      [&](const auto& col) {
        using V = typename std::decay_t<decltype(col)>::value_type;
        auto first = col.begin() + static_cast<std::ptrdiff_t>(begin);
        auto last = first + static_cast<std::ptrdiff_t>(n);
        if constexpr (std::is_same_v<V, double>) {
          g->doubles.insert(g->doubles.end(), first, last);
        } else if constexpr (std::is_same_v<V, std::int64_t>) {
          g->ints.insert(g->ints.end(), first, last);
        } else if constexpr (std::is_same_v<V, std::uint8_t>) {
          for (auto it = first; it != last; ++it) g->bools.push_back(*it != 0 ? 1 : 0);
        } else {
          for (auto it = first; it != last; ++it) g->bytes.emplace_back(*it);
        }
      },
      s.columns.values);
}

ColumnSlice SliceOf(ParquetColumn c, const RowGroupColumns& g) {
  ColumnSlice s;
  s.column = c;
  s.kind = KindOf(c);
  s.rows = g.micros.size();
  s.values = s.rows;
  auto coded = [&](const std::vector<std::uint32_t>& codes,
                   const std::vector<std::string_view>& entries) {
    s.codes = codes.data();
    s.entries = entries.data();
    s.entry_count = entries.size();
  };
  auto optional = [&](std::size_t k, std::size_t values) {
    s.optional = true;
    s.def = g.def[k].data();
    s.values = values;
  };
  switch (c) {
    case ParquetColumn::kSeries: coded(g.series_codes, g.series_entries); break;
    case ParquetColumn::kType: coded(g.type_codes, g.type_entries); break;
    case ParquetColumn::kUnit: coded(g.unit_codes, g.unit_entries); break;
    case ParquetColumn::kTimestamp: s.i64 = g.micros.data(); break;
    case ParquetColumn::kTimestampNanos: s.i32 = g.nanos.data(); break;
    case ParquetColumn::kValueDouble:
      optional(0, g.doubles.size());
      s.f64 = g.doubles.data();
      break;
    case ParquetColumn::kValueInt:
      optional(1, g.ints.size());
      s.i64 = g.ints.data();
      break;
    case ParquetColumn::kValueBool:
      optional(2, g.bools.size());
      s.bools = g.bools.data();
      break;
    case ParquetColumn::kValueBytes:
      optional(3, g.bytes.size());
      s.bytes = g.bytes.data();
      s.truncate_bounds = true;
      break;
  }
  return s;
}

parquet::SchemaField FieldOf(ParquetColumn c) {
  parquet::SchemaField f;
  f.name = ParquetColumnName(c);
  switch (KindOf(c)) {
    case ValueKind::kInt64: f.type = parquet::PhysicalType::kInt64; break;
    case ValueKind::kInt32: f.type = parquet::PhysicalType::kInt32; break;
    case ValueKind::kDouble: f.type = parquet::PhysicalType::kDouble; break;
    case ValueKind::kBool: f.type = parquet::PhysicalType::kBoolean; break;
    case ValueKind::kBytes:
    case ValueKind::kCoded: f.type = parquet::PhysicalType::kByteArray; break;
  }
  f.optional = c == ParquetColumn::kValueDouble || c == ParquetColumn::kValueInt ||
               c == ParquetColumn::kValueBool || c == ParquetColumn::kValueBytes;
  if (KindOf(c) == ValueKind::kCoded) f.logical = parquet::LogicalType::kString;
  if (c == ParquetColumn::kTimestamp) f.logical = parquet::LogicalType::kTimestampMicrosUtc;
  return f;
}

}  // namespace

Status ParquetOptions::Validate() const {
  if (encodings != ParquetEncodingSet::kCompatible && encodings != ParquetEncodingSet::kCompact) {
    return InvalidArgument("unknown parquet encoding set");
  }
  if (zstd_level < 0 || zstd_level > 22) {
    return InvalidArgument("zstd_level " + std::to_string(zstd_level) + " outside [0, 22]");
  }
  if (max_row_group_rows < 1 || max_row_group_rows > kMaxI32) {
    return InvalidArgument("max_row_group_rows outside [1, 2^31-1]");
  }
  if (target_page_bytes < 1 || target_page_bytes > (std::uint64_t{1} << 30)) {
    return InvalidArgument("target_page_bytes outside [1, 2^30]");
  }
  if (max_page_rows < 1 || max_page_rows > kMaxI32) {
    return InvalidArgument("max_page_rows outside [1, 2^31-1]");
  }
  if (page_version != ParquetPageVersion::kV1 && page_version != ParquetPageVersion::kV2) {
    return InvalidArgument("unknown parquet page version");
  }
  if (max_dictionary_bytes > (std::uint64_t{1} << 30)) {
    return InvalidArgument("max_dictionary_bytes above 2^30");
  }
  for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
    if (!force_encoding[c]) continue;
    const auto column = static_cast<ParquetColumn>(c);
    const char* name = ParquetEncodingName(*force_encoding[c]);
    if (name == nullptr || !EncodingFits(KindOf(column), *force_encoding[c])) {
      return InvalidArgument(std::string("encoding ") + (name ? name : "?") +
                             " does not fit column " + ParquetColumnName(column));
    }
    if (*force_encoding[c] == ParquetEncoding::kRleDictionary && disable_dictionary) {
      return InvalidArgument(std::string("column ") + ParquetColumnName(column) +
                             " forced to RLE_DICTIONARY with dictionaries disabled");
    }
  }
  return Status::Ok();
}

Result<std::string> WriteParquet(const ParquetInput& input, const ParquetOptions& options) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  SLUICE_RETURN_IF_ERROR(CheckInput(input));

  std::uint64_t total_rows = 0;
  for (const ParquetSeries& s : input.series) total_rows += s.columns.timestamps.size();

  parquet::FileMeta meta;
  meta.num_rows = static_cast<std::int64_t>(total_rows);
  meta.created_by = SLUICE_PARQUET_CREATED_BY;
  for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
    meta.fields.push_back(FieldOf(static_cast<ParquetColumn>(c)));
  }
  const PartitionIdentity& id = input.identity;
  meta.key_value = {
      {"sluice.gateway", id.gateway_id},
      {"sluice.late", id.late ? "true" : "false"},
      {"sluice.parquet.schema_version", std::to_string(kParquetSchemaVersion)},
      {"sluice.series_count", std::to_string(input.series.size())},
      {"sluice.shard", std::to_string(id.shard)},
      {"sluice.site", id.site},
      {"sluice.window_length_ns", std::to_string(id.window_length_ns)},
      {"sluice.window_start_ns", std::to_string(id.window_start_ns)},
  };

  // Column chunks are kept apart and joined once at the end: appending each
  // to a growing file would copy the data again at every doubling.
  std::vector<std::string> pieces;
  std::size_t file_size = 4;  // "PAR1"
  std::vector<std::vector<EncodedChunk>> groups;  // for the page indexes
  ChunkEncoder encoder(options);
  RowGroupColumns g;
  struct Run {
    const ParquetSeries* series;
    std::size_t begin, n;
  };
  std::vector<Run> runs;
  std::size_t series = 0, offset = 0;  // next row: series index and row inside it
  while (series < input.series.size()) {
    runs.clear();
    std::uint64_t rows = 0;
    std::array<std::size_t, 4> typed{};
    while (series < input.series.size() && rows < options.max_row_group_rows) {
      const ParquetSeries& s = input.series[series];
      const std::size_t n = std::min<std::uint64_t>(s.columns.timestamps.size() - offset,
                                                    options.max_row_group_rows - rows);
      if (n > 0) {
        runs.push_back({&s, offset, n});
        typed[s.columns.values.index()] += n;
      }
      rows += n;
      offset += n;
      if (offset == s.columns.timestamps.size()) {
        ++series;
        offset = 0;
      }
    }
    if (rows == 0) break;  // only empty series left
    g.Reset(rows, typed);
    for (const Run& r : runs) AddRun(*r.series, r.begin, r.n, &g);

    parquet::RowGroupMeta rg;
    rg.num_rows = static_cast<std::int64_t>(rows);
    rg.ordinal = static_cast<std::int16_t>(meta.row_groups.size());
    rg.file_offset = static_cast<std::int64_t>(file_size);
    rg.sorting_columns = {{0, false, false}, {1, false, false}, {2, false, false}};
    std::vector<EncodedChunk> chunks;
    for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
      SLUICE_ASSIGN_OR_RETURN(auto chunk,
                              encoder.Encode(SliceOf(static_cast<ParquetColumn>(c), g)));
      EncodedChunk& e = chunk;
      const auto base = static_cast<std::int64_t>(file_size);
      e.meta.data_page_offset += base;
      if (e.meta.dictionary_page_offset) *e.meta.dictionary_page_offset += base;
      for (parquet::PageLocation& p : e.pages) p.offset += base;
      file_size += e.bytes.size();
      pieces.push_back(std::move(e.bytes));
      rg.total_byte_size += e.meta.total_uncompressed_size;
      rg.total_compressed_size += e.meta.total_compressed_size;
      chunks.push_back(std::move(e));
    }
    meta.row_groups.push_back(std::move(rg));
    groups.push_back(std::move(chunks));
  }
  std::string file;
  file.reserve(file_size + 4096);
  file.append("PAR1");
  for (std::string& piece : pieces) {
    file.append(piece);
    std::string().swap(piece);
  }
  if (meta.row_groups.size() > 0x7fff) {
    return InvalidArgument("more than 32767 row groups; raise max_row_group_rows");
  }

  // Page indexes: every column index, then every offset index; none for a
  // column chunk of one page, whose statistics and data_page_offset in the
  // footer already say all a page index would.
  for (std::size_t r = 0; r < groups.size(); ++r) {
    for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
      EncodedChunk& e = groups[r][c];
      if (!e.column_index || e.pages.size() < 2) continue;
      const std::size_t at = file.size();
      parquet::SerializeColumnIndex(*e.column_index, &file);
      e.meta.column_index_offset = static_cast<std::int64_t>(at);
      e.meta.column_index_length = static_cast<std::int32_t>(file.size() - at);
    }
  }
  for (std::size_t r = 0; r < groups.size(); ++r) {
    for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
      EncodedChunk& e = groups[r][c];
      if (e.pages.size() >= 2) {
        const std::size_t at = file.size();
        parquet::SerializeOffsetIndex(e.pages, &file);
        e.meta.offset_index_offset = static_cast<std::int64_t>(at);
        e.meta.offset_index_length = static_cast<std::int32_t>(file.size() - at);
      }
      meta.row_groups[r].columns.push_back(std::move(e.meta));
    }
  }

  const std::size_t footer_at = file.size();
  parquet::SerializeFileMeta(meta, &file);
  PutFixed32(file, static_cast<std::uint32_t>(file.size() - footer_at));
  file.append("PAR1");
  return file;
}

ParquetInputBuilder::ParquetInputBuilder(PartitionIdentity identity)
    : identity_(std::move(identity)) {}

Status ParquetInputBuilder::AddSeries(const store::SeriesInfo& info) {
  if (info.name.empty()) return InvalidArgument("series with an empty name");
  if (info.type < store::ValueType::kFloat64 || info.type > store::ValueType::kBytes) {
    return InvalidArgument("series '" + info.name + "': unknown value type");
  }
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(info.id.value, std::size_t{0}));
  if (it != by_id_.end() && it->first == info.id.value) {
    return InvalidArgument("series id " + std::to_string(info.id.value) + " added twice");
  }
  for (const Pending& p : series_) {
    if (p.info.name == info.name) return InvalidArgument("series '" + info.name + "' added twice");
  }
  by_id_.insert(it, {info.id.value, series_.size()});
  series_.push_back(Pending{info, {}});
  return Status::Ok();
}

Status ParquetInputBuilder::Append(const store::Record& record) {
  auto it = std::lower_bound(by_id_.begin(), by_id_.end(),
                             std::make_pair(record.series.value, std::size_t{0}));
  if (it == by_id_.end() || it->first != record.series.value) {
    return InvalidArgument("record for undeclared series " + std::to_string(record.series.value));
  }
  Pending& p = series_[it->second];
  if (store::TypeOf(record.value) != p.info.type) {
    return InvalidArgument("record of the wrong type for series '" + p.info.name + "'");
  }
  p.records.push_back(record);
  return Status::Ok();
}

ParquetInput ParquetInputBuilder::Finish() {
  std::sort(series_.begin(), series_.end(),
            [](const Pending& a, const Pending& b) { return a.info.name < b.info.name; });
  ParquetInput in;
  in.identity = identity_;
  for (Pending& p : series_) {
    std::stable_sort(p.records.begin(), p.records.end(),
                     [](const store::Record& a, const store::Record& b) {
                       return a.timestamp_ns < b.timestamp_ns;
                     });
    ParquetSeries s;
    s.name = p.info.name;
    s.unit = p.info.unit;
    s.columns.timestamps.reserve(p.records.size());
    for (const store::Record& r : p.records) s.columns.timestamps.push_back(r.timestamp_ns);
    switch (p.info.type) {
      case store::ValueType::kFloat64: {
        std::vector<double> v;
        for (const store::Record& r : p.records) v.push_back(std::get<double>(r.value));
        s.columns.values = std::move(v);
        break;
      }
      case store::ValueType::kInt64: {
        std::vector<std::int64_t> v;
        for (const store::Record& r : p.records) v.push_back(std::get<std::int64_t>(r.value));
        s.columns.values = std::move(v);
        break;
      }
      case store::ValueType::kBool: {
        std::vector<std::uint8_t> v;
        for (const store::Record& r : p.records) v.push_back(std::get<bool>(r.value) ? 1 : 0);
        s.columns.values = std::move(v);
        break;
      }
      case store::ValueType::kBytes: {
        std::vector<std::string> v;
        for (store::Record& r : p.records) v.push_back(std::move(std::get<std::string>(r.value)));
        s.columns.values = std::move(v);
        break;
      }
    }
    in.series.push_back(std::move(s));
  }
  series_.clear();
  by_id_.clear();
  return in;
}

}  // namespace sluice::sync
