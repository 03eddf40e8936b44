// The value side of a column chunk, for column_writer.cc: typed access to a
// ColumnSlice, PLAIN sizes, page cuts, non-dictionary value encodings, the
// dictionary, per-page bounds and their PLAIN/truncated forms, and the
// encodings each column may try. Internal to the writer; included once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "column_writer.h"
#include "encodings.h"

namespace sluice::sync::parquet {
namespace {

// Opaque byte arrays longer than this get truncated bounds.
constexpr std::size_t kMaxBoundBytes = 64;
struct PageSpan {
  std::size_t row_begin, row_end, val_begin, val_end;
};

template <ValueKind K>
struct KindTraits;
template <>
struct KindTraits<ValueKind::kInt64> {
  using T = std::int64_t;
  static constexpr PhysicalType kType = PhysicalType::kInt64;
};
template <>
struct KindTraits<ValueKind::kInt32> {
  using T = std::int32_t;
  static constexpr PhysicalType kType = PhysicalType::kInt32;
};
template <>
struct KindTraits<ValueKind::kDouble> {
  using T = double;
  static constexpr PhysicalType kType = PhysicalType::kDouble;
};
template <>
struct KindTraits<ValueKind::kBool> {
  using T = std::uint8_t;
  static constexpr PhysicalType kType = PhysicalType::kBoolean;
};
template <>
struct KindTraits<ValueKind::kBytes> {
  using T = std::string_view;
  static constexpr PhysicalType kType = PhysicalType::kByteArray;
};
template <>
struct KindTraits<ValueKind::kCoded> {
  using T = std::string_view;
  static constexpr PhysicalType kType = PhysicalType::kByteArray;
};

template <ValueKind K>
typename KindTraits<K>::T Get(const ColumnSlice& s, std::size_t i) {
  if constexpr (K == ValueKind::kInt64) return s.i64[i];
  if constexpr (K == ValueKind::kInt32) return s.i32[i];
  if constexpr (K == ValueKind::kDouble) return s.f64[i];
  if constexpr (K == ValueKind::kBool) return s.bools[i] != 0 ? 1 : 0;
  if constexpr (K == ValueKind::kBytes) return s.bytes[i];
  if constexpr (K == ValueKind::kCoded) return s.entries[s.codes[i]];
}

template <ValueKind K>
std::size_t PlainSize(const ColumnSlice& s, std::size_t i) {
  if constexpr (K == ValueKind::kInt64 || K == ValueKind::kDouble) return 8;
  if constexpr (K == ValueKind::kInt32) return 4;
  if constexpr (K == ValueKind::kBool) return 1;
  if constexpr (K == ValueKind::kBytes || K == ValueKind::kCoded) return 4 + Get<K>(s, i).size();
}

void PutU32(std::string* out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

// Cuts pages at max_page_rows rows or once target_page_bytes of plain values
// are in, whichever comes first; at least one row per page. A page whose row
// cut would leave fewer than a quarter of max_page_rows for a last page takes
// them too (up to 1.25 x max_page_rows): a short trailing page costs a page
// header, a zstd frame and page-index entries for little pruning.
template <ValueKind K>
std::vector<PageSpan> SplitPages(const ColumnSlice& s, const ParquetOptions& o) {
  std::vector<PageSpan> pages;
  std::size_t row = 0, val = 0;
  while (row < s.rows) {
    PageSpan p{row, row, val, val};
    std::size_t bytes = 0;
    std::size_t row_limit = row + std::min<std::uint64_t>(o.max_page_rows, s.rows - row);
    if (s.rows - row_limit < o.max_page_rows / 4) row_limit = s.rows;
    if (!s.optional && K != ValueKind::kBytes && K != ValueKind::kCoded) {
      // Fixed width, one value per row: the cut is arithmetic.
      const std::size_t per = PlainSize<K>(s, 0);
      const std::size_t n = std::max<std::size_t>(1, (o.target_page_bytes + per - 1) / per);
      row = std::min(row_limit, row + n);
      val = row;
    } else {
      while (row < row_limit && bytes < o.target_page_bytes) {
        if (!s.optional || s.def[row] != 0) {
          bytes += PlainSize<K>(s, val);
          ++val;
        }
        ++row;
      }
    }
    p.row_end = row;
    p.val_end = val;
    pages.push_back(p);
  }
  return pages;
}

// Values [a, b) in a non-dictionary encoding.
template <ValueKind K>
void EncodeValues(const ColumnSlice& s, ParquetEncoding e, std::size_t a, std::size_t b,
                  std::string* out, std::vector<std::string_view>* scratch) {
  const std::size_t n = b - a;
  if constexpr (K == ValueKind::kInt64) {
    if (e == ParquetEncoding::kDeltaBinaryPacked) return PutDeltaBinaryPacked64(s.i64 + a, n, out);
    return PutPlainInt64(s.i64 + a, n, out);
  } else if constexpr (K == ValueKind::kInt32) {
    if (e == ParquetEncoding::kDeltaBinaryPacked) return PutDeltaBinaryPacked32(s.i32 + a, n, out);
    return PutPlainInt32(s.i32 + a, n, out);
  } else if constexpr (K == ValueKind::kDouble) {
    if (e == ParquetEncoding::kByteStreamSplit) return PutByteStreamSplitDouble(s.f64 + a, n, out);
    return PutPlainDouble(s.f64 + a, n, out);
  } else if constexpr (K == ValueKind::kBool) {
    if (e == ParquetEncoding::kRle) {
      // RLE booleans carry a 4-byte length in both page versions.
      const std::size_t at = out->size();
      PutU32(out, 0);
      PutRleHybridBytes(s.bools + a, n, 1, out);
      const auto len = static_cast<std::uint32_t>(out->size() - at - 4);
      std::memcpy(out->data() + at, &len, 4);
      return;
    }
    return PutPlainBool(s.bools + a, n, out);
  } else {
    const std::string_view* v;
    if constexpr (K == ValueKind::kBytes) {
      v = s.bytes + a;
    } else {
      scratch->clear();
      for (std::size_t i = a; i < b; ++i) scratch->push_back(s.entries[s.codes[i]]);
      v = scratch->data();
    }
    if (e == ParquetEncoding::kDeltaLengthByteArray) return PutDeltaLengthByteArray(v, n, out);
    if (e == ParquetEncoding::kDeltaByteArray) return PutDeltaByteArray(v, n, out);
    return PutPlainByteArray(v, n, out);
  }
}

// A chunk's dictionary in first-appearance order. Doubles are keyed by their
// bits, so NaN payloads and -0.0 keep their own entries (lossless).
template <ValueKind K>
class Dictionary {
 public:
  using T = typename KindTraits<K>::T;
  explicit Dictionary(const ColumnSlice& s) : s_(s) {}

  std::uint32_t Insert(std::size_t value_index) {
    if constexpr (K == ValueKind::kCoded) {
      const std::uint32_t code = s_.codes[value_index];
      if (code == size_) {
        ++size_;
        bytes_ += 4 + s_.entries[code].size();
      }
      SLUICE_CHECK(code < size_);  // codes are in first-appearance order
      return code;
    } else {
      const T v = Get<K>(s_, value_index);
      if (slots_.empty() || 2 * (entries_.size() + 1) > slots_.size()) Grow();
      const std::size_t mask = slots_.size() - 1;
      for (std::size_t at = Hash(v) & mask;; at = (at + 1) & mask) {
        const std::uint32_t slot = slots_[at];
        if (slot == 0) {
          entries_.push_back(v);
          bytes_ += PlainSize<K>(s_, value_index);
          slots_[at] = static_cast<std::uint32_t>(entries_.size());
          return static_cast<std::uint32_t>(entries_.size() - 1);
        }
        if (Same(entries_[slot - 1], v)) return slot - 1;
      }
    }
  }

  std::size_t size() const {
    if constexpr (K == ValueKind::kCoded) {
      return size_;
    } else {
      return entries_.size();
    }
  }
  std::size_t plain_bytes() const { return bytes_; }

  // Back to an earlier size; no Insert may follow.
  void Truncate(std::size_t n, std::size_t bytes) {
    if constexpr (K == ValueKind::kCoded) {
      size_ = static_cast<std::uint32_t>(n);
    } else {
      entries_.resize(n);
    }
    bytes_ = bytes;
  }

  void PutPlain(std::string* out) const {
    if constexpr (K == ValueKind::kCoded) {
      PutPlainByteArray(s_.entries, size_, out);
    } else if constexpr (K == ValueKind::kInt64) {
      PutPlainInt64(entries_.data(), entries_.size(), out);
    } else if constexpr (K == ValueKind::kInt32) {
      PutPlainInt32(entries_.data(), entries_.size(), out);
    } else if constexpr (K == ValueKind::kDouble) {
      PutPlainDouble(entries_.data(), entries_.size(), out);
    } else if constexpr (K == ValueKind::kBytes) {
      PutPlainByteArray(entries_.data(), entries_.size(), out);
    }
  }

 private:
  static std::size_t Hash(const T& v) {
    if constexpr (std::is_same_v<T, std::string_view>) {
      return std::hash<std::string_view>{}(v);
    } else {
      std::uint64_t x;
      if constexpr (std::is_same_v<T, double>) {
        x = std::bit_cast<std::uint64_t>(v);
      } else {
        x = static_cast<std::uint64_t>(v);
      }
      x *= 0x9e3779b97f4a7c15ULL;
      return static_cast<std::size_t>(x ^ (x >> 29));
    }
  }
  static bool Same(const T& a, const T& b) {
    if constexpr (std::is_same_v<T, double>) {
      return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b);
    } else {
      return a == b;
    }
  }
  void Grow() {
    std::vector<std::uint32_t> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, old.size() * 2), 0);
    const std::size_t mask = slots_.size() - 1;
    for (std::uint32_t slot : old) {
      if (slot == 0) continue;
      std::size_t at = Hash(entries_[slot - 1]) & mask;
      while (slots_[at] != 0) at = (at + 1) & mask;
      slots_[at] = slot;
    }
  }

  const ColumnSlice& s_;
  std::vector<T> entries_;
  std::vector<std::uint32_t> slots_;  // entry index + 1; 0 = empty
  std::uint32_t size_ = 0;            // kCoded
  std::size_t bytes_ = 0;
};

// Bounds of one page or chunk, in the column's sort order: signed for
// integers, IEEE for doubles with NaN left out, unsigned bytes for arrays.
template <typename T>
struct Bounds {
  bool has = false;
  T min{}, max{};
  std::int64_t nans = 0;

  void Add(T v) {
    if constexpr (std::is_same_v<T, double>) {
      if (std::isnan(v)) {
        ++nans;
        return;
      }
    }
    if (!has) {
      min = max = v;
      has = true;
    } else {
      if (v < min) min = v;
      if (max < v) max = v;
    }
  }
  void Merge(const Bounds& o) {
    nans += o.nans;
    if (!o.has) return;
    Add(o.min);
    Add(o.max);
  }
};

template <ValueKind K>
Bounds<typename KindTraits<K>::T> PageBounds(const ColumnSlice& s, std::size_t a, std::size_t b) {
  Bounds<typename KindTraits<K>::T> r;
  if constexpr (K == ValueKind::kCoded) {
    // Codes come in long runs (one series, one type): compare on change only.
    std::uint32_t last = std::numeric_limits<std::uint32_t>::max();
    for (std::size_t i = a; i < b; ++i) {
      if (s.codes[i] != last) {
        last = s.codes[i];
        r.Add(s.entries[last]);
      }
    }
  } else {
    for (std::size_t i = a; i < b; ++i) r.Add(Get<K>(s, i));
  }
  return r;
}

// PLAIN bytes of a bound. Doubles: a zero minimum is written as -0.0 and a
// zero maximum as +0.0, so that readers never prune a page holding the other
// zero (the convention of parquet-mr and Arrow).
template <typename T>
std::string PlainBound(T v, bool is_max) {
  std::string out;
  if constexpr (std::is_same_v<T, std::string_view>) {
    out.assign(v);
  } else if constexpr (std::is_same_v<T, std::uint8_t>) {
    out.push_back(static_cast<char>(v));
  } else {
    if constexpr (std::is_same_v<T, double>) {
      if (v == 0.0) v = is_max ? 0.0 : -0.0;
    }
    out.resize(sizeof(T));
    std::memcpy(out.data(), &v, sizeof(T));
  }
  return out;
}

// Truncated bounds for long opaque byte arrays: the minimum's prefix is still
// a lower bound; the maximum's prefix with its last byte below 0xff raised by
// one is still an upper bound. Returns whether the bound stayed exact.
bool TruncateMin(std::string* v) {
  if (v->size() <= kMaxBoundBytes) return true;
  v->resize(kMaxBoundBytes);
  return false;
}
bool TruncateMax(std::string* v) {
  if (v->size() <= kMaxBoundBytes) return true;
  std::string t = v->substr(0, kMaxBoundBytes);
  while (!t.empty() && static_cast<unsigned char>(t.back()) == 0xff) t.pop_back();
  if (t.empty()) return true;  // all 0xff: keep the exact value
  t.back() = static_cast<char>(static_cast<unsigned char>(t.back()) + 1);
  *v = std::move(t);
  return false;
}

std::vector<ParquetEncoding> Candidates(ValueKind k, ParquetEncodingSet set) {
  const bool compact = set == ParquetEncodingSet::kCompact;
  switch (k) {
    case ValueKind::kInt64:
    case ValueKind::kInt32:
      return {ParquetEncoding::kPlain, ParquetEncoding::kDeltaBinaryPacked};
    case ValueKind::kDouble:
      if (compact) return {ParquetEncoding::kPlain, ParquetEncoding::kByteStreamSplit};
      return {ParquetEncoding::kPlain};
    case ValueKind::kBool:
      if (compact) return {ParquetEncoding::kPlain, ParquetEncoding::kRle};
      return {ParquetEncoding::kPlain};
    case ValueKind::kBytes:
    case ValueKind::kCoded:
      if (compact) {
        return {ParquetEncoding::kPlain, ParquetEncoding::kDeltaLengthByteArray,
                ParquetEncoding::kDeltaByteArray};
      }
      return {ParquetEncoding::kPlain};
  }
  return {ParquetEncoding::kPlain};
}

std::int32_t EncodingId(ParquetEncoding e) { return static_cast<std::int32_t>(e); }

}  // namespace
}  // namespace sluice::sync::parquet
