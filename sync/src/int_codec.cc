#include "int_codec.h"

#include <algorithm>
#include <bit>
#include <limits>
#include <numeric>

#include "bit_io.h"

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

// Rice blocks: each value is coded as u = zigzag(v - center): q = u >> k in
// unary (q zero bits, then a one), then the k low bits of u. A quotient of
// kRiceEscape or more is written as kRiceEscape zero bits and u in 64 bits.
constexpr unsigned kRiceEscape = 32;

struct RiceBlock {
  std::int64_t center;
  unsigned k;
  std::uint64_t bits;  // payload bits
};

inline std::uint64_t RiceCode(std::uint64_t v, std::int64_t center) {
  return ZigZag(static_cast<std::int64_t>(v - static_cast<std::uint64_t>(center)));
}

std::uint64_t RiceBits(std::span<const std::uint64_t> u, unsigned k) {
  std::uint64_t bits = 0;
  for (std::uint64_t x : u) {
    std::uint64_t q = x >> k;
    bits += q < kRiceEscape ? q + 1 + k : kRiceEscape + 64;
  }
  return bits;
}

// The block's median as center (residuals of noisy data are roughly
// symmetric around it) and the k with the fewest bits near log2 of the mean.
RiceBlock PlanRice(std::span<const std::uint64_t> block, std::uint64_t* codes) {
  std::int64_t sorted[kIntBlockSize] = {};
  for (std::size_t i = 0; i < block.size(); ++i) sorted[i] = static_cast<std::int64_t>(block[i]);
  std::nth_element(sorted, sorted + block.size() / 2, sorted + block.size());
  RiceBlock r{sorted[block.size() / 2], 0, 0};
  double sum = 0;
  for (std::size_t i = 0; i < block.size(); ++i) {
    codes[i] = RiceCode(block[i], r.center);
    sum += static_cast<double>(codes[i]);
  }
  const double mean = sum / static_cast<double>(block.size());
  const int k0 = mean < 2         ? 0
                 : mean >= 0x1p63 ? 63
                                  : std::bit_width(static_cast<std::uint64_t>(mean)) - 1;
  std::span<const std::uint64_t> u(codes, block.size());
  r.bits = std::numeric_limits<std::uint64_t>::max();
  for (int k = std::max(0, k0 - 2); k <= std::min(63, k0 + 1); ++k) {
    std::uint64_t bits = RiceBits(u, static_cast<unsigned>(k));
    if (bits < r.bits) {
      r.bits = bits;
      r.k = static_cast<unsigned>(k);
    }
  }
  return r;
}

void PutRice(std::string* out, std::span<const std::uint64_t> values) {
  std::uint64_t codes[kIntBlockSize];
  for (std::size_t i = 0; i < values.size(); i += kIntBlockSize) {
    auto block = values.subspan(i, std::min(kIntBlockSize, values.size() - i));
    RiceBlock r = PlanRice(block, codes);
    PutVarint64(*out, ZigZag(r.center));
    out->push_back(static_cast<char>(r.k));
    BitWriter bits(*out);
    for (std::size_t j = 0; j < block.size(); ++j) {
      std::uint64_t q = codes[j] >> r.k;
      if (q < kRiceEscape) {
        bits.Put(std::uint64_t{1} << q, static_cast<unsigned>(q) + 1);
        bits.Put(codes[j], r.k);
      } else {
        bits.Put(0, kRiceEscape);
        bits.Put(codes[j], 64);
      }
    }
    bits.Flush();
  }
}

std::size_t RiceSize(std::span<const std::uint64_t> values) {
  std::uint64_t codes[kIntBlockSize];
  std::size_t n = 0;
  for (std::size_t i = 0; i < values.size(); i += kIntBlockSize) {
    auto block = values.subspan(i, std::min(kIntBlockSize, values.size() - i));
    RiceBlock r = PlanRice(block, codes);
    n += VarintLength(ZigZag(r.center)) + 1 + (r.bits + 7) / 8;
  }
  return n;
}

Status GetRice(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out) {
  // At least two header bytes per block and one bit per value.
  if ((count + kIntBlockSize - 1) / kIntBlockSize > in.remaining() / 2 ||
      count / 8 > in.remaining()) {
    return Bad("count exceeds data");
  }
  out->reserve(count);
  for (std::size_t i = 0; i < count; i += kIntBlockSize) {
    const std::size_t n = std::min(kIntBlockSize, count - i);
    std::uint64_t zcenter;
    std::uint8_t k;
    if (!in.GetVarint64(zcenter) || !in.GetByte(k)) return Bad("truncated Rice block header");
    if (k > 63) return Bad("Rice parameter above 63");
    const auto center = static_cast<std::uint64_t>(UnZigZag(zcenter));
    BitReader bits(in.rest());
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t w = bits.Peek64();
      const auto q = static_cast<unsigned>(std::countr_zero(w));
      std::uint64_t u;
      if (q < kRiceEscape) {
        std::uint64_t low;
        // The one bit ending the unary code is real data, so Skip succeeds.
        if (!bits.Skip(q + 1) || !bits.Get(k, low)) return Bad("truncated Rice block");
        u = (std::uint64_t{q} << k) | low;
      } else if (!bits.Skip(kRiceEscape) || !bits.Get(64, u)) {
        return Bad("truncated Rice escape");
      }
      out->push_back(center + static_cast<std::uint64_t>(UnZigZag(u)));
    }
    (void)in.Skip((bits.bit_position() + 7) / 8);
  }
  return Status::Ok();
}

}  // namespace

std::size_t IntStreamSize(std::span<const std::uint64_t> values, IntPacking mode) {
  if (mode == IntPacking::kRice) return 1 + RiceSize(values);
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

IntPacking SmallestPacking(std::span<const std::uint64_t> values, StreamRevision rev) {
  IntPacking best = IntPacking::kZigzagVarint;
  std::size_t best_size = IntStreamSize(values, best);
  for (IntPacking p : {IntPacking::kFrameOfReference, IntPacking::kRice}) {
    if (p == IntPacking::kRice && rev != StreamRevision::kV2) continue;
    std::size_t size = IntStreamSize(values, p);
    if (size < best_size) {
      best = p;
      best_size = size;
    }
  }
  return best;
}

void PutIntStream(std::string* out, std::span<const std::uint64_t> values, IntPacking mode) {
  out->push_back(static_cast<char>(mode));
  if (mode == IntPacking::kZigzagVarint) {
    for (std::uint64_t v : values) PutVarint64(*out, ZigZag(static_cast<std::int64_t>(v)));
    return;
  }
  if (mode == IntPacking::kRice) {
    PutRice(out, values);
    return;
  }
  for (std::size_t i = 0; i < values.size(); i += kIntBlockSize) {
    auto block = values.subspan(i, std::min(kIntBlockSize, values.size() - i));
    BlockFrame f = FrameOf(block);
    PutVarint64(*out, ZigZag(f.min));
    out->push_back(static_cast<char>(f.width));
    // Each block is byte-aligned so that a reader could skip blocks.
    BitWriter bits(*out);
    const auto base = static_cast<std::uint64_t>(f.min);
    for (std::uint64_t v : block) bits.Put(v - base, f.width);
    bits.Flush();
  }
}

Status GetIntStream(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out,
                    StreamRevision rev) {
  std::uint8_t mode;
  if (!in.GetByte(mode)) return Bad("missing packing byte");
  out->clear();
  if (mode == static_cast<std::uint8_t>(IntPacking::kRice) && rev == StreamRevision::kV2) {
    return GetRice(in, count, out);
  }
  if (mode == static_cast<std::uint8_t>(IntPacking::kZigzagVarint)) {
    // At least one byte per value: refuse before allocating for a lying count.
    if (count > in.remaining()) return Bad("count exceeds data");
    out->reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t z;
      if (!in.GetVarint64(z)) return Bad("truncated varint");
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
    if (!in.GetVarint64(zmin) || !in.GetByte(width)) return Bad("truncated block header");
    if (width > 64) return Bad("bit width above 64");
    std::string_view packed;
    if (!in.GetBytes((n * width + 7) / 8, packed)) return Bad("truncated block");
    const auto base = static_cast<std::uint64_t>(UnZigZag(zmin));
    BitReader bits(packed);
    for (std::size_t j = 0; j < n; ++j) {
      std::uint64_t off = 0;
      bits.Get(width, off);  // cannot fail: the span holds n * width bits
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
  if (ts.size() >= 1) PutVarint64(*out, ZigZag(ts[0]));
  if (ts.size() >= 2) {
    PutVarint64(*out, ZigZag(static_cast<std::int64_t>(static_cast<std::uint64_t>(ts[1]) -
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
  if (count >= 1 && !in.GetVarint64(z0)) return Corruption("timestamps: truncated first value");
  if (count >= 2 && !in.GetVarint64(z1)) return Corruption("timestamps: truncated first delta");
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

namespace {

// |d| of a delta read as signed; 2^63 for INT64_MIN.
std::uint64_t Magnitude(std::uint64_t d) {
  return static_cast<std::int64_t>(d) < 0 ? 0 - d : d;
}

}  // namespace

std::uint64_t TimestampUnit(std::span<const std::int64_t> ts) {
  std::uint64_t g = 0;
  for (std::size_t i = 1; i < ts.size() && g != 1; ++i) {
    g = std::gcd(
        g, Magnitude(static_cast<std::uint64_t>(ts[i]) - static_cast<std::uint64_t>(ts[i - 1])));
  }
  return g == 0 ? 1 : g;
}

void EncodeScaledTimestamps(std::span<const std::int64_t> ts, std::uint64_t unit, IntPacking mode,
                            std::string* out) {
  // Exact: unit divides every delta's magnitude, so signed division is exact.
  auto scaled = [&](std::size_t i) {
    const std::uint64_t d =
        static_cast<std::uint64_t>(ts[i]) - static_cast<std::uint64_t>(ts[i - 1]);
    const std::uint64_t k = Magnitude(d) / unit;
    return static_cast<std::int64_t>(d) < 0 ? 0 - k : k;
  };
  if (ts.size() >= 1) PutVarint64(*out, ZigZag(ts[0]));
  PutVarint64(*out, unit);
  if (ts.size() >= 2) PutVarint64(*out, ZigZag(static_cast<std::int64_t>(scaled(1))));
  std::vector<std::uint64_t> dod;
  if (ts.size() >= 3) dod.reserve(ts.size() - 2);
  for (std::size_t i = 2; i < ts.size(); ++i) dod.push_back(scaled(i) - scaled(i - 1));
  PutIntStream(out, dod, mode);
}

Status DecodeScaledTimestamps(std::string_view data, std::size_t count,
                              std::vector<std::int64_t>* out) {
  ByteReader in(data);
  out->clear();
  if (count > data.size() * 64 + 2) return Corruption("timestamps: count exceeds data");
  std::uint64_t z0 = 0, unit = 0, z1 = 0;
  if (count >= 1 && !in.GetVarint64(z0)) return Corruption("timestamps: truncated first value");
  if (!in.GetVarint64(unit) || unit == 0) return Corruption("timestamps: bad unit");
  if (count >= 2 && !in.GetVarint64(z1)) return Corruption("timestamps: truncated first delta");
  std::vector<std::uint64_t> dod;
  SLUICE_RETURN_IF_ERROR(GetIntStream(in, count >= 2 ? count - 2 : 0, &dod, StreamRevision::kV2));
  if (in.remaining() != 0) return Corruption("timestamps: trailing bytes");
  out->reserve(count);
  if (count >= 1) out->push_back(UnZigZag(z0));
  std::uint64_t prev = static_cast<std::uint64_t>(UnZigZag(z0));
  std::uint64_t k = static_cast<std::uint64_t>(UnZigZag(z1));
  for (std::size_t i = 1; i < count; ++i) {
    if (i >= 2) k += dod[i - 2];
    prev += k * unit;
    out->push_back(static_cast<std::int64_t>(prev));
  }
  return Status::Ok();
}

std::vector<std::uint64_t> TransformWords(std::span<const std::int64_t> v, IntTransform transform) {
  if (transform == IntTransform::kDelta) return Deltas(v);
  return std::vector<std::uint64_t>(v.begin(), v.end());
}

bool FewDistinct(std::span<const std::int64_t> v, std::size_t max_distinct) {
  // Open addressing at load <= 1/2; gives up at the first value too many.
  std::size_t cap = 16;
  while (cap < 2 * max_distinct + 2) cap *= 2;
  std::vector<std::uint64_t> slots(cap);
  std::vector<std::uint8_t> used(cap);
  std::size_t distinct = 0;
  for (std::int64_t x : v) {
    const auto u = static_cast<std::uint64_t>(x);
    std::size_t h = static_cast<std::size_t>((u * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);
    while (used[h] && slots[h] != u) h = (h + 1) & (cap - 1);
    if (used[h]) continue;
    if (++distinct > max_distinct) return false;
    used[h] = 1;
    slots[h] = u;
  }
  return true;
}

void EncodeInt64s(std::span<const std::int64_t> v, IntTransform transform, IntPacking mode,
                  std::string* out) {
  out->push_back(static_cast<char>(transform));
  if (transform != IntTransform::kDictionary) {
    PutIntStream(out, TransformWords(v, transform), mode);
    return;
  }
  std::vector<std::int64_t> dict(v.begin(), v.end());
  std::sort(dict.begin(), dict.end());
  dict.erase(std::unique(dict.begin(), dict.end()), dict.end());
  std::vector<std::uint64_t> codes(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) {
    codes[i] = static_cast<std::uint64_t>(std::lower_bound(dict.begin(), dict.end(), v[i]) -
                                          dict.begin());
  }
  PutVarint64(*out, dict.size());
  std::vector<std::uint64_t> dict_deltas = Deltas(dict);
  PutIntStream(out, dict_deltas, SmallestPacking(dict_deltas, StreamRevision::kV2));
  PutIntStream(out, codes, mode);
}

Status DecodeInt64s(std::string_view data, std::size_t count, std::vector<std::int64_t>* out,
                    StreamRevision rev) {
  ByteReader in(data);
  std::uint8_t transform;
  const std::uint8_t max_transform = rev == StreamRevision::kV2 ? 2 : 1;
  if (!in.GetByte(transform) || transform > max_transform) {
    return Corruption("int64: bad transform byte");
  }
  std::vector<std::uint64_t> dict;
  if (transform == static_cast<std::uint8_t>(IntTransform::kDictionary)) {
    std::uint64_t d;
    // At least one byte per dictionary entry.
    if (!in.GetVarint64(d) || d > in.remaining() || (d == 0 && count != 0)) {
      return Corruption("int64: bad dictionary size");
    }
    SLUICE_RETURN_IF_ERROR(GetIntStream(in, d, &dict, rev));
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < dict.size(); ++i) {
      prev += dict[i];
      if (i > 0 && static_cast<std::int64_t>(prev) <= static_cast<std::int64_t>(dict[i - 1])) {
        return Corruption("int64: dictionary not strictly increasing");
      }
      dict[i] = prev;
    }
  }
  std::vector<std::uint64_t> words;
  SLUICE_RETURN_IF_ERROR(GetIntStream(in, count, &words, rev));
  if (in.remaining() != 0) return Corruption("int64: trailing bytes");
  out->resize(count);
  if (transform == static_cast<std::uint8_t>(IntTransform::kDictionary)) {
    for (std::size_t i = 0; i < count; ++i) {
      if (words[i] >= dict.size()) return Corruption("int64: dictionary code out of range");
      (*out)[i] = static_cast<std::int64_t>(dict[words[i]]);
    }
    return Status::Ok();
  }
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < count; ++i) {
    prev = transform == 1 ? prev + words[i] : words[i];
    (*out)[i] = static_cast<std::int64_t>(prev);
  }
  return Status::Ok();
}

}  // namespace sluice::sync::codec
