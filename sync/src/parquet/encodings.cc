#include "encodings.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <vector>

#include "base/coding.h"

namespace sluice::sync::parquet {

static_assert(std::endian::native == std::endian::little,
              "PLAIN encodings memcpy little-endian values");

namespace {

// Packs values LSB first into whole bytes. Holds fewer than 8 bits between
// calls, so a value of up to 56 bits fits the accumulator in one step.
class BitPacker {
 public:
  explicit BitPacker(std::string* out) : out_(out) {}
  void Put(std::uint64_t v, int width) {
    if (width > 56) {
      Put(v & 0xffffffffu, 32);
      Put(v >> 32, width - 32);
      return;
    }
    acc_ |= v << bits_;
    bits_ += width;
    while (bits_ >= 8) {
      out_->push_back(static_cast<char>(acc_ & 0xff));
      acc_ >>= 8;
      bits_ -= 8;
    }
  }
  // Pads the last byte with zeros.
  void Flush() {
    if (bits_ > 0) out_->push_back(static_cast<char>(acc_ & 0xff));
    acc_ = 0;
    bits_ = 0;
  }

 private:
  std::string* out_;
  std::uint64_t acc_ = 0;
  int bits_ = 0;
};

// Packs exactly 32 values of `width` bits (4 * width bytes, byte aligned).
template <typename U>
void Pack32(const U* v, int width, std::string* out) {
  if (width == 0) return;
  BitPacker p(out);
  for (int i = 0; i < 32; ++i) p.Put(static_cast<std::uint64_t>(v[i]), width);
  p.Flush();
}

template <typename T>
void PutBitPackedRun(const T* v, std::size_t count, int width, std::string* out) {
  const std::size_t groups = (count + 7) / 8;
  PutVarint64(*out, (static_cast<std::uint64_t>(groups) << 1) | 1);
  BitPacker p(out);
  for (std::size_t i = 0; i < count; ++i) p.Put(static_cast<std::uint64_t>(v[i]), width);
  for (std::size_t i = count; i < groups * 8; ++i) p.Put(0, width);
  p.Flush();
}

template <typename T>
void PutRleRun(T value, std::size_t count, int width, std::string* out) {
  PutVarint64(*out, static_cast<std::uint64_t>(count) << 1);
  auto u = static_cast<std::uint64_t>(value);
  for (int b = 0; b < (width + 7) / 8; ++b) out->push_back(static_cast<char>((u >> (8 * b)) & 0xff));
}

template <typename T>
void RleHybrid(const T* v, std::size_t n, int width, std::string* out) {
  std::size_t pending = 0;  // start of values not yet written (bit-packed)
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = i + 1;
    while (j < n && v[j] == v[i]) ++j;
    const std::size_t run = j - i;
    if (run >= 8) {
      // A bit-packed run holds a multiple of 8 values unless it is the last:
      // borrow the head of this run to round the pending values up.
      const std::size_t pend = i - pending;
      const std::size_t borrow = pend % 8 == 0 ? 0 : 8 - pend % 8;
      if (run - borrow >= 8) {
        if (pend + borrow > 0) PutBitPackedRun(v + pending, pend + borrow, width, out);
        PutRleRun(v[i], run - borrow, width, out);
        pending = j;
      }
    }
    i = j;
  }
  if (pending < n) PutBitPackedRun(v + pending, n - pending, width, out);
}

// S is the physical type (int32 or int64), U its unsigned twin: deltas and
// their offsets from the block minimum wrap in U.
template <typename S, typename U>
void DeltaBinaryPacked(const S* v, std::size_t n, std::string* out) {
  constexpr std::size_t kBlock = 128;
  constexpr std::size_t kMiniblocks = 4;
  constexpr std::size_t kMini = kBlock / kMiniblocks;
  PutVarint64(*out, kBlock);
  PutVarint64(*out, kMiniblocks);
  PutVarint64(*out, n);
  PutVarint64(*out, ZigZag(n == 0 ? 0 : static_cast<std::int64_t>(v[0])));
  if (n <= 1) return;
  U rel[kBlock];
  U prev = static_cast<U>(v[0]);
  for (std::size_t at = 1; at < n; at += kBlock) {
    const std::size_t count = std::min(kBlock, n - at);
    S min_delta = 0;
    for (std::size_t k = 0; k < count; ++k) {
      const U cur = static_cast<U>(v[at + k]);
      const auto d = static_cast<S>(static_cast<U>(cur - prev));
      rel[k] = static_cast<U>(d);
      min_delta = k == 0 ? d : std::min(min_delta, d);
      prev = cur;
    }
    for (std::size_t k = 0; k < count; ++k) rel[k] = static_cast<U>(rel[k] - static_cast<U>(min_delta));
    std::fill(rel + count, rel + kBlock, U{0});  // padding of the last miniblock
    PutVarint64(*out, ZigZag(static_cast<std::int64_t>(min_delta)));
    int widths[kMiniblocks];
    const std::size_t used = (count + kMini - 1) / kMini;
    for (std::size_t m = 0; m < kMiniblocks; ++m) {
      U all = 0;
      if (m < used) {
        for (std::size_t k = 0; k < kMini; ++k) all |= rel[m * kMini + k];
      }
      widths[m] = std::bit_width(all);
      out->push_back(static_cast<char>(widths[m]));
    }
    for (std::size_t m = 0; m < used; ++m) Pack32(rel + m * kMini, widths[m], out);
  }
}

}  // namespace

int BitWidth(std::uint64_t max_value) { return std::bit_width(max_value); }

void PutPlainInt32(const std::int32_t* v, std::size_t n, std::string* out) {
  out->append(reinterpret_cast<const char*>(v), n * 4);
}
void PutPlainInt64(const std::int64_t* v, std::size_t n, std::string* out) {
  out->append(reinterpret_cast<const char*>(v), n * 8);
}
void PutPlainDouble(const double* v, std::size_t n, std::string* out) {
  out->append(reinterpret_cast<const char*>(v), n * 8);
}

void PutPlainBool(const std::uint8_t* v, std::size_t n, std::string* out) {
  const std::size_t at = out->size();
  out->resize(at + (n + 7) / 8, '\0');
  char* p = out->data() + at;
  for (std::size_t i = 0; i < n; ++i) {
    if (v[i] != 0) p[i / 8] = static_cast<char>(p[i / 8] | (1 << (i % 8)));
  }
}

void PutPlainByteArray(const std::string_view* v, std::size_t n, std::string* out) {
  for (std::size_t i = 0; i < n; ++i) {
    PutFixed32(*out, static_cast<std::uint32_t>(v[i].size()));
    out->append(v[i]);
  }
}

void PutRleHybrid(const std::uint32_t* v, std::size_t n, int width, std::string* out) {
  RleHybrid(v, n, width, out);
}
void PutRleHybridBytes(const std::uint8_t* v, std::size_t n, int width, std::string* out) {
  RleHybrid(v, n, width, out);
}

void PutDeltaBinaryPacked32(const std::int32_t* v, std::size_t n, std::string* out) {
  DeltaBinaryPacked<std::int32_t, std::uint32_t>(v, n, out);
}
void PutDeltaBinaryPacked64(const std::int64_t* v, std::size_t n, std::string* out) {
  DeltaBinaryPacked<std::int64_t, std::uint64_t>(v, n, out);
}

void PutDeltaLengthByteArray(const std::string_view* v, std::size_t n, std::string* out) {
  std::vector<std::int32_t> lengths(n);
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    lengths[i] = static_cast<std::int32_t>(v[i].size());
    total += v[i].size();
  }
  PutDeltaBinaryPacked32(lengths.data(), n, out);
  out->reserve(out->size() + total);
  for (std::size_t i = 0; i < n; ++i) out->append(v[i]);
}

void PutDeltaByteArray(const std::string_view* v, std::size_t n, std::string* out) {
  std::vector<std::int32_t> prefixes(n);
  std::vector<std::string_view> suffixes(n);
  std::string_view prev;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t limit = std::min(prev.size(), v[i].size());
    std::size_t p = 0;
    while (p < limit && prev[p] == v[i][p]) ++p;
    prefixes[i] = static_cast<std::int32_t>(p);
    suffixes[i] = v[i].substr(p);
    prev = v[i];
  }
  PutDeltaBinaryPacked32(prefixes.data(), n, out);
  PutDeltaLengthByteArray(suffixes.data(), n, out);
}

void PutByteStreamSplitDouble(const double* v, std::size_t n, std::string* out) {
  const std::size_t at = out->size();
  out->resize(at + 8 * n);
  char* dst = out->data() + at;
  const auto* src = reinterpret_cast<const char*>(v);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t k = 0; k < 8; ++k) dst[k * n + i] = src[8 * i + k];
  }
}

}  // namespace sluice::sync::parquet
