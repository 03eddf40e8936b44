#include "int_codec.h"

#include <algorithm>
#include <bit>
#include <limits>

namespace sluice::sync::codec {
namespace {

// Width in bits of the largest offset from the block's (signed) minimum.
struct BlockFrame {
  std::int64_t min;
  unsigned width;
};

BlockFrame FrameOf(std::span<const std::uint64_t> block) {
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (std::uint64_t u : block) {
    auto v = static_cast<std::int64_t>(u);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  // hi - lo may exceed INT64_MAX; as unsigned it is exact.
  std::uint64_t range = static_cast<std::uint64_t>(hi) - static_cast<std::uint64_t>(lo);
  return {lo, static_cast<unsigned>(std::bit_width(range))};
}

Status Bad(const char* what) { return Corruption(std::string("integer stream: ") + what); }

}  // namespace

std::size_t IntStreamSize(std::span<const std::uint64_t> values, IntPacking mode) {
  std::size_t n = 1;
  if (mode == IntPacking::kZigzagVarint) {
    for (std::uint64_t v : values) n += VarintLength(ZigZag(static_cast<std::int64_t>(v)));
    return n;
  }
  for (std::size_t i = 0; i < values.size(); i += kIntBlockSize) {
    auto block = values.subspan(i, std::min(kIntBlockSize, values.size() - i));
    BlockFrame f = FrameOf(block);
    n += VarintLength(ZigZag(f.min)) + 1 + (block.size() * f.width + 7) / 8;
  }
  return n;
}

IntPacking SmallestPacking(std::span<const std::uint64_t> values) {
  return IntStreamSize(values, IntPacking::kFrameOfReference) <
                 IntStreamSize(values, IntPacking::kZigzagVarint)
             ? IntPacking::kFrameOfReference
             : IntPacking::kZigzagVarint;
}

void PutIntStream(std::string* out, std::span<const std::uint64_t> values, IntPacking mode) {
  out->push_back(static_cast<char>(mode));
  if (mode == IntPacking::kZigzagVarint) {
    for (std::uint64_t v : values) PutVarint(out, ZigZag(static_cast<std::int64_t>(v)));
    return;
  }
  for (std::size_t i = 0; i < values.size(); i += kIntBlockSize) {
    auto block = values.subspan(i, std::min(kIntBlockSize, values.size() - i));
    BlockFrame f = FrameOf(block);
    PutVarint(out, ZigZag(f.min));
    out->push_back(static_cast<char>(f.width));
    // Each block is byte-aligned so that a reader could skip blocks.
    BitWriter bits(out);
    const auto base = static_cast<std::uint64_t>(f.min);
    for (std::uint64_t v : block) bits.Put(v - base, f.width);
    bits.Flush();
  }
}

Status GetIntStream(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out) {
  std::uint8_t mode;
  if (!in.GetByte(&mode)) return Bad("missing packing byte");
  out->clear();
  if (mode == static_cast<std::uint8_t>(IntPacking::kZigzagVarint)) {
    // At least one byte per value: refuse before allocating for a lying count.
    if (count > in.remaining()) return Bad("count exceeds data");
    out->reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t z;
      if (!in.GetVarint(&z)) return Bad("truncated varint");
      out->push_back(static_cast<std::uint64_t>(UnZigZag(z)));
    }
    return Status::Ok();
  }
  if (mode != static_cast<std::uint8_t>(IntPacking::kFrameOfReference)) {
    return Bad("unknown packing");
  }
  // At least two bytes per block.
  if ((count + kIntBlockSize - 1) / kIntBlockSize > in.remaining() / 2) {
    return Bad("count exceeds data");
  }
  out->reserve(count);
  for (std::size_t i = 0; i < count; i += kIntBlockSize) {
    std::size_t n = std::min(kIntBlockSize, count - i);
    std::uint64_t zmin;
    std::uint8_t width;
    if (!in.GetVarint(&zmin) || !in.GetByte(&width)) return Bad("truncated block header");
    if (width > 64) return Bad("bit width above 64");
    std::string_view packed;
    if (!in.GetBytes((n * width + 7) / 8, &packed)) return Bad("truncated block");
    const auto base = static_cast<std::uint64_t>(UnZigZag(zmin));
    BitReader bits(packed);
    for (std::size_t j = 0; j < n; ++j) {
      std::uint64_t off = 0;
      bits.Get(width, &off);  // cannot fail: the span holds n * width bits
      out->push_back(base + off);
    }
  }
  return Status::Ok();
}

std::vector<std::uint64_t> Deltas(std::span<const std::int64_t> v) {
  std::vector<std::uint64_t> d(v.size());
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    auto cur = static_cast<std::uint64_t>(v[i]);
    d[i] = cur - prev;
    prev = cur;
  }
  return d;
}

// t0 and t1 - t0 as zigzag varints, so that a large epoch offset does not
// widen the first packed block; then t[i] - 2 t[i-1] + t[i-2] for i >= 2.
void EncodeTimestamps(std::span<const std::int64_t> ts, IntPacking mode, std::string* out) {
  std::vector<std::uint64_t> dod;
  if (ts.size() >= 1) PutVarint(out, ZigZag(ts[0]));
  if (ts.size() >= 2) {
    PutVarint(out, ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[1]) -
                                                    static_cast<std::uint64_t>(ts[0]))));
  }
  if (ts.size() >= 3) {
    dod.reserve(ts.size() - 2);
    for (std::size_t i = 2; i < ts.size(); ++i) {
      auto a = static_cast<std::uint64_t>(ts[i]);
      auto b = static_cast<std::uint64_t>(ts[i - 1]);
      auto c = static_cast<std::uint64_t>(ts[i - 2]);
      dod.push_back((a - b) - (b - c));
    }
  }
  PutIntStream(out, dod, mode);
}

Status DecodeTimestamps(std::string_view data, std::size_t count, std::vector<std::int64_t>* out) {
  ByteReader in(data);
  out->clear();
  if (count > data.size() * 64 + 2) return Corruption("timestamps: count exceeds data");
  std::uint64_t z0 = 0, z1 = 0;
  if (count >= 1 && !in.GetVarint(&z0)) return Corruption("timestamps: truncated first value");
  if (count >= 2 && !in.GetVarint(&z1)) return Corruption("timestamps: truncated first delta");
  std::vector<std::uint64_t> dod;
  SLUICE_RETURN_IF_ERROR(GetIntStream(in, count >= 2 ? count - 2 : 0, &dod));
  if (in.remaining() != 0) return Corruption("timestamps: trailing bytes");
  out->reserve(count);
  if (count >= 1) out->push_back(UnZigZag(z0));
  if (count >= 2) {
    std::uint64_t prev = static_cast<std::uint64_t>(UnZigZag(z0));
    std::uint64_t delta = static_cast<std::uint64_t>(UnZigZag(z1));
    for (std::size_t i = 1; i < count; ++i) {
      if (i >= 2) delta += dod[i - 2];
      prev += delta;
      out->push_back(static_cast<std::int64_t>(prev));
    }
  }
  return Status::Ok();
}

void EncodeInt64s(std::span<const std::int64_t> v, IntTransform transform, IntPacking mode,
                  std::string* out) {
  out->push_back(static_cast<char>(transform));
  if (transform == IntTransform::kDelta) {
    PutIntStream(out, Deltas(v), mode);
  } else {
    std::vector<std::uint64_t> raw(v.begin(), v.end());
    PutIntStream(out, raw, mode);
  }
}

Status DecodeInt64s(std::string_view data, std::size_t count, std::vector<std::int64_t>* out) {
  ByteReader in(data);
  std::uint8_t transform;
  if (!in.GetByte(&transform) || transform > 1) return Corruption("int64: bad transform byte");
  std::vector<std::uint64_t> words;
  SLUICE_RETURN_IF_ERROR(GetIntStream(in, count, &words));
  if (in.remaining() != 0) return Corruption("int64: trailing bytes");
  out->resize(count);
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < count; ++i) {
    prev = transform == 1 ? prev + words[i] : words[i];
    (*out)[i] = static_cast<std::int64_t>(prev);
  }
  return Status::Ok();
}

}  // namespace sluice::sync::codec
