// Float64 value columns (docs/format/partition.md, "Float64"). Four codecs,
// all bit-exact for every IEEE-754 pattern (NaN payloads, -0.0, infinities):
//
//  - kFloatDecimalDigits (13), after ALP (Afroozeh et al., SIGMOD 2024) and
//    its PseudoDecimals ancestor: sensor values are mostly decimals in
//    disguise, either fixed-point (n / 10^e) or, when printed with a fixed
//    number P of significant digits (%g), floating-point decimals m * 10^q.
//    Both map onto one integer index that counts consecutive P-digit
//    decimals, so a reading crossing a power of ten (0.0999 -> 0.1001) stays
//    a small delta. The indices are packed like int64 columns, by default
//    with Rice codes; a value the index misses by a few ulps (a decimal
//    printed as 74.93588199999998) is an exception costing its position and
//    its distance in ulps, not 8 raw bytes.
//  - kFloatDecimalDigits32 (14): the same over float32 decimals, for values
//    that passed through float32 (their float64 shortest decimal has 17
//    digits); values a few float64 ulps off a float32 cost an exception of
//    one or two bytes.
//  - kFloatDecimal (12): the first revision (fixed exponent, raw exceptions).
//    Decoded still; no longer written.
//  - kFloatXor, Gorilla (Pelkonen et al., VLDB 2015): the baseline it must beat
//    and the fallback for data that is not decimal (e.g. computed values).
//  - kFloatRaw: 8 bytes a value, for noise that nothing else shrinks.
//
// Chimp (Liakos et al., VLDB 2022) refines Gorilla's leading/trailing-zero
// coding by about 10-20%; on decimal sensor data the decimal codecs win by
// far more, so Chimp is left as a possible future codec id.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "int_codec.h"
#include "sync/partition_format.h"

namespace sluice::sync::codec {

void EncodeFloatRaw(std::span<const double> v, std::string* out);
Status DecodeFloatRaw(std::string_view data, std::size_t count, std::vector<double>* out);

void EncodeFloatXor(std::span<const double> v, std::string* out);
Status DecodeFloatXor(std::string_view data, std::size_t count, std::vector<double>* out);

// The exponent e in [0, kMaxDecimalExponent] that minimises an estimate of
// the encoded size on a sample of the values.
inline constexpr int kMaxDecimalExponent = 18;
int ChooseDecimalExponent(std::span<const double> v);
// Encodes with exponent e; values that are not exactly n / 10^e become
// exceptions. The integers are packed with `packing`, or the smallest packing
// when none is given. Returns the number of exceptions.
std::size_t EncodeFloatDecimal(std::span<const double> v, int exponent, IntTransform transform,
                               std::optional<IntPacking> packing, std::string* out);
Status DecodeFloatDecimal(std::string_view data, std::size_t count, std::vector<double>* out);

// kFloatDecimalDigits. The index space of P significant digits above a
// smallest exponent qmin: |index| < 10^P means |index| * 10^qmin; above, each
// power of ten q > qmin holds the 9 * 10^(P-1) decimals m * 10^q with
// m in [10^(P-1), 10^P). P = 16 with every |index| < 10^16 is ALP's fixed
// point n / 10^-qmin.
inline constexpr int kMinDigitsExponent = -22;  // 10^22: the largest exact power of ten
inline constexpr int kMaxDigitsExponent = 22;
inline constexpr int kMaxDigits = 16;
struct DecimalDigits {
  int digits = kMaxDigits;  // P, [1, kMaxDigits]
  int qmin = 0;             // [kMinDigitsExponent, kMaxDigitsExponent]
  // kFloatDecimalDigits32: an index decodes to the float32 nearest its
  // decimal, widened to float64. For readings that passed through float32
  // (a PLC register, a float field on the wire) and are decimals there:
  // 23.457f is 23.457000732421875 as a double, 17 digits as float64's
  // shortest decimal but 5 as float32's.
  bool float32 = false;
};

// The indices of a column and its exceptions: values whose index decodes to
// other bits. Each exception's slot holds the nearest index (or, for NaN,
// infinities and values out of range, the previous one) and a correction:
// zigzag(bits(value) - bits(decoded index)), modulo 2^64.
struct DecimalDigitsPlan {
  DecimalDigits params;
  std::vector<std::int64_t> indices;
  std::vector<std::size_t> exception_positions;
  std::vector<std::uint64_t> exception_corrections;
};

// Chooses P and qmin on a sample (the shortest round-trip decimal of each
// sampled value, as a float32 when `float32`), estimating the packed bits of
// each candidate.
DecimalDigits ChooseDecimalDigits(std::span<const double> v, bool float32 = false);
// True when at least half of a sample of `v` lies within a few ulps of a
// float32: worth a kFloatDecimalDigits32 trial.
bool LooksFloat32(std::span<const double> v);
DecimalDigitsPlan PlanDecimalDigits(std::span<const double> v, DecimalDigits params);
// Appends the chunk: header, exceptions, then the indices as an int64 column
// with `transform` and `packing` (Rice allowed).
void EncodeFloatDecimalDigits(const DecimalDigitsPlan& plan, IntTransform transform, IntPacking packing,
                         std::string* out);
// `float32`: the chunk is kFloatDecimalDigits32 (same layout).
Status DecodeFloatDecimalDigits(std::string_view data, std::size_t count, std::vector<double>* out,
                                bool float32 = false);

// kFloatDictionary (15): `varint(D)`, the inner codec's id (10, 11, 13 or
// 14), `varint(inner length)`, the D distinct values (by bits, in ascending
// numeric order with NaNs by bits after +infinity and -0.0 before +0.0) in
// that codec, then an int64 column (transform none) of `count` codes in
// [0, D).
struct FloatDictionary {
  std::vector<double> values;        // distinct bit patterns, ordered as above
  std::vector<std::int64_t> codes;   // one per input value
};
// False when `v` holds more than `max_distinct` distinct bit patterns.
bool BuildFloatDictionary(std::span<const double> v, std::size_t max_distinct, FloatDictionary* out);
void EncodeFloatDictionary(const FloatDictionary& dict, ChunkCodec inner_codec,
                           std::string_view inner, IntPacking packing, std::string* out);
Status DecodeFloatDictionary(std::string_view data, std::size_t count, std::vector<double>* out);

}  // namespace sluice::sync::codec
