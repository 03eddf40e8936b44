#include "block_format.h"

#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"

namespace sluice::store {
namespace {

std::uint64_t Bits(const Value& v) {
  switch (v.index()) {
    case 0: {
      std::uint64_t b;
      std::memcpy(&b, &std::get<double>(v), 8);
      return b;
    }
    case 1: return static_cast<std::uint64_t>(std::get<std::int64_t>(v));
    default: return 0;
  }
}

std::uint32_t HeaderCrc(std::string_view fixed76, std::string_view directory) {
  return Crc32cExtend(Crc32c(fixed76.data(), fixed76.size()), directory.data(), directory.size());
}

}  // namespace

void BlockBuilder::Add(const Record& r, ValueType type, std::uint64_t seq) {
  const auto [at, added] =
      index_.try_emplace(r.series.value, static_cast<std::uint32_t>(chunks_.size()));
  if (added) {
    chunks_.emplace_back(r.series, Chunk{});
    chunks_.back().second.type = type;
  }
  Chunk& c = chunks_[at->second].second;
  const std::size_t before = c.ts.size() + c.values.size();
  // Wrapping arithmetic: any sequence of int64 timestamps round-trips.
  const std::uint64_t delta =
      static_cast<std::uint64_t>(r.timestamp_ns) - static_cast<std::uint64_t>(c.prev_ts);
  const std::uint64_t dod = delta - static_cast<std::uint64_t>(c.prev_delta);
  PutVarint64(c.ts, ZigZag(static_cast<std::int64_t>(dod)));
  c.prev_ts = r.timestamp_ns;
  c.prev_delta = static_cast<std::int64_t>(delta);
  switch (type) {
    case ValueType::kFloat64: {
      const std::uint64_t bits = Bits(r.value);
      PutVarint64(c.values, bits ^ c.prev_bits);
      c.prev_bits = bits;
      break;
    }
    case ValueType::kInt64: {
      const std::uint64_t v = Bits(r.value);
      PutVarint64(c.values, ZigZag(static_cast<std::int64_t>(v - c.prev_bits)));
      c.prev_bits = v;
      break;
    }
    case ValueType::kBool:
      if (c.count % 8 == 0) c.values.push_back(0);
      if (std::get<bool>(r.value)) {
        c.values.back() = static_cast<char>(c.values.back() | (1 << (c.count % 8)));
      }
      break;
    case ValueType::kBytes: {
      const auto& s = std::get<std::string>(r.value);
      PutVarint64(c.values, s.size());
      c.values += s;
      break;
    }
  }
  ++c.count;
  c.t_min = std::min(c.t_min, r.timestamp_ns);
  c.t_max = std::max(c.t_max, r.timestamp_ns);
  body_bytes_ += c.ts.size() + c.values.size() - before;
  ++records_;
  t_min_ = std::min(t_min_, r.timestamp_ns);
  t_max_ = std::max(t_max_, r.timestamp_ns);
  seq_min_ = std::min(seq_min_, seq);
  seq_max_ = std::max(seq_max_, seq);
}

std::size_t BlockBuilder::EncodedSize() const {
  return kBlockHeaderBytes + kBlockDirEntryBytes * chunks_.size() + body_bytes_;
}

std::vector<std::uint32_t> BlockBuilder::SortedOrder() const {
  std::vector<std::uint32_t> order(chunks_.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](std::uint32_t a, std::uint32_t b) {
    return chunks_[a].first < chunks_[b].first;
  });
  return order;
}

std::string BlockBuilder::Finish() const {
  std::string dir, body;
  body.reserve(body_bytes_);
  for (const std::uint32_t i : SortedOrder()) {
    const auto& [id, c] = chunks_[i];
    const std::size_t offset = body.size();
    body += c.ts;
    body += c.values;
    PutFixed32(dir, id.value);
    PutFixed32(dir, c.count);
    PutFixed64(dir, static_cast<std::uint64_t>(c.t_min));
    PutFixed64(dir, static_cast<std::uint64_t>(c.t_max));
    PutFixed32(dir, static_cast<std::uint32_t>(offset));
    PutFixed32(dir, static_cast<std::uint32_t>(body.size() - offset));
    dir.push_back(static_cast<char>(c.type));
    dir.append(7, '\0');
  }
  std::string out;
  out.reserve(PaddedBlockSize(kBlockHeaderBytes + dir.size() + body.size()));
  PutFixed32(out, kBlockMagic);
  PutFixed16(out, kBlockVersion);
  out.push_back(partition_.late ? 1 : 0);
  out.push_back(0);
  PutFixed32(out, static_cast<std::uint32_t>(kBlockHeaderBytes + dir.size()));
  PutFixed32(out, static_cast<std::uint32_t>(body.size()));
  PutFixed64(out, static_cast<std::uint64_t>(partition_.window_start_ns));
  PutFixed32(out, partition_.shard);
  PutFixed32(out, static_cast<std::uint32_t>(chunks_.size()));
  PutFixed64(out, static_cast<std::uint64_t>(t_min_));
  PutFixed64(out, static_cast<std::uint64_t>(t_max_));
  PutFixed64(out, seq_min_);
  PutFixed64(out, seq_max_);
  PutFixed32(out, records_);
  PutFixed32(out, MaskCrc(Crc32c(body.data(), body.size())));
  PutFixed32(out, 0);
  PutFixed32(out, MaskCrc(HeaderCrc(out, dir)));
  out += dir;
  out += body;
  out.resize(PaddedBlockSize(out.size()), '\0');
  return out;
}

std::vector<SeriesId> BlockBuilder::Series() const {
  std::vector<SeriesId> out;
  out.reserve(chunks_.size());
  for (const std::uint32_t i : SortedOrder()) out.push_back(chunks_[i].first);
  return out;
}

std::vector<Record> BlockBuilder::Read(SeriesId series) const {
  const auto at = index_.find(series.value);
  if (at == index_.end()) return {};
  const Chunk& c = chunks_[at->second].second;
  const std::string body = c.ts + c.values;
  BlockSeriesEntry e{series, c.type, c.count, c.t_min, c.t_max, 0,
                     static_cast<std::uint32_t>(body.size())};
  auto records = DecodeSeriesChunk(body, e);
  SLUICE_CHECK(records.ok());  // our own encoding, just made
  return std::move(*records);
}

Result<BlockHeader> ParseBlockHeader(std::string_view bytes, std::size_t& need) {
  need = 0;
  if (bytes.size() < kBlockHeaderBytes) {
    need = kBlockHeaderBytes;
    return Unavailable("short block header");
  }
  ByteReader in(bytes);
  std::uint32_t magic = 0, header_len = 0, body_len = 0, shard = 0, count = 0, records = 0,
                body_crc = 0, reserved = 0, header_crc = 0;
  std::uint64_t window = 0, t_min = 0, t_max = 0, seq_min = 0, seq_max = 0;
  std::uint8_t v0 = 0, v1 = 0, late = 0, pad = 0;
  in.GetFixed32(magic);
  in.GetByte(v0);
  in.GetByte(v1);
  in.GetByte(late);
  in.GetByte(pad);
  in.GetFixed32(header_len);
  in.GetFixed32(body_len);
  in.GetFixed64(window);
  in.GetFixed32(shard);
  in.GetFixed32(count);
  in.GetFixed64(t_min);
  in.GetFixed64(t_max);
  in.GetFixed64(seq_min);
  in.GetFixed64(seq_max);
  in.GetFixed32(records);
  in.GetFixed32(body_crc);
  in.GetFixed32(reserved);
  in.GetFixed32(header_crc);
  if (magic != kBlockMagic) return Corruption("block: bad magic");
  const std::uint16_t version = static_cast<std::uint16_t>(v0 | (v1 << 8));
  if (version != kBlockVersion) {
    return Corruption("block: unsupported version " + std::to_string(version));
  }
  if (count > (64u << 20) / kBlockDirEntryBytes ||
      header_len != kBlockHeaderBytes + std::uint64_t{count} * kBlockDirEntryBytes) {
    return Corruption("block: header length does not match its series count");
  }
  if (bytes.size() < header_len) {
    need = header_len;
    return Unavailable("short block directory");
  }
  const std::string_view dir = bytes.substr(kBlockHeaderBytes, header_len - kBlockHeaderBytes);
  if (UnmaskCrc(header_crc) != HeaderCrc(bytes.substr(0, 76), dir)) {
    return Corruption("block: header CRC mismatch");
  }
  if (late > 1 || pad != 0) return Corruption("block: bad partition kind");

  BlockHeader h;
  h.partition = {static_cast<std::int64_t>(window), shard, late == 1};
  h.t_min = static_cast<std::int64_t>(t_min);
  h.t_max = static_cast<std::int64_t>(t_max);
  h.seq_min = seq_min;
  h.seq_max = seq_max;
  h.records = records;
  h.header_len = header_len;
  h.body_len = body_len;
  h.body_crc = UnmaskCrc(body_crc);
  ByteReader d(dir);
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    BlockSeriesEntry e;
    std::uint32_t id = 0;
    std::uint64_t a = 0, b = 0;
    std::uint8_t type = 0;
    std::string_view zeros;
    d.GetFixed32(id);
    d.GetFixed32(e.count);
    d.GetFixed64(a);
    d.GetFixed64(b);
    d.GetFixed32(e.offset);
    d.GetFixed32(e.length);
    d.GetByte(type);
    d.GetBytes(7, zeros);
    e.series = SeriesId{id};
    e.t_min = static_cast<std::int64_t>(a);
    e.t_max = static_cast<std::int64_t>(b);
    if (type < 1 || type > 4) return Corruption("block: directory entry with unknown type");
    e.type = static_cast<ValueType>(type);
    if (std::uint64_t{e.offset} + e.length > body_len || e.offset != total) {
      return Corruption("block: directory entry outside the body");
    }
    total += e.length;
    if (!h.series.empty() && !(h.series.back().series < e.series)) {
      return Corruption("block: directory not in ascending series order");
    }
    h.series.push_back(e);
  }
  if (total != body_len) return Corruption("block: directory does not cover the body");
  return h;
}

Status VerifyBlockBody(std::string_view body, const BlockHeader& header) {
  if (body.size() != header.body_len) return Corruption("block: body length mismatch");
  if (Crc32c(body.data(), body.size()) != header.body_crc) {
    return Corruption("block: body CRC mismatch");
  }
  return Status::Ok();
}

Result<std::vector<Record>> DecodeSeriesChunk(std::string_view body, const BlockSeriesEntry& e) {
  if (std::uint64_t{e.offset} + e.length > body.size()) {
    return Corruption("block: chunk outside the body");
  }
  ByteReader in(body.substr(e.offset, e.length));
  // Each record takes at least one byte of timestamp.
  if (e.count > e.length) return Corruption("block: chunk count exceeds its bytes");
  std::vector<Record> out(e.count);
  std::uint64_t prev = 0, prev_delta = 0;
  for (auto& r : out) {
    std::uint64_t z = 0;
    if (!in.GetVarint64(z)) return Corruption("block: truncated timestamps");
    prev_delta += static_cast<std::uint64_t>(UnZigZag(z));
    prev += prev_delta;
    r.series = e.series;
    r.timestamp_ns = static_cast<std::int64_t>(prev);
  }
  std::uint64_t prev_bits = 0;
  std::uint8_t bool_byte = 0;
  for (std::uint32_t i = 0; i < e.count; ++i) {
    Record& r = out[i];
    switch (e.type) {
      case ValueType::kFloat64: {
        std::uint64_t x = 0;
        if (!in.GetVarint64(x)) return Corruption("block: truncated float64 values");
        prev_bits ^= x;
        double d;
        std::memcpy(&d, &prev_bits, 8);
        r.value = d;
        break;
      }
      case ValueType::kInt64: {
        std::uint64_t z = 0;
        if (!in.GetVarint64(z)) return Corruption("block: truncated int64 values");
        prev_bits += static_cast<std::uint64_t>(UnZigZag(z));
        r.value = static_cast<std::int64_t>(prev_bits);
        break;
      }
      case ValueType::kBool:
        if (i % 8 == 0 && !in.GetByte(bool_byte)) return Corruption("block: truncated bools");
        r.value = ((bool_byte >> (i % 8)) & 1) != 0;
        break;
      case ValueType::kBytes: {
        std::uint64_t len = 0;
        std::string_view s;
        if (!in.GetVarint64(len) || !in.GetBytes(len, s)) {
          return Corruption("block: truncated bytes values");
        }
        r.value = std::string(s);
        break;
      }
    }
  }
  if (in.remaining() != 0) return Corruption("block: trailing bytes in a chunk");
  return out;
}

}  // namespace sluice::store
