#include "block_format.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "decimal.h"

namespace sluice::store {
namespace {

std::uint64_t BitsOf(double d) {
  std::uint64_t b;
  std::memcpy(&b, &d, 8);
  return b;
}

double DoubleOf(std::uint64_t b) {
  double d;
  std::memcpy(&d, &b, 8);
  return d;
}

// The m of a decimal float64 chunk's `count` values (after its mode byte).
std::vector<std::int64_t> DecimalsOf(std::string_view values, std::uint32_t count) {
  ByteReader in(values.substr(1));
  std::vector<std::int64_t> out(count);
  std::uint64_t m = 0;
  for (auto& v : out) {
    std::uint64_t z = 0;
    SLUICE_CHECK(in.GetVarint64(z));  // our own encoding
    m += static_cast<std::uint64_t>(UnZigZag(z));
    v = static_cast<std::int64_t>(m);
  }
  return out;
}

std::uint32_t HeaderCrc(std::string_view fixed76, std::string_view directory) {
  return Crc32cExtend(Crc32c(fixed76.data(), fixed76.size()), directory.data(), directory.size());
}

// Ids are dense (the registry counts from 1) and a block's are either all
// of them or a shard's share, picked by a multiplicative hash of the id:
// the low bits spread them evenly already. Kept as they are, records that
// come in id order probe the table in order, which the cache rewards (a
// hash that scattered them made BlockBuilder::Add twice as slow at
// 100,000 series).
std::size_t SlotOf(std::uint32_t series, std::size_t mask) { return series & mask; }

}  // namespace

std::uint32_t BlockBuilder::Find(std::uint32_t series) const {
  if (slots_.empty()) return kNone;
  const std::size_t mask = slots_.size() - 1;
  for (std::size_t i = SlotOf(series, mask);; i = (i + 1) & mask) {
    const std::uint64_t e = slots_[i];
    if (e == 0) return kNone;
    if (e >> 32 == series) return static_cast<std::uint32_t>(e) - 1;
  }
}

void BlockBuilder::InsertSlot(std::uint32_t series, std::uint32_t position) {
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = SlotOf(series, mask);
  while (slots_[i] != 0) i = (i + 1) & mask;
  slots_[i] = std::uint64_t{series} << 32 | (position + 1);
}

void BlockBuilder::Add(const Record& r, ValueType type, std::uint64_t seq) {
  std::uint32_t at = Find(r.series.value);
  if (at == kNone) {
    at = chunks_++;
    if (at % kPageChunks == 0) pages_.emplace_back(kPageChunks, direct_);
    At(at).id = r.series;
    At(at).type = type;
    if (2 * chunks_ > slots_.size()) {
      slots_ = MappedArray<std::uint64_t>(std::max<std::size_t>(512, 2 * slots_.size()), direct_);
      for (std::uint32_t i = 0; i + 1 < chunks_; ++i) InsertSlot(At(i).id.value, i);
    }
    InsertSlot(r.series.value, at);
  }
  Chunk& c = At(at);
  const std::size_t before = c.ts.size() + c.values.size() + c.ref_bytes;
  const std::size_t heap_before = HeapBytes(c.ts) + HeapBytes(c.values);
  // Wrapping arithmetic: any sequence of int64 timestamps round-trips. The
  // first is a delta from the window start, and no delta precedes the second.
  const std::int64_t from = c.count == 0 ? partition_.window_start_ns : c.prev_ts;
  const std::uint64_t delta =
      static_cast<std::uint64_t>(r.timestamp_ns) - static_cast<std::uint64_t>(from);
  const std::uint64_t dod = delta - static_cast<std::uint64_t>(c.prev_delta);
  PutVarint64(c.ts, ZigZag(static_cast<std::int64_t>(dod)));
  c.prev_ts = r.timestamp_ns;
  c.prev_delta = c.count == 0 ? 0 : static_cast<std::int64_t>(delta);
  switch (type) {
    case ValueType::kFloat64:
      AddFloat(c, std::get<double>(r.value));
      break;
    case ValueType::kInt64: {
      const auto v = static_cast<std::uint64_t>(std::get<std::int64_t>(r.value));
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
      if (direct_ && !s.empty()) {
        refs_.push_back({at, static_cast<std::uint32_t>(c.values.size()), s});
        c.ref_bytes += static_cast<std::uint32_t>(s.size());
      } else {
        c.values += s;
      }
      break;
    }
  }
  ++c.count;
  c.t_min = std::min(c.t_min, r.timestamp_ns);
  c.t_max = std::max(c.t_max, r.timestamp_ns);
  body_bytes_ += c.ts.size() + c.values.size() + c.ref_bytes - before;
  heap_bytes_ += HeapBytes(c.ts) + HeapBytes(c.values) - heap_before;
  const std::size_t entry = DirEntryBytes(r.series, c);
  dir_bytes_ += entry - c.dir_bytes;
  c.dir_bytes = static_cast<std::uint8_t>(entry);
  ++records_;
  t_min_ = std::min(t_min_, r.timestamp_ns);
  t_max_ = std::max(t_max_, r.timestamp_ns);
  seq_min_ = std::min(seq_min_, seq);
  seq_max_ = std::max(seq_max_, seq);
}

// Decimal values stay m at the chunk's digits (raised when a value needs
// more); a value no decimal fits, or an m that would reach 2^53, turns the
// chunk to XOR'd bits for good. Both re-encode the chunk's values, which
// happens at most 16 times per chunk.
void BlockBuilder::AddFloat(Chunk& c, double v) {
  int digits = 0;
  std::int64_t m = 0;
  const bool decimal = AsDecimal(v, digits, m);
  if (c.count == 0) {
    c.float_mode = decimal ? static_cast<std::uint8_t>(digits) : kBlockFloatXor;
    c.values.push_back(static_cast<char>(c.float_mode));
    c.prev_bits = 0;
  } else if (c.float_mode != kBlockFloatXor &&
             (!decimal || (digits > c.float_mode && !Rescale(c, digits)))) {
    ToXor(c);
  }
  if (c.float_mode != kBlockFloatXor) {
    std::int64_t scaled = 0;
    if (ScaleDecimal(m, c.float_mode - digits, scaled) &&
        SameBits(FromDecimal(scaled, c.float_mode), v)) {
      PutVarint64(c.values, ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(scaled) -
                                                             c.prev_bits)));
      c.prev_bits = static_cast<std::uint64_t>(scaled);
      return;
    }
    ToXor(c);
  }
  const std::uint64_t bits = BitsOf(v);
  PutVarint64(c.values, bits ^ c.prev_bits);
  c.prev_bits = bits;
}

bool BlockBuilder::Rescale(Chunk& c, int digits) {
  const std::vector<std::int64_t> ms = DecimalsOf(c.values, c.count);
  std::string values(1, static_cast<char>(digits));
  std::uint64_t prev = 0;
  for (const std::int64_t m : ms) {
    std::int64_t scaled = 0;
    if (!ScaleDecimal(m, digits - c.float_mode, scaled) ||
        !SameBits(FromDecimal(scaled, digits), FromDecimal(m, c.float_mode))) {
      return false;
    }
    PutVarint64(values, ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(scaled) - prev)));
    prev = static_cast<std::uint64_t>(scaled);
  }
  c.values = std::move(values);
  c.prev_bits = prev;
  c.float_mode = static_cast<std::uint8_t>(digits);
  return true;
}

void BlockBuilder::ToXor(Chunk& c) {
  const std::vector<std::int64_t> ms = DecimalsOf(c.values, c.count);
  std::string values(1, static_cast<char>(kBlockFloatXor));
  std::uint64_t prev = 0;
  for (const std::int64_t m : ms) {
    const std::uint64_t bits = BitsOf(FromDecimal(m, c.float_mode));
    PutVarint64(values, bits ^ prev);
    prev = bits;
  }
  c.values = std::move(values);
  c.prev_bits = prev;
  c.float_mode = kBlockFloatXor;
}

std::array<std::uint64_t, 4> BlockBuilder::DirFields(const Chunk& c) const {
  const std::uint64_t from_window =
      static_cast<std::uint64_t>(c.t_min) - static_cast<std::uint64_t>(partition_.window_start_ns);
  return {c.count, ZigZag(static_cast<std::int64_t>(from_window)),
          static_cast<std::uint64_t>(c.t_max) - static_cast<std::uint64_t>(c.t_min),
          c.ts.size() + c.values.size() + c.ref_bytes};
}

std::size_t BlockBuilder::DirEntryBytes(SeriesId id, const Chunk& c) const {
  std::size_t n = VarintLength(id.value) + 1;  // the delta is at most the id; the type
  for (const std::uint64_t f : DirFields(c)) n += VarintLength(f);
  return n;
}

std::size_t BlockBuilder::EncodedSize() const {
  return kBlockHeaderBytes + dir_bytes_ + body_bytes_;
}

std::size_t BlockBuilder::HeapBytes(const std::string& s) {
  // Short strings live inside the object; longer ones in a heap block of
  // their capacity and the terminator, rounded up by malloc to 16 bytes.
  const std::size_t inline_capacity = std::string().capacity();
  return s.capacity() > inline_capacity ? (s.capacity() + 1 + 8 + 15) / 16 * 16 : 0;
}

std::size_t BlockBuilder::MemoryBytes() const {
  std::size_t n = sizeof(*this) + pages_.capacity() * sizeof(pages_[0]) + heap_bytes_ +
                  slots_.bytes() + refs_.capacity() * sizeof(Ref);
  for (const auto& page : pages_) n += page.bytes();
  return n;
}

std::vector<std::uint32_t> BlockBuilder::SortedOrder() const {
  std::vector<std::uint32_t> order(chunks_);
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [this](std::uint32_t a, std::uint32_t b) {
    return At(a).id < At(b).id;
  });
  return order;
}

template <typename Emit>
void BlockBuilder::EmitBody(const Chunk& c, std::span<const std::uint32_t> refs,
                            Emit&& emit) const {
  emit(c.ts.data(), c.ts.data() + c.ts.size());
  std::size_t from = 0;
  for (const std::uint32_t k : refs) {
    const Ref& r = refs_[k];
    emit(c.values.data() + from, c.values.data() + r.at);
    emit(r.bytes.data(), r.bytes.data() + r.bytes.size());
    from = r.at;
  }
  emit(c.values.data() + from, c.values.data() + c.values.size());
}

std::string BlockBuilder::Finish() const { return std::string(FinishAligned().view()); }

AlignedBlock BlockBuilder::FinishAligned(AlignedBlock spare) const {
  const std::vector<std::uint32_t> order = SortedOrder();
  std::string dir;
  dir.reserve(dir_bytes_);
  std::uint32_t previous = 0;
  for (const std::uint32_t i : order) {
    const Chunk& c = At(i);
    PutVarint64(dir, c.id.value - previous);
    previous = c.id.value;
    dir.push_back(static_cast<char>(c.type));
    for (const std::uint64_t f : DirFields(c)) PutVarint64(dir, f);
  }
  if (direct_) {
    SLUICE_CHECK(group_blocks_ != 0);  // SetGroup first
    PutVarint64(dir, group_seq_);
    PutVarint64(dir, group_blocks_);
  }
  const std::size_t header_len = kBlockHeaderBytes + dir.size();
  const std::size_t used = header_len + body_bytes_;
  AlignedBlock out = std::move(spare);
  out.size = PaddedBlockSize(used);
  if (out.bytes == nullptr || out.capacity < out.size) {
    out.bytes = AllocateAligned(out.size);
    out.capacity = out.size;
  }
  char* const base = reinterpret_cast<char*>(out.bytes.get());
  std::memcpy(base + kBlockHeaderBytes, dir.data(), dir.size());
  char* at = base + header_len;
  // Each chunk's references, in order: grouped by chunk (a counting sort),
  // by offset within one, as Add made them.
  std::vector<std::uint32_t> first_ref(chunks_ + 1, 0);
  for (const Ref& r : refs_) ++first_ref[r.chunk + 1];
  for (std::uint32_t i = 0; i < chunks_; ++i) first_ref[i + 1] += first_ref[i];
  std::vector<std::uint32_t> refs(refs_.size());
  {
    std::vector<std::uint32_t> next(first_ref.begin(), first_ref.end() - 1);
    for (std::uint32_t k = 0; k < refs_.size(); ++k) refs[next[refs_[k].chunk]++] = k;
  }
  // The body's checksum as it is copied, each piece while it is in cache.
  std::uint32_t body_crc = 0;
  const auto put = [&](const char* from, const char* to) {
    at = std::copy(from, to, at);
    body_crc = Crc32cExtend(body_crc, at - (to - from), static_cast<std::size_t>(to - from));
  };
  for (const std::uint32_t i : order) {
    EmitBody(At(i), std::span(refs).subspan(first_ref[i], first_ref[i + 1] - first_ref[i]), put);
  }
  SLUICE_CHECK(static_cast<std::size_t>(at - base) == used);
  std::memset(at, 0, out.size - used);
  std::string header;
  header.reserve(kBlockHeaderBytes);
  PutFixed32(header, kBlockMagic);
  PutFixed16(header, kBlockVersion);
  header.push_back(partition_.late ? 1 : 0);
  header.push_back(direct_ ? 1 : 0);
  PutFixed32(header, static_cast<std::uint32_t>(header_len));
  PutFixed32(header, static_cast<std::uint32_t>(body_bytes_));
  PutFixed64(header, static_cast<std::uint64_t>(partition_.window_start_ns));
  PutFixed32(header, partition_.shard);
  PutFixed32(header, chunks_);
  PutFixed64(header, static_cast<std::uint64_t>(t_min_));
  PutFixed64(header, static_cast<std::uint64_t>(t_max_));
  PutFixed64(header, seq_min_);
  PutFixed64(header, seq_max_);
  PutFixed32(header, records_);
  PutFixed32(header, MaskCrc(body_crc));
  PutFixed32(header, 0);
  PutFixed32(header, MaskCrc(HeaderCrc(header, dir)));
  SLUICE_CHECK(header.size() == kBlockHeaderBytes);
  std::memcpy(base, header.data(), kBlockHeaderBytes);
  return out;
}

std::string BlockBuilder::Body(std::uint32_t chunk) const {
  std::vector<std::uint32_t> mine;
  for (std::uint32_t k = 0; k < refs_.size(); ++k) {
    if (refs_[k].chunk == chunk) mine.push_back(k);
  }
  std::string body;
  EmitBody(At(chunk), mine, [&](const char* begin, const char* end) { body.append(begin, end); });
  return body;
}

std::vector<SeriesId> BlockBuilder::Series() const {
  std::vector<SeriesId> out;
  out.reserve(chunks_);
  for (const std::uint32_t i : SortedOrder()) out.push_back(At(i).id);
  return out;
}

std::vector<Record> BlockBuilder::Read(SeriesId series) const {
  const std::uint32_t at = Find(series.value);
  if (at == kNone) return {};
  const Chunk& c = At(at);
  const std::string body = Body(at);
  BlockSeriesEntry e{series, c.type, c.count, c.t_min, c.t_max, 0,
                     static_cast<std::uint32_t>(body.size())};
  BlockHeader block;
  block.partition = partition_;
  auto records = DecodeSeriesChunk(body, block, e);
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
  if (version != 1 && version != kBlockVersion) {
    return Corruption("block: unsupported version " + std::to_string(version));
  }
  constexpr std::uint32_t kMaxDirectory = 64u << 20;
  const bool lengths_agree =
      version == 1 ? count <= kMaxDirectory / kBlockV1DirEntryBytes &&
                         header_len == kBlockHeaderBytes + std::uint64_t{count} * kBlockV1DirEntryBytes
                   : header_len >= kBlockHeaderBytes &&
                         header_len - kBlockHeaderBytes <= kMaxDirectory &&
                         std::uint64_t{count} * kBlockMinDirEntryBytes <=
                             header_len - kBlockHeaderBytes;
  if (!lengths_agree) return Corruption("block: header length does not match its series count");
  if (bytes.size() < header_len) {
    need = header_len;
    return Unavailable("short block directory");
  }
  const std::string_view dir = bytes.substr(kBlockHeaderBytes, header_len - kBlockHeaderBytes);
  if (UnmaskCrc(header_crc) != HeaderCrc(bytes.substr(0, 76), dir)) {
    return Corruption("block: header CRC mismatch");
  }
  if (late > 1 || pad > 1) return Corruption("block: bad partition kind");

  BlockHeader h;
  h.partition = {static_cast<std::int64_t>(window), shard, late == 1};
  h.direct = pad == 1;
  h.t_min = static_cast<std::int64_t>(t_min);
  h.t_max = static_cast<std::int64_t>(t_max);
  h.seq_min = seq_min;
  h.seq_max = seq_max;
  h.records = records;
  h.header_len = header_len;
  h.body_len = body_len;
  h.body_crc = UnmaskCrc(body_crc);
  h.version = version;
  ByteReader d(dir);
  std::uint64_t total = 0;
  for (std::uint32_t i = 0; i < count; ++i) {
    BlockSeriesEntry e;
    std::uint8_t type = 0;
    if (version == 1) {
      std::uint32_t id = 0;
      std::uint64_t a = 0, b = 0;
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
    } else {
      std::uint64_t id_delta = 0, n = 0, from_window = 0, span = 0, length = 0;
      if (!d.GetVarint64(id_delta) || !d.GetByte(type) || !d.GetVarint64(n) ||
          !d.GetVarint64(from_window) || !d.GetVarint64(span) || !d.GetVarint64(length)) {
        return Corruption("block: truncated directory entry");
      }
      const std::uint64_t id = (h.series.empty() ? 0 : h.series.back().series.value) + id_delta;
      if (id > UINT32_MAX || (!h.series.empty() && id_delta == 0)) {
        return Corruption("block: directory not in ascending series order");
      }
      if (n == 0 || n > UINT32_MAX) return Corruption("block: directory entry with a bad count");
      const std::uint64_t first =
          static_cast<std::uint64_t>(window) + static_cast<std::uint64_t>(UnZigZag(from_window));
      // t_max = t_min + span without passing INT64_MAX.
      if (span > static_cast<std::uint64_t>(INT64_MAX) - first) {
        return Corruption("block: directory entry with a bad time range");
      }
      if (length > UINT32_MAX) return Corruption("block: directory entry outside the body");
      e.series = SeriesId{static_cast<std::uint32_t>(id)};
      e.count = static_cast<std::uint32_t>(n);
      e.t_min = static_cast<std::int64_t>(first);
      e.t_max = static_cast<std::int64_t>(first + span);
      e.offset = static_cast<std::uint32_t>(std::min<std::uint64_t>(total, UINT32_MAX));
      e.length = static_cast<std::uint32_t>(length);
    }
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
  if (h.direct) {
    // A direct block's flush group: its lowest sequence number, and how
    // many blocks the group wrote together.
    if (version == 1 || !d.GetVarint64(h.group_seq) || !d.GetVarint64(h.group_blocks) ||
        h.group_blocks == 0 || h.group_seq > seq_min) {
      return Corruption("block: direct block without a valid group");
    }
  }
  if (d.remaining() != 0) return Corruption("block: trailing bytes in the directory");
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

Result<std::vector<Record>> DecodeSeriesChunk(std::string_view body, const BlockHeader& block,
                                              const BlockSeriesEntry& e) {
  if (std::uint64_t{e.offset} + e.length > body.size()) {
    return Corruption("block: chunk outside the body");
  }
  ByteReader in(body.substr(e.offset, e.length));
  // Each record takes at least one byte of timestamp.
  if (e.count > e.length) return Corruption("block: chunk count exceeds its bytes");
  const bool v1 = block.version == 1;
  std::vector<Record> out(e.count);
  std::uint64_t prev = v1 ? 0 : static_cast<std::uint64_t>(block.partition.window_start_ns);
  std::uint64_t prev_delta = 0;
  for (std::uint32_t i = 0; i < e.count; ++i) {
    Record& r = out[i];
    std::uint64_t z = 0;
    if (!in.GetVarint64(z)) return Corruption("block: truncated timestamps");
    const std::uint64_t delta = prev_delta + static_cast<std::uint64_t>(UnZigZag(z));
    prev += delta;
    prev_delta = v1 || i > 0 ? delta : 0;
    r.series = e.series;
    r.timestamp_ns = static_cast<std::int64_t>(prev);
  }
  std::uint8_t float_mode = kBlockFloatXor;
  if (e.type == ValueType::kFloat64 && !v1 && e.count > 0) {
    if (!in.GetByte(float_mode)) return Corruption("block: truncated float64 values");
    if (float_mode > kMaxDecimalDigits && float_mode != kBlockFloatXor) {
      return Corruption("block: unknown float64 encoding " + std::to_string(float_mode));
    }
  }
  std::uint64_t prev_bits = 0;
  std::uint8_t bool_byte = 0;
  for (std::uint32_t i = 0; i < e.count; ++i) {
    Record& r = out[i];
    switch (e.type) {
      case ValueType::kFloat64: {
        std::uint64_t x = 0;
        if (!in.GetVarint64(x)) return Corruption("block: truncated float64 values");
        if (float_mode == kBlockFloatXor) {
          prev_bits ^= x;
          r.value = DoubleOf(prev_bits);
        } else {
          prev_bits += static_cast<std::uint64_t>(UnZigZag(x));
          r.value = FromDecimal(static_cast<std::int64_t>(prev_bits), float_mode);
        }
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
