#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "base/coding.h"
#include "base/crc32c.h"
#include "column_codec.h"
#include "partition_metadata.h"
#include "sync/partition.h"

namespace sluice::sync {

Status PartitionWriterOptions::Validate() const {
  if (zstd_level < 1 || zstd_level > 22) {
    return InvalidArgument("zstd_level " + std::to_string(zstd_level) + " outside [1, 22]");
  }
  if (selection != CodecSelection::kSmallestEncoded &&
      selection != CodecSelection::kSmallestCompressed) {
    return InvalidArgument("unknown codec selection");
  }
  if (revision != CodecRevision::k1 && revision != CodecRevision::k2 &&
      revision != CodecRevision::k3) {
    return InvalidArgument("unknown codec revision");
  }
  return Status::Ok();
}

namespace {

struct SeriesBuffer {
  store::SeriesInfo info;
  Tags tags;
  SeriesColumns columns;
};

std::size_t ColumnSize(const ValueColumn& c) {
  return std::visit([](const auto& v) { return v.size(); }, c);
}

SeriesStats ComputeStats(const SeriesColumns& c) {
  SeriesStats s;
  s.count = c.timestamps.size();
  if (!c.timestamps.empty()) {
    auto [lo, hi] = std::minmax_element(c.timestamps.begin(), c.timestamps.end());
    s.min_time_ns = *lo;
    s.max_time_ns = *hi;
  }
  if (const auto* f = std::get_if<std::vector<double>>(&c.values)) {
    for (double v : *f) {
      if (std::isnan(v)) {
        ++s.nan_count;
        continue;
      }
      // -0.0 and +0.0 compare equal; keep the first seen, as any is correct.
      if (!s.min_float || v < *s.min_float) s.min_float = v;
      if (!s.max_float || v > *s.max_float) s.max_float = v;
    }
  } else if (const auto* i = std::get_if<std::vector<std::int64_t>>(&c.values)) {
    if (!i->empty()) {
      auto [lo, hi] = std::minmax_element(i->begin(), i->end());
      s.min_int = *lo;
      s.max_int = *hi;
    }
  } else if (const auto* b = std::get_if<std::vector<std::uint8_t>>(&c.values)) {
    s.true_count = static_cast<std::uint64_t>(std::count(b->begin(), b->end(), 1));
  }
  return s;
}

// Strict UTF-8 (no overlongs, surrogates or code points above U+10FFFF), as
// protobuf requires of string fields: a reader would refuse anything else.
bool IsUtf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n;
    std::uint32_t cp;
    if (c < 0x80) { ++i; continue; }
    if (c >= 0xc2 && c <= 0xdf) { n = 1; cp = c & 0x1f; }
    else if (c >= 0xe0 && c <= 0xef) { n = 2; cp = c & 0x0f; }
    else if (c >= 0xf0 && c <= 0xf4) { n = 3; cp = c & 0x07; }
    else return false;
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

ChunkRef Place(codec::EncodedChunk chunk, std::string* object) {
  ChunkRef r;
  r.offset = object->size();
  r.length = chunk.stored.size();
  r.raw_length = chunk.raw_length;
  r.masked_crc = MaskCrc(Crc32c(chunk.stored.data(), chunk.stored.size()));
  r.codec = chunk.codec;
  r.compression = chunk.compression;
  object->append(chunk.stored);
  return r;
}

void PutHeader(std::string* out) {
  std::size_t at = out->size();
  PutFixed32(*out, kPartitionMagic);
  out->push_back(static_cast<char>(kPartitionFormatVersion & 0xff));
  out->push_back(static_cast<char>(kPartitionFormatVersion >> 8));
  out->append(2 + 4, '\0');  // flags, reserved
  PutFixed32(*out, MaskCrc(Crc32c(out->data() + at, 12)));
}

void PutFooter(std::string* out, std::uint64_t meta_offset, std::string_view meta,
               std::uint16_t flags) {
  std::size_t at = out->size();
  PutFixed64(*out, meta_offset);
  PutFixed32(*out, static_cast<std::uint32_t>(meta.size()));
  PutFixed32(*out, MaskCrc(Crc32c(meta.data(), meta.size())));
  out->push_back(static_cast<char>(kPartitionFormatVersion & 0xff));
  out->push_back(static_cast<char>(kPartitionFormatVersion >> 8));
  out->push_back(static_cast<char>(flags & 0xff));
  out->push_back(static_cast<char>(flags >> 8));
  out->append(4, '\0');  // reserved
  PutFixed32(*out, MaskCrc(Crc32c(out->data() + at, 24)));
  PutFixed32(*out, kPartitionMagic);
}

}  // namespace

struct PartitionWriter::Impl {
  PartitionIdentity identity;
  PartitionWriterOptions options;
  std::vector<SeriesBuffer> series;
  std::map<std::uint32_t, std::size_t> by_id;
  std::set<std::string> names;
};

PartitionWriter::PartitionWriter(PartitionIdentity identity, PartitionWriterOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->identity = std::move(identity);
  impl_->options = options;
}
PartitionWriter::~PartitionWriter() = default;
PartitionWriter::PartitionWriter(PartitionWriter&&) noexcept = default;
PartitionWriter& PartitionWriter::operator=(PartitionWriter&&) noexcept = default;

Status PartitionWriter::AddSeries(const store::SeriesInfo& info, Tags tags) {
  if (info.name.empty()) return InvalidArgument("series with an empty name");
  if (!IsUtf8(info.name) || !IsUtf8(info.unit)) {
    return InvalidArgument("series name or unit is not UTF-8");
  }
  for (const auto& [k, v] : tags) {
    if (!IsUtf8(k) || !IsUtf8(v))
      return InvalidArgument("series '" + info.name + "': tag not UTF-8");
  }
  if (info.type < store::ValueType::kFloat64 || info.type > store::ValueType::kBytes) {
    return InvalidArgument("series '" + info.name + "': unknown value type");
  }
  if (impl_->by_id.count(info.id.value) != 0 || impl_->names.count(info.name) != 0) {
    return InvalidArgument("series '" + info.name + "' (id " + std::to_string(info.id.value) +
                           ") added twice");
  }
  std::sort(tags.begin(), tags.end());
  for (std::size_t i = 1; i < tags.size(); ++i) {
    if (tags[i].first == tags[i - 1].first) {
      return InvalidArgument("series '" + info.name + "': duplicate tag key '" + tags[i].first +
                             "'");
    }
  }
  impl_->by_id[info.id.value] = impl_->series.size();
  impl_->names.insert(info.name);
  impl_->series.push_back(SeriesBuffer{info, std::move(tags), {{}, codec::EmptyColumn(info.type)}});
  return Status::Ok();
}

Status PartitionWriter::Append(const store::Record& record) {
  auto it = impl_->by_id.find(record.series.value);
  if (it == impl_->by_id.end()) {
    return InvalidArgument("record for undeclared series " + std::to_string(record.series.value));
  }
  SeriesBuffer& s = impl_->series[it->second];
  if (store::TypeOf(record.value) != s.info.type) {
    return InvalidArgument("record of type " + std::string(store::ValueTypeName(
                                                   store::TypeOf(record.value))) +
                           " for series '" + s.info.name + "' of type " +
                           store::ValueTypeName(s.info.type));
  }
  s.columns.timestamps.push_back(record.timestamp_ns);
  std::visit(
      [&](auto& col) {
        using T = typename std::decay_t<decltype(col)>::value_type;
        if constexpr (std::is_same_v<T, std::uint8_t>) {
          col.push_back(std::get<bool>(record.value) ? 1 : 0);
        } else {
          col.push_back(std::get<T>(record.value));
        }
      },
      s.columns.values);
  return Status::Ok();
}

Status PartitionWriter::AppendColumns(store::SeriesId series, const SeriesColumns& columns) {
  auto it = impl_->by_id.find(series.value);
  if (it == impl_->by_id.end()) {
    return InvalidArgument("columns for undeclared series " + std::to_string(series.value));
  }
  SeriesBuffer& s = impl_->series[it->second];
  if (columns.values.index() != s.columns.values.index()) {
    return InvalidArgument("columns of the wrong type for series '" + s.info.name + "'");
  }
  if (ColumnSize(columns.values) != columns.timestamps.size()) {
    return InvalidArgument("timestamps and values of different lengths for series '" +
                           s.info.name + "'");
  }
  auto& ts = s.columns.timestamps;
  ts.insert(ts.end(), columns.timestamps.begin(), columns.timestamps.end());
  std::visit(
      [&](auto& dst) {
        const auto& src = std::get<std::decay_t<decltype(dst)>>(columns.values);
        for (const auto& v : src) {
          // Bools are stored as 0/1 so that bitmaps are canonical.
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::uint8_t>) {
            dst.push_back(v != 0 ? 1 : 0);
          } else {
            dst.push_back(v);
          }
        }
      },
      s.columns.values);
  return Status::Ok();
}

Result<std::string> PartitionWriter::Finish() {
  SLUICE_RETURN_IF_ERROR(impl_->options.Validate());
  if (!IsUtf8(impl_->identity.gateway_id) || !IsUtf8(impl_->identity.site)) {
    return InvalidArgument("gateway id or site is not UTF-8");
  }
  const PartitionWriterOptions& opt = impl_->options;
  std::unique_ptr<codec::ChunkCompressor> compressor;
  if (opt.compress) compressor = std::make_unique<codec::ChunkCompressor>(opt.zstd_level);

  PartitionMetadata meta;
  meta.identity = impl_->identity;
  meta.zstd_level = opt.compress ? opt.zstd_level : 0;
  std::string object;
  PutHeader(&object);
  bool any = false;
  std::vector<std::pair<const std::vector<std::int64_t>*, ChunkRef>> clocks;
  for (SeriesBuffer& b : impl_->series) {
    SeriesEntry e;
    e.info = b.info;
    e.tags = b.tags;
    e.stats = ComputeStats(b.columns);
    // Series sampled together share one clock: store it once and point every
    // such series at the same chunk.
    auto same = std::find_if(clocks.begin(), clocks.end(), [&](const auto& c) {
      return *c.first == b.columns.timestamps;
    });
    if (same != clocks.end()) {
      e.timestamps = same->second;
    } else {
      e.timestamps = Place(
          codec::ChooseChunk(codec::TimestampCandidates(b.columns.timestamps, opt.revision),
                             opt.selection, compressor.get()),
          &object);
      clocks.emplace_back(&b.columns.timestamps, e.timestamps);
    }
    const bool all_packings =
        opt.compress && opt.selection == CodecSelection::kSmallestCompressed;
    e.values = Place(codec::ChooseChunk(codec::ValueCandidates(b.columns.values, all_packings,
                                                               opt.revision),
                                        opt.selection, compressor.get()),
                     &object);
    if (e.stats.count > 0) {
      meta.min_time_ns =
          any ? std::min(meta.min_time_ns, e.stats.min_time_ns) : e.stats.min_time_ns;
      meta.max_time_ns =
          any ? std::max(meta.max_time_ns, e.stats.max_time_ns) : e.stats.max_time_ns;
      any = true;
    }
    meta.record_count += e.stats.count;
    meta.series.push_back(std::move(e));
  }
  std::string meta_bytes = SerializeMetadata(meta);
  if (meta_bytes.size() > kMaxMetadataBytes) {
    return InvalidArgument("partition metadata above " + std::to_string(kMaxMetadataBytes) +
                           " bytes");
  }
  // Names, shared clocks and time ranges repeat across series: zstd takes
  // about a third off, which matters for small partitions.
  std::uint16_t footer_flags = 0;
  if (compressor && opt.revision != CodecRevision::k1) {
    std::string z = compressor->Compress(meta_bytes);
    if (z.size() < meta_bytes.size()) {
      meta_bytes = std::move(z);
      footer_flags = kFooterFlagMetadataZstd;
    }
  }
  std::uint64_t meta_offset = object.size();
  object.append(meta_bytes);
  PutFooter(&object, meta_offset, meta_bytes, footer_flags);
  impl_->series.clear();
  impl_->by_id.clear();
  impl_->names.clear();
  return object;
}

}  // namespace sluice::sync
