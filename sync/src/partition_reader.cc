#include <algorithm>

#include "base/coding.h"
#include "base/crc32c.h"
#include "chunk_compression.h"
#include "column_codec.h"
#include "int_codec.h"
#include "partition_metadata.h"
#include "sync/partition.h"

namespace sluice::sync {
namespace {

std::uint16_t Load16(const char* p) {
  return static_cast<std::uint16_t>(static_cast<std::uint8_t>(p[0]) |
                                    (static_cast<std::uint8_t>(p[1]) << 8));
}

std::string Where(const SeriesEntry& s, const char* what, std::uint64_t offset) {
  return "series '" + s.info.name + "' (id " + std::to_string(s.info.id.value) + ") " + what +
         " chunk at offset " + std::to_string(offset);
}

}  // namespace

Result<PartitionReader> PartitionReader::Open(std::string bytes, PartitionReaderOptions options) {
  if (bytes.size() < kPartitionHeaderSize + kPartitionFooterSize) {
    return Corruption("partition object of " + std::to_string(bytes.size()) +
                      " bytes is shorter than header and footer");
  }
  const char* h = bytes.data();
  if (LoadFixed32(h) != kPartitionMagic) return Corruption("header: bad magic");
  if (UnmaskCrc(LoadFixed32(h + 12)) != Crc32c(h, 12)) {
    return Corruption("header at offset 0: bad CRC");
  }
  if (Load16(h + 4) != kPartitionFormatVersion) {
    return Corruption("header: unsupported version " + std::to_string(Load16(h + 4)));
  }
  if (Load16(h + 6) != 0) return Corruption("header: unknown flags");

  const std::size_t footer_at = bytes.size() - kPartitionFooterSize;
  const char* f = bytes.data() + footer_at;
  if (LoadFixed32(f + 28) != kPartitionMagic) {
    return Corruption("footer at offset " + std::to_string(footer_at) + ": bad magic (truncated?)");
  }
  if (UnmaskCrc(LoadFixed32(f + 24)) != Crc32c(f, 24)) {
    return Corruption("footer at offset " + std::to_string(footer_at) + ": bad CRC");
  }
  const std::uint16_t footer_flags = Load16(f + 18);
  if (Load16(f + 16) != kPartitionFormatVersion || (footer_flags & ~kFooterFlagMetadataZstd) != 0) {
    return Corruption("footer: unsupported version or flags");
  }
  const std::uint64_t meta_offset = LoadFixed64(f);
  const std::uint32_t meta_len = LoadFixed32(f + 8);
  if (meta_offset < kPartitionHeaderSize || meta_offset > footer_at ||
      meta_len != footer_at - meta_offset) {
    return Corruption("footer: metadata at offset " + std::to_string(meta_offset) + " length " +
                      std::to_string(meta_len) + " does not end at the footer");
  }
  std::string_view meta_bytes(bytes.data() + meta_offset, meta_len);
  if (UnmaskCrc(LoadFixed32(f + 12)) !=
      Crc32c(meta_bytes.data(), meta_bytes.size())) {
    return Corruption("metadata at offset " + std::to_string(meta_offset) + ": bad CRC");
  }
  std::string inflated;
  if ((footer_flags & kFooterFlagMetadataZstd) != 0) {
    auto raw = codec::DecompressFrame(meta_bytes, kMaxMetadataBytes);
    if (!raw.ok()) {
      return raw.status().WithContext("metadata at offset " + std::to_string(meta_offset));
    }
    inflated = std::move(raw).value();
    meta_bytes = inflated;
  }
  auto meta = ParseMetadata(meta_bytes, meta_offset, options.max_chunk_bytes);
  if (!meta.ok())
    return meta.status().WithContext("metadata at offset " + std::to_string(meta_offset));
  return PartitionReader(std::move(bytes), std::move(meta).value(), options);
}

Result<PartitionReader> PartitionReader::OpenFile(store::Env& env, const std::string& path,
                                                  PartitionReaderOptions options) {
  store::FileOptions fo;
  fo.read_only = true;
  SLUICE_ASSIGN_OR_RETURN(auto file, env.OpenFile(path, fo));
  SLUICE_ASSIGN_OR_RETURN(auto size, file->Size());
  std::string bytes(size, '\0');
  SLUICE_ASSIGN_OR_RETURN(
      auto n, file->Read(0, std::as_writable_bytes(std::span<char>(bytes.data(), bytes.size()))));
  if (n != bytes.size()) return IoError(path + ": short read");
  auto r = Open(std::move(bytes), options);
  if (!r.ok()) return r.status().WithContext(path);
  return r;
}

Result<std::size_t> PartitionReader::FindSeries(std::string_view name) const {
  for (std::size_t i = 0; i < meta_.series.size(); ++i) {
    if (meta_.series[i].info.name == name) return i;
  }
  return NotFound("no series '" + std::string(name) + "' in the partition");
}

bool PartitionReader::ChunkCrcMatches(const ChunkRef& c) const {
  return UnmaskCrc(c.masked_crc) == Crc32c(bytes_.data() + c.offset, c.length);
}

Result<std::string> PartitionReader::LoadChunk(const SeriesEntry& s, const ChunkRef& c,
                                               const char* what) const {
  if (!ChunkCrcMatches(c)) return Corruption(Where(s, what, c.offset) + ": bad CRC");
  std::string_view stored(bytes_.data() + c.offset, c.length);  // bounds checked at Open
  if (c.compression == ChunkCompression::kNone) return std::string(stored);
  auto raw = codec::DecompressChunk(stored, c.raw_length);
  if (!raw.ok()) return raw.status().WithContext(Where(s, what, c.offset));
  return raw;
}

Result<SeriesColumns> PartitionReader::ReadColumns(std::size_t index, TimeRange range) const {
  if (index >= meta_.series.size()) return InvalidArgument("series index out of range");
  const SeriesEntry& s = meta_.series[index];
  SeriesColumns out;
  const std::size_t count = s.stats.count;
  if (count > 0 && !range.Overlaps(s.stats.min_time_ns, s.stats.max_time_ns)) {
    // Nothing to decode, but damage is still reported rather than hidden.
    for (const auto& [c, what] : {std::pair{&s.timestamps, "timestamps"}, {&s.values, "values"}}) {
      if (!ChunkCrcMatches(*c)) return Corruption(Where(s, what, c->offset) + ": bad CRC");
    }
    out.values = codec::EmptyColumn(s.info.type);
    return out;
  }
  SLUICE_ASSIGN_OR_RETURN(auto t, LoadChunk(s, s.timestamps, "timestamps"));
  Status st = codec::DecodeTimestampColumn(s.timestamps.codec, t, count, &out.timestamps);
  if (!st.ok()) return st.WithContext(Where(s, "timestamps", s.timestamps.offset));
  SLUICE_ASSIGN_OR_RETURN(auto v, LoadChunk(s, s.values, "values"));
  st = codec::DecodeValues(s.values.codec, s.info.type, v, count, &out.values);
  if (!st.ok()) return st.WithContext(Where(s, "values", s.values.offset));
  if (range.min_ns == TimeRange{}.min_ns && range.max_ns == TimeRange{}.max_ns) return out;

  // Filter in place, keeping write order.
  std::vector<std::int64_t>& ts = out.timestamps;
  std::visit(
      [&](auto& col) {
        std::size_t w = 0;
        for (std::size_t r = 0; r < ts.size(); ++r) {
          if (!range.Contains(ts[r])) continue;
          ts[w] = ts[r];
          col[w] = std::move(col[r]);
          ++w;
        }
        ts.resize(w);
        col.resize(w);
      },
      out.values);
  return out;
}

Result<std::vector<store::Record>> PartitionReader::ReadRecords(std::size_t index,
                                                                TimeRange range) const {
  SLUICE_ASSIGN_OR_RETURN(auto cols, ReadColumns(index, range));
  const store::SeriesId id = meta_.series[index].info.id;
  std::vector<store::Record> out;
  out.reserve(cols.timestamps.size());
  std::visit(
      [&](auto& col) {
        for (std::size_t i = 0; i < col.size(); ++i) {
          store::Record r;
          r.series = id;
          r.timestamp_ns = cols.timestamps[i];
          using T = typename std::decay_t<decltype(col)>::value_type;
          if constexpr (std::is_same_v<T, std::uint8_t>) {
            r.value = col[i] != 0;
          } else {
            r.value = std::move(col[i]);
          }
          out.push_back(std::move(r));
        }
      },
      cols.values);
  return out;
}

Status PartitionReader::VerifyChecksums() const {
  for (const SeriesEntry& s : meta_.series) {
    for (const auto& [c, what] : {std::pair{&s.timestamps, "timestamps"}, {&s.values, "values"}}) {
      if (!ChunkCrcMatches(*c)) return Corruption(Where(s, what, c->offset) + ": bad CRC");
    }
  }
  return Status::Ok();
}

}  // namespace sluice::sync
