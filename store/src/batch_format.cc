#include "batch_format.h"

#include <cstring>

#include "base/coding.h"
#include "decimal.h"

namespace sluice::store {

void EncodeBatch(const Batch& batch, std::int64_t arrival_ns, std::string& out) {
  PutVarint64(out, batch.size());
  PutVarint64(out, ZigZag(arrival_ns));
  std::int64_t prev = 0;
  for (const Record& r : batch) {
    PutVarint64(out, r.series.value);
    // Wrapping subtraction: any pair of int64 timestamps round-trips.
    const auto delta = static_cast<std::int64_t>(static_cast<std::uint64_t>(r.timestamp_ns) -
                                                 static_cast<std::uint64_t>(prev));
    PutVarint64(out, ZigZag(delta));
    prev = r.timestamp_ns;
    const ValueType type = TypeOf(r.value);
    int digits = 0;
    std::int64_t m = 0;
    if (type == ValueType::kFloat64 && AsDecimal(std::get<double>(r.value), digits, m)) {
      out.push_back(static_cast<char>(kDecimalTag + digits));
      PutVarint64(out, ZigZag(m));
      continue;
    }
    out.push_back(static_cast<char>(type));
    switch (type) {
      case ValueType::kFloat64: {
        std::uint64_t bits;
        std::memcpy(&bits, &std::get<double>(r.value), 8);
        PutFixed64(out, bits);
        break;
      }
      case ValueType::kInt64:
        PutVarint64(out, ZigZag(std::get<std::int64_t>(r.value)));
        break;
      case ValueType::kBool:
        out.push_back(std::get<bool>(r.value) ? 1 : 0);
        break;
      case ValueType::kBytes: {
        const auto& s = std::get<std::string>(r.value);
        PutVarint64(out, s.size());
        out += s;
        break;
      }
    }
  }
}

namespace {

Result<BatchHeader> ReadHeader(ByteReader& in) {
  std::uint64_t count = 0, arrival = 0;
  if (!in.GetVarint64(count)) return Corruption("batch: truncated record count");
  if (!in.GetVarint64(arrival)) return Corruption("batch: truncated arrival time");
  // Each record takes at least 4 bytes, which bounds allocations.
  if (count > in.remaining() / 4) {
    return Corruption("batch: record count " + std::to_string(count) + " exceeds the payload");
  }
  return BatchHeader{count, UnZigZag(arrival)};
}

}  // namespace

void EncodeDirectMarker(const DirectMarker& m, std::string& out) {
  out.clear();
  PutVarint64(out, m.records);
  PutVarint64(out, ZigZag(m.arrival_ns));
}

Result<DirectMarker> DecodeDirectMarker(std::string_view payload) {
  ByteReader in(payload);
  DirectMarker m;
  std::uint64_t arrival = 0;
  if (!in.GetVarint64(m.records) || !in.GetVarint64(arrival) || in.remaining() != 0) {
    return Corruption("direct marker: truncated or trailing bytes");
  }
  if (m.records == 0) return Corruption("direct marker: no records");
  m.arrival_ns = UnZigZag(arrival);
  return m;
}

Result<BatchHeader> DecodeBatchHeader(std::string_view payload) {
  ByteReader in(payload);
  return ReadHeader(in);
}

Result<DecodedBatch> DecodeBatch(std::string_view payload, std::uint32_t max_value_bytes) {
  ByteReader in(payload);
  SLUICE_ASSIGN_OR_RETURN(auto header, ReadHeader(in));
  const std::uint64_t count = header.records;
  DecodedBatch decoded;
  decoded.arrival_ns = header.arrival_ns;
  Batch& batch = decoded.records;
  batch.reserve(count);
  std::int64_t prev = 0;
  for (std::uint64_t i = 0; i < count; ++i) {
    auto bad = [&](const char* why) {
      return Corruption("batch: record " + std::to_string(i) + ": " + why);
    };
    std::uint64_t series = 0, dts = 0;
    std::uint8_t tag = 0;
    if (!in.GetVarint64(series) || !in.GetVarint64(dts) || !in.GetByte(tag)) {
      return bad("truncated");
    }
    if (series > UINT32_MAX) return bad("series id out of range");
    Record r;
    r.series = SeriesId{static_cast<std::uint32_t>(series)};
    r.timestamp_ns = static_cast<std::int64_t>(static_cast<std::uint64_t>(prev) +
                                               static_cast<std::uint64_t>(UnZigZag(dts)));
    prev = r.timestamp_ns;
    if (tag >= kDecimalTag && tag <= kDecimalTag + kMaxDecimalDigits) {
      std::uint64_t z = 0;
      if (!in.GetVarint64(z)) return bad("truncated decimal");
      r.value = FromDecimal(UnZigZag(z), tag - kDecimalTag);
      batch.push_back(std::move(r));
      continue;
    }
    switch (static_cast<ValueType>(tag)) {
      case ValueType::kFloat64: {
        std::uint64_t bits = 0;
        if (!in.GetFixed64(bits)) return bad("truncated float64");
        double d;
        std::memcpy(&d, &bits, 8);
        r.value = d;
        break;
      }
      case ValueType::kInt64: {
        std::uint64_t z = 0;
        if (!in.GetVarint64(z)) return bad("truncated int64");
        r.value = UnZigZag(z);
        break;
      }
      case ValueType::kBool: {
        std::uint8_t b = 0;
        if (!in.GetByte(b)) return bad("truncated bool");
        if (b > 1) return bad("bool is neither 0 nor 1");
        r.value = b == 1;
        break;
      }
      case ValueType::kBytes: {
        std::uint64_t len = 0;
        std::string_view bytes;
        if (!in.GetVarint64(len)) return bad("truncated bytes length");
        if (len > max_value_bytes) return bad("bytes value longer than max_value_bytes");
        if (!in.GetBytes(len, bytes)) return bad("truncated bytes");
        r.value = std::string(bytes);
        break;
      }
      default:
        return bad("unknown value tag");
    }
    batch.push_back(std::move(r));
  }
  if (in.remaining() != 0) return Corruption("batch: trailing bytes after the last record");
  return decoded;
}

}  // namespace sluice::store
