// The decoders of sluice_reader._native: a twin of base/coding.h,
// sync/src/bit_io.h and {int_codec,float_codec,misc_codec,chunk_compression}.cc,
// check for check and bit for bit (see codecs.h). Each section names its C++
// original.
// One file on purpose, though long: it is the reader's whole decoding side,
// kept in the order of the C++ files it mirrors so that the two can be read
// side by side.
#include "codecs.h"

#include <zstd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

namespace sluice_reader {

static_assert(std::endian::native == std::endian::little,
              "partition codecs memcpy little-endian words");

static_assert(std::endian::native == std::endian::little,
              "partition codecs memcpy little-endian words");

[[noreturn]] void Fail(std::string what) { throw Corrupt{std::move(what)}; }

// ---- CRC32C (Castagnoli) ---------------------------------------------------

struct Crc32cTables {
  std::uint32_t t[8][256];
  Crc32cTables() {
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (std::uint32_t i = 0; i < 256; ++i) {
      for (int k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    }
  }
};
const Crc32cTables kCrc;  // NOLINT: built at load time

// Slicing by 8: about 1.5 GB/s, portable.
std::uint32_t Crc32cSoftware(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint32_t c = ~crc;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    w ^= c;
    c = kCrc.t[7][w & 0xff] ^ kCrc.t[6][(w >> 8) & 0xff] ^ kCrc.t[5][(w >> 16) & 0xff] ^
        kCrc.t[4][(w >> 24) & 0xff] ^ kCrc.t[3][(w >> 32) & 0xff] ^ kCrc.t[2][(w >> 40) & 0xff] ^
        kCrc.t[1][(w >> 48) & 0xff] ^ kCrc.t[0][w >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) c = kCrc.t[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) std::uint32_t Crc32cSse42(std::uint32_t crc,
                                                            const unsigned char* p,
                                                            std::size_t n) {
  std::uint64_t c = ~crc;
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    c = __builtin_ia32_crc32di(c, w);
    p += 8;
    n -= 8;
  }
  auto c32 = static_cast<std::uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return ~c32;
}
const bool kHaveSse42 = __builtin_cpu_supports("sse4.2");
#endif

std::uint32_t Crc32c(std::uint32_t crc, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__)
  if (kHaveSse42) return Crc32cSse42(crc, p, n);
#endif
  return Crc32cSoftware(crc, p, n);
}

std::uint32_t Unmask(std::uint32_t masked) {
  const std::uint32_t rot = masked - 0xa282ead8u;
  return (rot >> 17) | (rot << 15);
}

// ---- base/coding.h, sync/src/bit_io.h ---------------------------------------

inline std::int64_t UnZigZag(std::uint64_t u) {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}
inline std::uint64_t LoadFixed64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view data) : data_(data) {}
  bool GetByte(std::uint8_t* v) {
    if (pos_ >= data_.size()) return false;
    *v = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  bool GetVarint(std::uint64_t* v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      std::uint8_t b;
      if (!GetByte(&b)) return false;
      if (shift == 63 && b > 1) return false;  // the 10th byte holds only bit 63
      result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool GetBytes(std::size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::string_view rest() const { return data_.substr(pos_); }
  bool Skip(std::size_t n) {
    if (remaining() < n) return false;
    pos_ += n;
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

class BitReader {
 public:
  explicit BitReader(std::string_view data) : data_(data) {}
  bool Get(unsigned bits, std::uint64_t* v) {
    if (bits == 0) {
      *v = 0;
      return true;
    }
    if (bits > 64 || bits > available()) return false;
    const std::size_t byte = bit_pos_ >> 3;
    const auto off = static_cast<unsigned>(bit_pos_ & 7);
    std::uint64_t out;
    if (byte + 16 <= data_.size()) {
      out = LoadFixed64(data_.data() + byte) >> off;
      if (off + bits > 64) out |= LoadFixed64(data_.data() + byte + 8) << (64 - off);
    } else {
      out = 0;
      for (unsigned got = 0; got < bits + off; got += 8) {
        std::uint64_t b = static_cast<std::uint8_t>(data_[byte + got / 8]);
        out |= got == 0 ? b >> off : b << (got - off);
      }
    }
    if (bits < 64) out &= (std::uint64_t{1} << bits) - 1;
    bit_pos_ += bits;
    *v = out;
    return true;
  }
  std::uint64_t Peek64() const {
    const std::size_t byte = bit_pos_ >> 3;
    const auto off = static_cast<unsigned>(bit_pos_ & 7);
    std::uint64_t out = 0;
    if (byte + 16 <= data_.size()) {
      out = LoadFixed64(data_.data() + byte) >> off;
      if (off != 0) out |= LoadFixed64(data_.data() + byte + 8) << (64 - off);
      return out;
    }
    for (unsigned got = 0; got < 64 + off && byte + got / 8 < data_.size(); got += 8) {
      std::uint64_t b = static_cast<std::uint8_t>(data_[byte + got / 8]);
      if (got == 0) {
        out = b >> off;
      } else if (got - off < 64) {
        out |= b << (got - off);
      }
    }
    return out;
  }
  bool Skip(std::size_t bits) {
    if (bits > available()) return false;
    bit_pos_ += bits;
    return true;
  }
  std::size_t available() const { return data_.size() * 8 - bit_pos_; }
  std::size_t bit_position() const { return bit_pos_; }

 private:
  std::string_view data_;
  std::size_t bit_pos_ = 0;
};

// ---- int_codec.cc ----------------------------------------------------------

constexpr std::size_t kIntBlockSize = 128;
constexpr unsigned kRiceEscape = 32;
enum Packing : std::uint8_t { kZigzagVarint = 1, kFrameOfReference = 2, kRice = 3 };

[[noreturn]] void Bad(const char* what) { Fail(std::string("integer stream: ") + what); }

void GetRice(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out) {
  if ((count + kIntBlockSize - 1) / kIntBlockSize > in.remaining() / 2 ||
      count / 8 > in.remaining()) {
    Bad("count exceeds data");
  }
  out->resize(count);
  std::uint64_t* o = out->data();
  for (std::size_t i = 0; i < count; i += kIntBlockSize) {
    const std::size_t n = std::min(kIntBlockSize, count - i);
    std::uint64_t zcenter;
    std::uint8_t k;
    if (!in.GetVarint(&zcenter) || !in.GetByte(&k)) Bad("truncated Rice block header");
    if (k > 63) Bad("Rice parameter above 63");
    const auto center = static_cast<std::uint64_t>(UnZigZag(zcenter));
    BitReader bits(in.rest());
    for (std::size_t j = 0; j < n; ++j) {
      const std::uint64_t w = bits.Peek64();
      const auto q = static_cast<unsigned>(std::countr_zero(w));
      std::uint64_t u;
      if (q < kRiceEscape) {
        std::uint64_t low;
        if (!bits.Skip(q + 1) || !bits.Get(k, &low)) Bad("truncated Rice block");
        u = (std::uint64_t{q} << k) | low;
      } else if (!bits.Skip(kRiceEscape) || !bits.Get(64, &u)) {
        Bad("truncated Rice escape");
      }
      *o++ = center + static_cast<std::uint64_t>(UnZigZag(u));
    }
    (void)in.Skip((bits.bit_position() + 7) / 8);
  }
}

void GetIntStream(ByteReader& in, std::size_t count, std::vector<std::uint64_t>* out, Rev rev) {
  std::uint8_t mode;
  if (!in.GetByte(&mode)) Bad("missing packing byte");
  out->clear();
  if (mode == kRice && rev == Rev::kV2) return GetRice(in, count, out);
  if (mode == kZigzagVarint) {
    if (count > in.remaining()) Bad("count exceeds data");
    out->resize(count);
    for (std::size_t i = 0; i < count; ++i) {
      std::uint64_t z;
      if (!in.GetVarint(&z)) Bad("truncated varint");
      (*out)[i] = static_cast<std::uint64_t>(UnZigZag(z));
    }
    return;
  }
  if (mode != kFrameOfReference) Bad("unknown packing");
  if ((count + kIntBlockSize - 1) / kIntBlockSize > in.remaining() / 2) Bad("count exceeds data");
  out->resize(count);
  std::uint64_t* o = out->data();
  for (std::size_t i = 0; i < count; i += kIntBlockSize) {
    const std::size_t n = std::min(kIntBlockSize, count - i);
    std::uint64_t zmin;
    std::uint8_t width;
    if (!in.GetVarint(&zmin) || !in.GetByte(&width)) Bad("truncated block header");
    if (width > 64) Bad("bit width above 64");
    std::string_view packed;
    if (!in.GetBytes((n * width + 7) / 8, &packed)) Bad("truncated block");
    const auto base = static_cast<std::uint64_t>(UnZigZag(zmin));
    BitReader bits(packed);
    for (std::size_t j = 0; j < n; ++j) {
      std::uint64_t off = 0;
      bits.Get(width, &off);  // cannot fail: the span holds n * width bits
      *o++ = base + off;
    }
  }
}

std::vector<std::int64_t> DecodeTimestamps(std::string_view data, std::size_t count) {
  ByteReader in(data);
  if (count > data.size() * 64 + 2) Fail("timestamps: count exceeds data");
  std::uint64_t z0 = 0, z1 = 0;
  if (count >= 1 && !in.GetVarint(&z0)) Fail("timestamps: truncated first value");
  if (count >= 2 && !in.GetVarint(&z1)) Fail("timestamps: truncated first delta");
  std::vector<std::uint64_t> dod;
  GetIntStream(in, count >= 2 ? count - 2 : 0, &dod, Rev::kV1);
  if (in.remaining() != 0) Fail("timestamps: trailing bytes");
  std::vector<std::int64_t> out(count);
  if (count >= 1) out[0] = UnZigZag(z0);
  std::uint64_t prev = static_cast<std::uint64_t>(UnZigZag(z0));
  std::uint64_t delta = static_cast<std::uint64_t>(UnZigZag(z1));
  for (std::size_t i = 1; i < count; ++i) {
    if (i >= 2) delta += dod[i - 2];
    prev += delta;
    out[i] = static_cast<std::int64_t>(prev);
  }
  return out;
}

std::vector<std::int64_t> DecodeScaledTimestamps(std::string_view data, std::size_t count) {
  ByteReader in(data);
  if (count > data.size() * 64 + 2) Fail("timestamps: count exceeds data");
  std::uint64_t z0 = 0, unit = 0, z1 = 0;
  if (count >= 1 && !in.GetVarint(&z0)) Fail("timestamps: truncated first value");
  if (!in.GetVarint(&unit) || unit == 0) Fail("timestamps: bad unit");
  if (count >= 2 && !in.GetVarint(&z1)) Fail("timestamps: truncated first delta");
  std::vector<std::uint64_t> dod;
  GetIntStream(in, count >= 2 ? count - 2 : 0, &dod, Rev::kV2);
  if (in.remaining() != 0) Fail("timestamps: trailing bytes");
  std::vector<std::int64_t> out(count);
  if (count >= 1) out[0] = UnZigZag(z0);
  std::uint64_t prev = static_cast<std::uint64_t>(UnZigZag(z0));
  std::uint64_t k = static_cast<std::uint64_t>(UnZigZag(z1));
  for (std::size_t i = 1; i < count; ++i) {
    if (i >= 2) k += dod[i - 2];
    prev += k * unit;
    out[i] = static_cast<std::int64_t>(prev);
  }
  return out;
}

std::vector<std::int64_t> DecodeInt64s(std::string_view data, std::size_t count, Rev rev) {
  ByteReader in(data);
  std::uint8_t transform;
  const std::uint8_t max_transform = rev == Rev::kV2 ? 2 : 1;
  if (!in.GetByte(&transform) || transform > max_transform) Fail("int64: bad transform byte");
  std::vector<std::uint64_t> dict;
  if (transform == 2) {
    std::uint64_t d;
    if (!in.GetVarint(&d) || d > in.remaining() || (d == 0 && count != 0)) {
      Fail("int64: bad dictionary size");
    }
    GetIntStream(in, d, &dict, rev);
    std::uint64_t prev = 0;
    for (std::size_t i = 0; i < dict.size(); ++i) {
      prev += dict[i];
      if (i > 0 && static_cast<std::int64_t>(prev) <= static_cast<std::int64_t>(dict[i - 1])) {
        Fail("int64: dictionary not strictly increasing");
      }
      dict[i] = prev;
    }
  }
  std::vector<std::uint64_t> words;
  GetIntStream(in, count, &words, rev);
  if (in.remaining() != 0) Fail("int64: trailing bytes");
  std::vector<std::int64_t> out(count);
  if (transform == 2) {
    for (std::size_t i = 0; i < count; ++i) {
      if (words[i] >= dict.size()) Fail("int64: dictionary code out of range");
      out[i] = static_cast<std::int64_t>(dict[words[i]]);
    }
    return out;
  }
  std::uint64_t prev = 0;
  for (std::size_t i = 0; i < count; ++i) {
    prev = transform == 1 ? prev + words[i] : words[i];
    out[i] = static_cast<std::int64_t>(prev);
  }
  return out;
}

// ---- float_codec.cc --------------------------------------------------------

std::vector<double> DecodeFloatRaw(std::string_view data, std::size_t count) {
  if (data.size() / 8 != count || data.size() % 8 != 0) Fail("float raw: length is not 8 * count");
  std::vector<double> out(count);
  if (count != 0) std::memcpy(out.data(), data.data(), data.size());
  return out;
}

std::vector<double> DecodeFloatXor(std::string_view data, std::size_t count) {
  std::vector<double> out;
  if (count == 0) {
    if (!data.empty()) Fail("float xor: bytes for zero values");
    return out;
  }
  if (data.size() < 8 || count - 1 > (data.size() - 8) * 8) Fail("float xor: count exceeds data");
  BitReader bits(data);
  std::uint64_t prev = 0;
  bits.Get(64, &prev);
  out.resize(count);
  out[0] = std::bit_cast<double>(prev);
  unsigned win_lead = 65, win_trail = 0;
  for (std::size_t i = 1; i < count; ++i) {
    std::uint64_t flag;
    if (!bits.Get(1, &flag)) Fail("float xor: truncated");
    if (flag != 0) {
      std::uint64_t fresh, x;
      if (!bits.Get(1, &fresh)) Fail("float xor: truncated");
      if (fresh != 0) {
        std::uint64_t lead, sig_minus_1;
        if (!bits.Get(5, &lead) || !bits.Get(6, &sig_minus_1)) Fail("float xor: truncated window");
        if (lead + sig_minus_1 + 1 > 64) Fail("float xor: window beyond 64 bits");
        win_lead = static_cast<unsigned>(lead);
        win_trail = 64 - win_lead - static_cast<unsigned>(sig_minus_1 + 1);
      } else if (win_lead > 64) {
        Fail("float xor: reuse of a window before the first");
      }
      if (!bits.Get(64 - win_lead - win_trail, &x)) Fail("float xor: truncated bits");
      prev ^= x << win_trail;
    }
    out[i] = std::bit_cast<double>(prev);
  }
  if (bits.available() >= 8) Fail("float xor: trailing bytes");
  return out;
}

constexpr double kPow10[19] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                               1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

std::vector<double> DecodeFloatDecimal(std::string_view data, std::size_t count) {
  ByteReader in(data);
  std::uint8_t exponent;
  std::uint64_t n_exc;
  if (!in.GetByte(&exponent) || exponent > 18) Fail("float decimal: bad exponent");
  if (!in.GetVarint(&n_exc) || n_exc > count || n_exc > in.remaining() / 9) {
    Fail("float decimal: bad exception count");
  }
  std::vector<std::size_t> positions(n_exc);
  std::uint64_t pos = 0;
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t gap;
    if (!in.GetVarint(&gap)) Fail("float decimal: truncated exception position");
    if ((i > 0 && gap == 0) || gap >= count || pos + gap >= count) {
      Fail("float decimal: exception position out of order or range");
    }
    pos += gap;
    positions[i] = pos;
  }
  std::string_view raw;
  if (!in.GetBytes(n_exc * 8, &raw)) Fail("float decimal: truncated exceptions");
  std::vector<std::int64_t> ints = DecodeInt64s(in.rest(), count, Rev::kV1);
  std::vector<double> out(count);
  const double scale = kPow10[exponent];
  for (std::size_t i = 0; i < count; ++i) out[i] = static_cast<double>(ints[i]) / scale;
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    out[positions[i]] = std::bit_cast<double>(LoadFixed64(raw.data() + i * 8));
  }
  return out;
}

constexpr int kMaxDigitsExponent = 22;
constexpr int kMaxDigits = 16;
constexpr double kExactPow10[kMaxDigitsExponent + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
constexpr std::array<std::uint64_t, kMaxDigits + 1> kPow10U = [] {
  std::array<std::uint64_t, kMaxDigits + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= kMaxDigits; ++i) p[i] = p[i - 1] * 10;
  return p;
}();

inline double Scale(double m, int q) { return q >= 0 ? m * kExactPow10[q] : m / kExactPow10[-q]; }

// DigitsMap::Value in float_codec.cc.
class DigitsMap {
 public:
  DigitsMap(int digits, int qmin, bool float32)
      : float32_(float32),
        qmin_(qmin),
        sub_(kPow10U[digits]),
        lead_(kPow10U[digits - 1]),
        band_(9 * kPow10U[digits - 1]),
        max_band_(static_cast<std::uint64_t>(kMaxDigitsExponent - qmin - 1)) {}
  bool Value(std::int64_t i, double* out) const {
    const std::uint64_t u =
        i < 0 ? 0 - static_cast<std::uint64_t>(i) : static_cast<std::uint64_t>(i);
    double a;
    if (u < sub_) {
      a = Scale(static_cast<double>(u), qmin_);
    } else {
      const std::uint64_t j = u - sub_;
      const std::uint64_t band = j / band_;
      if (qmin_ == kMaxDigitsExponent || band > max_band_) return false;
      a = Scale(static_cast<double>(lead_ + j % band_), qmin_ + 1 + static_cast<int>(band));
    }
    if (float32_) a = static_cast<double>(static_cast<float>(a));
    *out = i < 0 ? -a : a;
    return true;
  }

 private:
  bool float32_;
  int qmin_;
  std::uint64_t sub_, lead_, band_, max_band_;
};

std::vector<double> DecodeFloatDecimalDigits(std::string_view data, std::size_t count,
                                             bool float32) {
  ByteReader in(data);
  std::uint8_t digits;
  std::uint64_t zq, n_exc;
  if (!in.GetByte(&digits) || digits < 1 || digits > kMaxDigits) {
    Fail("float decimal digits: bad digit count");
  }
  if (!in.GetVarint(&zq)) Fail("float decimal digits: truncated exponent");
  const std::int64_t qmin = UnZigZag(zq);
  if (qmin < -kMaxDigitsExponent || qmin > kMaxDigitsExponent) {
    Fail("float decimal digits: exponent out of range");
  }
  if (!in.GetVarint(&n_exc) || n_exc > count || n_exc > in.remaining() / 2) {
    Fail("float decimal digits: bad exception count");
  }
  std::vector<std::size_t> positions(n_exc);
  std::uint64_t pos = 0;
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t gap;
    if (!in.GetVarint(&gap)) Fail("float decimal digits: truncated exception position");
    if ((i > 0 && gap == 0) || gap >= count || pos + gap >= count) {
      Fail("float decimal digits: exception position out of order or range");
    }
    pos += gap;
    positions[i] = pos;
  }
  std::vector<std::uint64_t> corrections(n_exc);
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t z;
    if (!in.GetVarint(&z)) Fail("float decimal digits: truncated correction");
    corrections[i] = static_cast<std::uint64_t>(UnZigZag(z));
  }
  std::vector<std::int64_t> indices = DecodeInt64s(in.rest(), count, Rev::kV2);
  const DigitsMap map(digits, static_cast<int>(qmin), float32);
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!map.Value(indices[i], &out[i])) Fail("float decimal digits: index above 10^22");
  }
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    double& d = out[positions[i]];
    d = std::bit_cast<double>(std::bit_cast<std::uint64_t>(d) + corrections[i]);
  }
  return out;
}

// ---- misc_codec.cc ---------------------------------------------------------

std::vector<std::uint8_t> DecodeBools(std::string_view data, std::size_t count) {
  if (data.size() != (count / 8) + (count % 8 != 0)) {
    Fail("bool bitmap: length is not ceil(count / 8)");
  }
  std::vector<std::uint8_t> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = (static_cast<std::uint8_t>(data[i / 8]) >> (i % 8)) & 1;
  }
  if (count % 8 != 0 && (static_cast<std::uint8_t>(data.back()) >> (count % 8)) != 0) {
    Fail("bool bitmap: padding bits set");
  }
  return out;
}

// The values' extents in `data` (the Python side makes the bytes objects).
std::vector<std::pair<std::size_t, std::size_t>> DecodeBytes(std::string_view data,
                                                             std::size_t count) {
  ByteReader in(data);
  std::vector<std::uint64_t> lengths;
  GetIntStream(in, count, &lengths, Rev::kV1);
  std::uint64_t total = 0;
  for (std::uint64_t n : lengths) {
    if (n > in.remaining() - total) Fail("bytes: lengths exceed data");
    total += n;
  }
  if (total != in.remaining()) Fail("bytes: trailing bytes");
  std::vector<std::pair<std::size_t, std::size_t>> out(count);
  std::size_t at = data.size() - in.remaining();
  for (std::size_t i = 0; i < count; ++i) {
    out[i] = {at, lengths[i]};
    at += lengths[i];
  }
  return out;
}

// ---- chunk_compression.cc --------------------------------------------------

struct DctxFree {
  void operator()(ZSTD_DCtx* d) const { ZSTD_freeDCtx(d); }
};

std::string DecompressChunk(std::string_view stored, std::uint64_t raw_length) {
  const unsigned long long size = ZSTD_getFrameContentSize(stored.data(), stored.size());
  if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN) {
    Fail("not a zstd frame with a content size");
  }
  if (size != raw_length) Fail("zstd frame size differs from raw_length");
  if (ZSTD_findFrameCompressedSize(stored.data(), stored.size()) != stored.size()) {
    Fail("bytes after the zstd frame");
  }
  thread_local std::unique_ptr<ZSTD_DCtx, DctxFree> dctx(ZSTD_createDCtx());
  if (!dctx) throw std::bad_alloc();
  std::string out(raw_length, '\0');
  const std::size_t n =
      ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), stored.data(), stored.size());
  if (ZSTD_isError(n)) Fail(std::string("zstd: ") + ZSTD_getErrorName(n));
  if (n != raw_length) Fail("zstd frame shorter than raw_length");
  return out;
}

std::vector<double> DecodeFloatDictionary(std::string_view data, std::size_t count) {
  ByteReader in(data);
  std::uint64_t d, inner_length;
  std::uint8_t inner;
  if (!in.GetVarint(&d) || d > count || (d == 0 && count != 0)) {
    Fail("float dictionary: bad dictionary size");
  }
  if (!in.GetByte(&inner)) Fail("float dictionary: truncated codec");
  std::string_view values_bytes;
  if (!in.GetVarint(&inner_length) || !in.GetBytes(inner_length, &values_bytes)) {
    Fail("float dictionary: truncated values");
  }
  std::vector<double> values;
  switch (inner) {
    case 10: values = DecodeFloatRaw(values_bytes, d); break;
    case 11: values = DecodeFloatXor(values_bytes, d); break;
    case 13: values = DecodeFloatDecimalDigits(values_bytes, d, false); break;
    case 14: values = DecodeFloatDecimalDigits(values_bytes, d, true); break;
    default: Fail("float dictionary: values codec " + std::to_string(inner));
  }
  const std::vector<std::int64_t> codes = DecodeInt64s(in.rest(), count, Rev::kV2);
  std::vector<double> out(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (codes[i] < 0 || static_cast<std::uint64_t>(codes[i]) >= d) {
      Fail("float dictionary: code out of range");
    }
    out[i] = values[static_cast<std::size_t>(codes[i])];
  }
  return out;
}

}  // namespace sluice_reader
