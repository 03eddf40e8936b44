// The float64 codecs of float_codec.h, encoders and decoders together.
// Longer than most files on purpose: each encoder sits next to the decoder
// that must undo it bit for bit (and next to the choice between them), so
// that a change to one is made in sight of the other.
#include "float_codec.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <unordered_map>

#include "bit_io.h"

namespace sluice::sync::codec {
namespace {

// Powers of ten, all exact as doubles (10^22 is the last exact one).
constexpr double kPow10[kMaxDecimalExponent + 1] = {
    1e0, 1e1, 1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
    1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

// Integers up to 2^53 convert to double exactly, so n / 10^e is one
// correctly rounded division: the double nearest the decimal n * 10^-e, the
// same double strtod gives for the printed decimal.
constexpr double kMaxExact = 9007199254740992.0;  // 2^53

inline double DecimalValue(std::int64_t n, int e) { return static_cast<double>(n) / kPow10[e]; }

// n with DecimalValue(n, e) bit-identical to v, or false.
inline bool ToDecimal(double v, int e, std::int64_t* n) {
  double scaled = v * kPow10[e];
  if (!(std::fabs(scaled) < kMaxExact)) return false;  // also NaN and inf
  auto r = static_cast<std::int64_t>(std::nearbyint(scaled));
  if (std::bit_cast<std::uint64_t>(DecimalValue(r, e)) != std::bit_cast<std::uint64_t>(v)) {
    return false;  // includes -0.0, which would come back as +0.0
  }
  *n = r;
  return true;
}

}  // namespace

void EncodeFloatRaw(std::span<const double> v, std::string* out) {
  std::size_t at = out->size();
  out->resize(at + v.size() * 8);
  if (!v.empty()) std::memcpy(out->data() + at, v.data(), v.size() * 8);
}

Status DecodeFloatRaw(std::string_view data, std::size_t count, std::vector<double>* out) {
  if (data.size() / 8 != count || data.size() % 8 != 0) {
    return Corruption("float raw: length is not 8 * count");
  }
  out->resize(count);
  if (count != 0) std::memcpy(out->data(), data.data(), data.size());
  return Status::Ok();
}

// Gorilla's layout: first value in 64 bits; then per value a '0' bit when equal
// to the previous, else '1' and either '0' + the meaningful bits inside the
// previous window of leading/trailing zeros, or '1' + 5 bits of leading zeros
// + 6 bits of (meaningful length - 1) + the meaningful bits.
void EncodeFloatXor(std::span<const double> v, std::string* out) {
  if (v.empty()) return;
  BitWriter bits(*out);
  std::uint64_t prev = std::bit_cast<std::uint64_t>(v[0]);
  bits.Put(prev, 64);
  unsigned win_lead = 65, win_trail = 0;  // no window yet
  for (std::size_t i = 1; i < v.size(); ++i) {
    std::uint64_t cur = std::bit_cast<std::uint64_t>(v[i]);
    std::uint64_t x = cur ^ prev;
    prev = cur;
    if (x == 0) {
      bits.Put(0, 1);
      continue;
    }
    unsigned lead = std::min(31u, static_cast<unsigned>(std::countl_zero(x)));
    unsigned trail = static_cast<unsigned>(std::countr_zero(x));
    if (win_lead <= 64 && lead >= win_lead && trail >= win_trail) {
      bits.Put(0b01, 2);  // '1' then '0', LSB first
      bits.Put(x >> win_trail, 64 - win_lead - win_trail);
    } else {
      unsigned sig = 64 - lead - trail;
      bits.Put(0b11, 2);
      bits.Put(lead, 5);
      bits.Put(sig - 1, 6);
      bits.Put(x >> trail, sig);
      win_lead = lead;
      win_trail = trail;
    }
  }
  bits.Flush();
}

Status DecodeFloatXor(std::string_view data, std::size_t count, std::vector<double>* out) {
  out->clear();
  if (count == 0) {
    return data.empty() ? Status::Ok() : Corruption("float xor: bytes for zero values");
  }
  // Every value after the first costs at least one bit.
  if (data.size() < 8 || count - 1 > (data.size() - 8) * 8) {
    return Corruption("float xor: count exceeds data");
  }
  BitReader bits(data);
  std::uint64_t prev = 0;
  bits.Get(64, prev);  // cannot fail: size checked above
  out->reserve(count);
  out->push_back(std::bit_cast<double>(prev));
  unsigned win_lead = 65, win_trail = 0;
  for (std::size_t i = 1; i < count; ++i) {
    std::uint64_t flag;
    if (!bits.Get(1, flag)) return Corruption("float xor: truncated");
    if (flag != 0) {
      std::uint64_t fresh, x;
      if (!bits.Get(1, fresh)) return Corruption("float xor: truncated");
      if (fresh != 0) {
        std::uint64_t lead, sig_minus_1;
        if (!bits.Get(5, lead) || !bits.Get(6, sig_minus_1)) {
          return Corruption("float xor: truncated window");
        }
        if (lead + sig_minus_1 + 1 > 64) return Corruption("float xor: window beyond 64 bits");
        win_lead = static_cast<unsigned>(lead);
        win_trail = 64 - win_lead - static_cast<unsigned>(sig_minus_1 + 1);
      } else if (win_lead > 64) {
        return Corruption("float xor: reuse of a window before the first");
      }
      if (!bits.Get(64 - win_lead - win_trail, x)) return Corruption("float xor: truncated bits");
      prev ^= x << win_trail;
    }
    out->push_back(std::bit_cast<double>(prev));
  }
  // Flush() pads to a whole byte and no further.
  if (bits.available() >= 8) return Corruption("float xor: trailing bytes");
  return Status::Ok();
}

int ChooseDecimalExponent(std::span<const double> v) {
  constexpr std::size_t kSamples = 64;
  std::size_t step = std::max<std::size_t>(1, v.size() / kSamples);
  int best_e = 0;
  std::uint64_t best_cost = std::numeric_limits<std::uint64_t>::max();
  for (int e = 0; e <= kMaxDecimalExponent; ++e) {
    std::uint64_t exceptions = 0, ok = 0;
    std::int64_t lo = std::numeric_limits<std::int64_t>::max();
    std::int64_t hi = std::numeric_limits<std::int64_t>::min();
    for (std::size_t i = 0; i < v.size(); i += step) {
      std::int64_t n;
      if (ToDecimal(v[i], e, &n)) {
        ++ok;
        lo = std::min(lo, n);
        hi = std::max(hi, n);
      } else {
        ++exceptions;
      }
    }
    unsigned width = ok == 0
                         ? 0
                         : static_cast<unsigned>(std::bit_width(static_cast<std::uint64_t>(hi) -
                                                                static_cast<std::uint64_t>(lo)));
    // An exception costs its 8 raw bytes plus about two bytes of position.
    std::uint64_t cost = ok * width + exceptions * 80;
    if (cost < best_cost) {
      best_cost = cost;
      best_e = e;
    }
  }
  return best_e;
}

// exponent u8, exception count varint, exception position gaps (varints),
// exception values (8 bytes each), then an int64 column (int_codec.h) of the
// integers, with each exception's slot holding the previous integer so that
// it costs nothing in a delta stream.
std::size_t EncodeFloatDecimal(std::span<const double> v, int exponent, IntTransform transform,
                               std::optional<IntPacking> packing, std::string* out) {
  std::vector<std::int64_t> ints(v.size());
  std::vector<std::size_t> exceptions;
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int64_t n;
    if (ToDecimal(v[i], exponent, &n)) {
      prev = n;
    } else {
      exceptions.push_back(i);
    }
    ints[i] = prev;
  }
  out->push_back(static_cast<char>(exponent));
  PutVarint64(*out, exceptions.size());
  std::size_t last = 0;
  for (std::size_t pos : exceptions) {
    PutVarint64(*out, pos - last);
    last = pos;
  }
  for (std::size_t pos : exceptions) PutFixed64(*out, std::bit_cast<std::uint64_t>(v[pos]));
  if (!packing) {
    std::vector<std::uint64_t> words =
        transform == IntTransform::kDelta ? Deltas(ints)
                                          : std::vector<std::uint64_t>(ints.begin(), ints.end());
    packing = SmallestPacking(words);
  }
  EncodeInt64s(ints, transform, *packing, out);
  return exceptions.size();
}

Status DecodeFloatDecimal(std::string_view data, std::size_t count, std::vector<double>* out) {
  ByteReader in(data);
  std::uint8_t exponent;
  std::uint64_t n_exc;
  if (!in.GetByte(exponent) || exponent > kMaxDecimalExponent) {
    return Corruption("float decimal: bad exponent");
  }
  if (!in.GetVarint64(n_exc) || n_exc > count || n_exc > in.remaining() / 9) {
    return Corruption("float decimal: bad exception count");
  }
  std::vector<std::size_t> positions(n_exc);
  std::uint64_t pos = 0;
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t gap;
    if (!in.GetVarint64(gap)) return Corruption("float decimal: truncated exception position");
    // Positions strictly increase (the first may be 0) and stay below count.
    if ((i > 0 && gap == 0) || gap >= count || pos + gap >= count) {
      return Corruption("float decimal: exception position out of order or range");
    }
    pos += gap;
    positions[i] = pos;
  }
  std::string_view raw;
  if (!in.GetBytes(n_exc * 8, raw)) return Corruption("float decimal: truncated exceptions");
  std::string_view rest;
  (void)in.GetBytes(in.remaining(), rest);
  std::vector<std::int64_t> ints;
  SLUICE_RETURN_IF_ERROR(DecodeInt64s(rest, count, &ints));
  out->resize(count);
  for (std::size_t i = 0; i < count; ++i) (*out)[i] = DecimalValue(ints[i], exponent);
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    (*out)[positions[i]] = std::bit_cast<double>(LoadFixed64(raw.data() + i * 8));
  }
  return Status::Ok();
}


// ---- kFloatDecimalDigits ----------------------------------------------------

namespace {

constexpr double kExactPow10[kMaxDigitsExponent + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

constexpr std::array<std::uint64_t, kMaxDigits + 1> kPow10U = [] {
  std::array<std::uint64_t, kMaxDigits + 1> p{};
  p[0] = 1;
  for (int i = 1; i <= kMaxDigits; ++i) p[i] = p[i - 1] * 10;
  return p;
}();

// m * 10^q with one correctly rounded operation on exact operands (when
// m <= 2^53): the double nearest the decimal, as strtod gives it.
inline double Scale(double m, int q) {
  return q >= 0 ? m * kExactPow10[q] : m / kExactPow10[-q];
}

// The constants of one (P, qmin), and the index <-> double mapping.
class DigitsMap {
 public:
  explicit DigitsMap(DecimalDigits p)
      : digits_(p.digits),
        qmin_(p.qmin),
        sub_(kPow10U[p.digits]),
        lead_(kPow10U[p.digits - 1]),
        band_(9 * kPow10U[p.digits - 1]),
        max_band_(static_cast<std::uint64_t>(kMaxDigitsExponent - p.qmin - 1)),
        float32_(p.float32) {}

  // False when the index lies above the largest power of ten (10^22).
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
    // Decimal -> double -> float may round twice; the encoder's check against
    // this very mapping turns any such value into an exception.
    if (float32_) a = static_cast<double>(static_cast<float>(a));
    *out = i < 0 ? -a : a;
    return true;
  }

  // The index of the decimal nearest v, or false (NaN, infinities, values
  // beyond 10^22 * 10^P). Verifying that it decodes to v is the caller's job.
  bool Nearest(double v, std::int64_t* i) const {
    if (!std::isfinite(v)) return false;
    const double a = std::fabs(v);
    std::uint64_t u;
    const double s = Scale(a, -qmin_);
    if (s < static_cast<double>(sub_)) {
      u = static_cast<std::uint64_t>(std::nearbyint(s));  // may round up to sub_: continuous
    } else {
      // Exponent of the leading digit, from the binary exponent; corrected below.
      int e2;
      (void)std::frexp(a, &e2);
      int q = ((e2 - 1) * 1233 >> 12) - digits_ + 1;  // 1233 / 4096 ~ log10(2)
      std::uint64_t m = 0;
      for (int tries = 0;; ++tries) {
        if (q <= qmin_) q = qmin_ + 1;
        if (q > kMaxDigitsExponent || tries == 4) return false;
        const double sm = Scale(a, -q);
        m = static_cast<std::uint64_t>(std::nearbyint(sm));
        if (m >= sub_) {
          ++q;
        } else if (m < lead_ && q > qmin_ + 1) {
          --q;
        } else {
          break;
        }
      }
      if (m < lead_) m = lead_;  // just above the subnormal range: its first index
      u = sub_ + static_cast<std::uint64_t>(q - qmin_ - 1) * band_ + (m - lead_);
    }
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return false;
    *i = std::signbit(v) ? -static_cast<std::int64_t>(u) : static_cast<std::int64_t>(u);
    return true;
  }

 private:
  int digits_;
  int qmin_;
  std::uint64_t sub_, lead_, band_, max_band_;
  bool float32_;
};

// The shortest decimal that round-trips (as a float32 when `float32`):
// `digits` significant digits, the leading one at 10^`lead`.
bool ShortestDecimal(double v, bool float32, int* digits, int* lead) {
  if (!std::isfinite(v) || v == 0) return false;
  char buf[40];
  std::to_chars_result r;
  if (float32) {
    const float f = static_cast<float>(v);
    if (!std::isfinite(f) || f == 0) return false;
    r = std::to_chars(buf, buf + sizeof(buf), f, std::chars_format::scientific);
  } else {
    r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  }
  if (r.ec != std::errc()) return false;
  const char* p = buf;
  int n = 0;
  if (*p == '-') ++p;
  for (; p < r.ptr && *p != 'e'; ++p) n += *p >= '0' && *p <= '9';
  if (p == r.ptr) return false;
  // The exponent ends at r.ptr: to_chars writes no terminating NUL, so
  // reading on (as atoi would) takes in whatever bytes follow in `buf`.
  ++p;
  const bool negative = p < r.ptr && *p == '-';
  if (p < r.ptr && (*p == '-' || *p == '+')) ++p;
  int exponent = 0;
  const auto [end, ec] = std::from_chars(p, r.ptr, exponent);
  if (ec != std::errc() || end != r.ptr) return false;
  *digits = n;
  *lead = negative ? -exponent : exponent;
  return true;
}

}  // namespace

bool LooksFloat32(std::span<const double> v) {
  if (v.empty()) return false;
  constexpr std::size_t kSample = 64;
  const std::size_t step = std::max<std::size_t>(1, v.size() / kSample);
  std::size_t near = 0, seen = 0;
  for (std::size_t i = 0; i < v.size(); i += step, ++seen) {
    const float f = static_cast<float>(v[i]);
    const std::uint64_t a = std::bit_cast<std::uint64_t>(v[i]);
    const std::uint64_t b = std::bit_cast<std::uint64_t>(static_cast<double>(f));
    // A few float64 ulps either side (same sign: the high bit is in both).
    near += std::isfinite(f) && (a > b ? a - b : b - a) <= 16;
  }
  return near * 2 >= seen;
}

DecimalDigits ChooseDecimalDigits(std::span<const double> v, bool float32) {
  // Windows of consecutive values, so that deltas can be estimated.
  constexpr std::size_t kWindows = 4, kWindow = 32;
  std::vector<std::pair<std::size_t, std::size_t>> windows;
  if (v.size() <= kWindows * kWindow) {
    windows.emplace_back(0, v.size());
  } else {
    for (std::size_t w = 0; w < kWindows; ++w) {
      std::size_t start = (v.size() - kWindow) * w / (kWindows - 1);
      windows.emplace_back(start, start + kWindow);
    }
  }
  std::vector<int> lasts, digit_counts, leads;
  for (auto [b, e] : windows) {
    for (std::size_t i = b; i < e; ++i) {
      int d, lead;
      if (!ShortestDecimal(v[i], float32, &d, &lead)) continue;
      d = std::min(d, kMaxDigits);
      digit_counts.push_back(d);
      leads.push_back(lead);
      lasts.push_back(lead - d + 1);
    }
  }
  if (lasts.empty()) return {kMaxDigits, 0, float32};
  auto clamp_q = [](int q) { return std::clamp(q, kMinDigitsExponent, kMaxDigitsExponent - 1); };
  // Candidates: fixed point covering every sampled value or all but a tenth;
  // P significant digits covering every sampled value or all but a tenth.
  std::vector<DecimalDigits> cands;
  auto add = [&](DecimalDigits c) {
    for (const auto& x : cands) {
      if (x.digits == c.digits && x.qmin == c.qmin) return;
    }
    cands.push_back(c);
  };
  std::vector<int> sorted_lasts = lasts, sorted_digits = digit_counts;
  std::sort(sorted_lasts.begin(), sorted_lasts.end());
  std::sort(sorted_digits.begin(), sorted_digits.end());
  const int min_lead = *std::min_element(leads.begin(), leads.end());
  add({kMaxDigits, clamp_q(sorted_lasts.front()), float32});
  add({kMaxDigits, clamp_q(sorted_lasts[sorted_lasts.size() / 10]), float32});
  for (int d : {sorted_digits.back(), sorted_digits[sorted_digits.size() * 9 / 10]}) {
    add({d, clamp_q(min_lead - d + 1), float32});
  }
  DecimalDigits best = cands.front();
  std::uint64_t best_cost = std::numeric_limits<std::uint64_t>::max();
  for (const DecimalDigits& c : cands) {
    DigitsMap map(c);
    std::uint64_t cost = 0;
    for (auto [b, e] : windows) {
      std::int64_t prev = 0;
      for (std::size_t i = b; i < e; ++i) {
        std::int64_t idx;
        double back;
        if (map.Nearest(v[i], &idx) && map.Value(idx, &back)) {
          std::uint64_t diff =
              std::bit_cast<std::uint64_t>(v[i]) - std::bit_cast<std::uint64_t>(back);
          if (diff != 0) cost += 8 + 8 * VarintLength(ZigZag(static_cast<std::int64_t>(diff)));
          if (i > b) {
            cost += std::bit_width(ZigZag(static_cast<std::int64_t>(
                static_cast<std::uint64_t>(idx) - static_cast<std::uint64_t>(prev))));
          }
          prev = idx;
        } else {
          cost += 80;
        }
      }
    }
    if (cost < best_cost) {
      best_cost = cost;
      best = c;
    }
  }
  return best;
}

DecimalDigitsPlan PlanDecimalDigits(std::span<const double> v, DecimalDigits params) {
  DecimalDigitsPlan plan;
  plan.params = params;
  plan.indices.resize(v.size());
  const DigitsMap map(params);
  std::int64_t prev = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::int64_t idx;
    double back = 0;
    if (!map.Nearest(v[i], &idx) || !map.Value(idx, &back)) {
      idx = prev;
      SLUICE_CHECK(map.Value(idx, &back));
    }
    plan.indices[i] = prev = idx;
    const std::uint64_t diff =
        std::bit_cast<std::uint64_t>(v[i]) - std::bit_cast<std::uint64_t>(back);
    if (diff != 0) {
      plan.exception_positions.push_back(i);
      plan.exception_corrections.push_back(ZigZag(static_cast<std::int64_t>(diff)));
    }
  }
  return plan;
}

// digits u8, varint(zigzag(qmin)), varint(exception count), exception
// position gaps (varints), corrections (varints), then an int64 column
// (int_codec.h, Rice allowed) of the indices.
void EncodeFloatDecimalDigits(const DecimalDigitsPlan& plan, IntTransform transform,
                              IntPacking packing, std::string* out) {
  out->push_back(static_cast<char>(plan.params.digits));
  PutVarint64(*out, ZigZag(plan.params.qmin));
  PutVarint64(*out, plan.exception_positions.size());
  std::size_t last = 0;
  for (std::size_t pos : plan.exception_positions) {
    PutVarint64(*out, pos - last);
    last = pos;
  }
  for (std::uint64_t c : plan.exception_corrections) PutVarint64(*out, c);
  EncodeInt64s(plan.indices, transform, packing, out);
}

Status DecodeFloatDecimalDigits(std::string_view data, std::size_t count, std::vector<double>* out,
                                bool float32) {
  ByteReader in(data);
  std::uint8_t digits;
  std::uint64_t zq, n_exc;
  if (!in.GetByte(digits) || digits < 1 || digits > kMaxDigits) {
    return Corruption("float decimal digits: bad digit count");
  }
  if (!in.GetVarint64(zq)) return Corruption("float decimal digits: truncated exponent");
  const std::int64_t qmin = UnZigZag(zq);
  if (qmin < kMinDigitsExponent || qmin > kMaxDigitsExponent) {
    return Corruption("float decimal digits: exponent out of range");
  }
  // Each exception takes at least two bytes (position, correction).
  if (!in.GetVarint64(n_exc) || n_exc > count || n_exc > in.remaining() / 2) {
    return Corruption("float decimal digits: bad exception count");
  }
  std::vector<std::size_t> positions(n_exc);
  std::uint64_t pos = 0;
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t gap;
    if (!in.GetVarint64(gap))
      return Corruption("float decimal digits: truncated exception position");
    if ((i > 0 && gap == 0) || gap >= count || pos + gap >= count) {
      return Corruption("float decimal digits: exception position out of order or range");
    }
    pos += gap;
    positions[i] = pos;
  }
  std::vector<std::uint64_t> corrections(n_exc);
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    std::uint64_t z;
    if (!in.GetVarint64(z)) return Corruption("float decimal digits: truncated correction");
    corrections[i] = static_cast<std::uint64_t>(UnZigZag(z));
  }
  std::vector<std::int64_t> indices;
  SLUICE_RETURN_IF_ERROR(DecodeInt64s(in.rest(), count, &indices, StreamRevision::kV2));
  const DigitsMap map({digits, static_cast<int>(qmin), float32});
  out->resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (!map.Value(indices[i], &(*out)[i])) {
      return Corruption("float decimal digits: index above 10^22");
    }
  }
  for (std::uint64_t i = 0; i < n_exc; ++i) {
    double& d = (*out)[positions[i]];
    d = std::bit_cast<double>(std::bit_cast<std::uint64_t>(d) + corrections[i]);
  }
  return Status::Ok();
}

// ---- kFloatDictionary ------------------------------------------------------

namespace {

// Bits mapped so that unsigned order is numeric order (NaNs by bits at the
// ends, -0.0 just before +0.0).
std::uint64_t OrderKey(double d) {
  const std::uint64_t b = std::bit_cast<std::uint64_t>(d);
  return b >> 63 ? ~b : b | (std::uint64_t{1} << 63);
}

}  // namespace

bool BuildFloatDictionary(std::span<const double> v, std::size_t max_distinct,
                          FloatDictionary* out) {
  std::unordered_map<std::uint64_t, std::int64_t> index;
  for (double d : v) {
    if (index.emplace(OrderKey(d), 0).second && index.size() > max_distinct) return false;
  }
  std::vector<std::uint64_t> keys;
  keys.reserve(index.size());
  for (const auto& [k, unused] : index) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  out->values.clear();
  for (std::size_t i = 0; i < keys.size(); ++i) {
    index[keys[i]] = static_cast<std::int64_t>(i);
    const std::uint64_t k = keys[i];
    out->values.push_back(std::bit_cast<double>(k >> 63 ? k & ~(std::uint64_t{1} << 63) : ~k));
  }
  out->codes.clear();
  out->codes.reserve(v.size());
  for (double d : v) out->codes.push_back(index[OrderKey(d)]);
  return true;
}

void EncodeFloatDictionary(const FloatDictionary& dict, ChunkCodec inner_codec,
                           std::string_view inner, IntPacking packing, std::string* out) {
  PutVarint64(*out, dict.values.size());
  out->push_back(static_cast<char>(inner_codec));
  PutVarint64(*out, inner.size());
  out->append(inner);
  EncodeInt64s(dict.codes, IntTransform::kNone, packing, out);
}

Status DecodeFloatDictionary(std::string_view data, std::size_t count, std::vector<double>* out) {
  ByteReader in(data);
  std::uint64_t d, inner_length;
  std::uint8_t inner_codec;
  if (!in.GetVarint64(d) || d > count || (d == 0 && count != 0)) {
    return Corruption("float dictionary: bad dictionary size");
  }
  if (!in.GetByte(inner_codec)) return Corruption("float dictionary: truncated codec");
  std::string_view inner;
  if (!in.GetVarint64(inner_length) || !in.GetBytes(inner_length, inner)) {
    return Corruption("float dictionary: truncated values");
  }
  std::vector<double> values;
  switch (static_cast<ChunkCodec>(inner_codec)) {
    case ChunkCodec::kFloatRaw: SLUICE_RETURN_IF_ERROR(DecodeFloatRaw(inner, d, &values)); break;
    case ChunkCodec::kFloatXor: SLUICE_RETURN_IF_ERROR(DecodeFloatXor(inner, d, &values)); break;
    case ChunkCodec::kFloatDecimalDigits:
    case ChunkCodec::kFloatDecimalDigits32:
      SLUICE_RETURN_IF_ERROR(DecodeFloatDecimalDigits(
          inner, d, &values,
          static_cast<ChunkCodec>(inner_codec) == ChunkCodec::kFloatDecimalDigits32));
      break;
    default: return Corruption("float dictionary: values codec " + std::to_string(inner_codec));
  }
  std::vector<std::int64_t> codes;
  SLUICE_RETURN_IF_ERROR(DecodeInt64s(in.rest(), count, &codes, StreamRevision::kV2));
  out->resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (codes[i] < 0 || static_cast<std::uint64_t>(codes[i]) >= d) {
      return Corruption("float dictionary: code out of range");
    }
    (*out)[i] = values[static_cast<std::size_t>(codes[i])];
  }
  return Status::Ok();
}

}  // namespace sluice::sync::codec
