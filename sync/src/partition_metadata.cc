#include "partition_metadata.h"

#include <algorithm>
#include <set>
#include <utility>

#include "column_codec.h"
#include "partition.pb.h"

namespace sluice::sync {
namespace pb = ::sluice::proto::partition;

// The proto enums mirror the C++ ones value for value.
static_assert(pb::CHUNK_CODEC_TIMESTAMP_DELTA_OF_DELTA ==
              static_cast<int>(ChunkCodec::kTimestampDeltaOfDelta));
static_assert(pb::CHUNK_CODEC_TIMESTAMP_SCALED_DELTA_OF_DELTA ==
              static_cast<int>(ChunkCodec::kTimestampScaledDeltaOfDelta));
static_assert(pb::CHUNK_CODEC_FLOAT_RAW == static_cast<int>(ChunkCodec::kFloatRaw));
static_assert(pb::CHUNK_CODEC_FLOAT_XOR == static_cast<int>(ChunkCodec::kFloatXor));
static_assert(pb::CHUNK_CODEC_FLOAT_DECIMAL == static_cast<int>(ChunkCodec::kFloatDecimal));
static_assert(pb::CHUNK_CODEC_FLOAT_DECIMAL_DIGITS ==
              static_cast<int>(ChunkCodec::kFloatDecimalDigits));
static_assert(pb::CHUNK_CODEC_FLOAT_DECIMAL_DIGITS_32 ==
              static_cast<int>(ChunkCodec::kFloatDecimalDigits32));
static_assert(pb::CHUNK_CODEC_FLOAT_DICTIONARY == static_cast<int>(ChunkCodec::kFloatDictionary));
static_assert(pb::CHUNK_CODEC_INT_PACKED == static_cast<int>(ChunkCodec::kIntPacked));
static_assert(pb::CHUNK_CODEC_BOOL_BITMAP == static_cast<int>(ChunkCodec::kBoolBitmap));
static_assert(pb::CHUNK_CODEC_BYTES_LENGTH_PREFIXED ==
              static_cast<int>(ChunkCodec::kBytesLengthPrefixed));
static_assert(pb::CHUNK_COMPRESSION_NONE == static_cast<int>(ChunkCompression::kNone));
static_assert(pb::CHUNK_COMPRESSION_ZSTD == static_cast<int>(ChunkCompression::kZstd));
static_assert(pb::VALUE_TYPE_FLOAT64 == static_cast<int>(store::ValueType::kFloat64));
static_assert(pb::VALUE_TYPE_INT64 == static_cast<int>(store::ValueType::kInt64));
static_assert(pb::VALUE_TYPE_BOOL == static_cast<int>(store::ValueType::kBool));
static_assert(pb::VALUE_TYPE_BYTES == static_cast<int>(store::ValueType::kBytes));

namespace {

void ToProto(const ChunkRef& c, pb::Chunk* p) {
  p->set_offset(c.offset);
  p->set_length(c.length);
  p->set_raw_length(c.raw_length);
  p->set_crc32c(c.masked_crc);
  p->set_codec(static_cast<pb::ChunkCodec>(c.codec));
  p->set_compression(static_cast<pb::ChunkCompression>(c.compression));
}

void ToProto(const SeriesStats& s, pb::SeriesStats* p) {
  p->set_count(s.count);
  p->set_min_time_ns(s.min_time_ns);
  p->set_max_time_ns(s.max_time_ns);
  if (s.min_float) p->set_min_float(*s.min_float);
  if (s.max_float) p->set_max_float(*s.max_float);
  p->set_nan_count(s.nan_count);
  if (s.min_int) p->set_min_int(*s.min_int);
  if (s.max_int) p->set_max_int(*s.max_int);
  p->set_true_count(s.true_count);
}

bool KnownCodec(int c) {
  switch (static_cast<ChunkCodec>(c)) {
    case ChunkCodec::kTimestampDeltaOfDelta:
    case ChunkCodec::kTimestampScaledDeltaOfDelta:
    case ChunkCodec::kFloatRaw:
    case ChunkCodec::kFloatXor:
    case ChunkCodec::kFloatDecimal:
    case ChunkCodec::kFloatDecimalDigits:
    case ChunkCodec::kFloatDecimalDigits32:
    case ChunkCodec::kFloatDictionary:
    case ChunkCodec::kIntPacked:
    case ChunkCodec::kBoolBitmap:
    case ChunkCodec::kBytesLengthPrefixed:
      return true;
  }
  return false;
}

Result<ChunkRef> FromProto(const pb::Chunk& p, std::uint64_t chunk_end, std::uint64_t max_raw) {
  if (!KnownCodec(p.codec())) return Corruption("unknown chunk codec " + std::to_string(p.codec()));
  if (p.compression() != pb::CHUNK_COMPRESSION_NONE &&
      p.compression() != pb::CHUNK_COMPRESSION_ZSTD) {
    return Corruption("unknown chunk compression " + std::to_string(p.compression()));
  }
  if (p.offset() < kPartitionHeaderSize || p.offset() > chunk_end ||
      p.length() > chunk_end - p.offset()) {
    return Corruption("chunk at offset " + std::to_string(p.offset()) + " length " +
                      std::to_string(p.length()) + " outside the chunk area");
  }
  if (p.raw_length() > max_raw) return Corruption("chunk raw_length above the reader's limit");
  if (p.compression() == pb::CHUNK_COMPRESSION_NONE && p.raw_length() != p.length()) {
    return Corruption("uncompressed chunk with raw_length != length");
  }
  ChunkRef c;
  c.offset = p.offset();
  c.length = p.length();
  c.raw_length = p.raw_length();
  c.masked_crc = p.crc32c();
  c.codec = static_cast<ChunkCodec>(p.codec());
  c.compression = static_cast<ChunkCompression>(p.compression());
  return c;
}

SeriesStats FromProto(const pb::SeriesStats& p) {
  SeriesStats s;
  s.count = p.count();
  s.min_time_ns = p.min_time_ns();
  s.max_time_ns = p.max_time_ns();
  if (p.has_min_float()) s.min_float = p.min_float();
  if (p.has_max_float()) s.max_float = p.max_float();
  s.nan_count = p.nan_count();
  if (p.has_min_int()) s.min_int = p.min_int();
  if (p.has_max_int()) s.max_int = p.max_int();
  s.true_count = p.true_count();
  return s;
}

}  // namespace

std::string SerializeMetadata(const PartitionMetadata& meta) {
  pb::PartitionMetadata p;
  p.set_format_version(meta.format_version);
  p.set_gateway_id(meta.identity.gateway_id);
  p.set_site(meta.identity.site);
  p.set_window_start_ns(meta.identity.window_start_ns);
  p.set_window_length_ns(meta.identity.window_length_ns);
  p.set_shard(meta.identity.shard);
  p.set_late(meta.identity.late);
  p.set_min_time_ns(meta.min_time_ns);
  p.set_max_time_ns(meta.max_time_ns);
  p.set_record_count(meta.record_count);
  p.set_zstd_level(meta.zstd_level);
  for (const SeriesEntry& s : meta.series) {
    pb::Series* ps = p.add_series();
    ps->set_series_id(s.info.id.value);
    ps->set_name(s.info.name);
    ps->set_type(static_cast<pb::ValueType>(s.info.type));
    ps->set_unit(s.info.unit);
    for (const auto& [k, v] : s.tags) {
      pb::Tag* t = ps->add_tags();
      t->set_key(k);
      t->set_value(v);
    }
    ToProto(s.stats, ps->mutable_stats());
    ToProto(s.timestamps, ps->mutable_timestamps());
    ToProto(s.values, ps->mutable_values());
  }
  // No map fields, so the encoding is deterministic.
  std::string out;
  SLUICE_CHECK(p.SerializeToString(&out));
  return out;
}

Result<PartitionMetadata> ParseMetadata(std::string_view bytes, std::uint64_t chunk_end,
                                        std::uint64_t max_chunk_bytes) {
  pb::PartitionMetadata p;
  if (!p.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Corruption("metadata is not a valid PartitionMetadata message");
  }
  if (p.format_version() != kPartitionFormatVersion) {
    return Corruption("metadata format_version " + std::to_string(p.format_version()));
  }
  PartitionMetadata m;
  m.format_version = p.format_version();
  m.identity.gateway_id = p.gateway_id();
  m.identity.site = p.site();
  m.identity.window_start_ns = p.window_start_ns();
  m.identity.window_length_ns = p.window_length_ns();
  m.identity.shard = p.shard();
  m.identity.late = p.late();
  m.min_time_ns = p.min_time_ns();
  m.max_time_ns = p.max_time_ns();
  m.record_count = p.record_count();
  m.zstd_level = p.zstd_level();
  std::set<std::uint32_t> ids;
  std::set<std::string> names;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> extents;
  std::uint64_t total = 0;
  m.series.reserve(static_cast<std::size_t>(p.series_size()));
  for (const pb::Series& ps : p.series()) {
    std::string where = "series '" + ps.name() + "' (id " + std::to_string(ps.series_id()) + ")";
    if (ps.type() < pb::VALUE_TYPE_FLOAT64 || ps.type() > pb::VALUE_TYPE_BYTES) {
      return Corruption(where + ": unknown value type");
    }
    if (!ids.insert(ps.series_id()).second || !names.insert(ps.name()).second) {
      return Corruption(where + ": duplicate series id or name");
    }
    SeriesEntry s;
    s.info.id = store::SeriesId{ps.series_id()};
    s.info.name = ps.name();
    s.info.type = static_cast<store::ValueType>(ps.type());
    s.info.unit = ps.unit();
    for (const pb::Tag& t : ps.tags()) s.tags.emplace_back(t.key(), t.value());
    s.stats = FromProto(ps.stats());
    auto ts = FromProto(ps.timestamps(), chunk_end, max_chunk_bytes);
    if (!ts.ok()) return ts.status().WithContext(where + " timestamps");
    auto vs = FromProto(ps.values(), chunk_end, max_chunk_bytes);
    if (!vs.ok()) return vs.status().WithContext(where + " values");
    if (!codec::IsTimestampCodec(ts->codec)) {
      return Corruption(where + ": timestamps chunk has a values codec");
    }
    if (!codec::CodecFitsType(vs->codec, s.info.type)) {
      return Corruption(where + ": values codec does not fit the type");
    }
    s.timestamps = *ts;
    s.values = *vs;
    extents.emplace_back(s.timestamps.offset, s.timestamps.length);
    extents.emplace_back(s.values.offset, s.values.length);
    total += s.stats.count;
    m.series.push_back(std::move(s));
  }
  if (total != m.record_count) return Corruption("record_count differs from the series counts");
  std::sort(extents.begin(), extents.end());
  for (std::size_t i = 1; i < extents.size(); ++i) {
    if (extents[i - 1] == extents[i]) continue;  // a shared chunk (one clock, many series)
    if (extents[i - 1].first + extents[i - 1].second > extents[i].first) {
      return Corruption("chunks overlap at offset " + std::to_string(extents[i].first));
    }
  }
  return m;
}

}  // namespace sluice::sync
