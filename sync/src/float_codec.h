// Float64 value columns (docs/format/partition.md, "Float64"). Three codecs,
// all bit-exact for every IEEE-754 pattern (NaN payloads, -0.0, infinities):
//
//  - kFloatDecimal, after ALP (Afroozeh et al., SIGMOD 2024): sensor values
//    are mostly decimals in disguise, so v == n / 10^e for a small integer n
//    and one exponent e per chunk; the integers are then packed like int64
//    columns. Values for which that is not exact are stored raw as exceptions.
//  - kFloatXor, Gorilla (Pelkonen et al., VLDB 2015): the baseline it must beat
//    and the fallback for data that is not decimal (e.g. computed values).
//  - kFloatRaw: 8 bytes a value, for noise that nothing else shrinks.
//
// Chimp (Liakos et al., VLDB 2022) refines Gorilla's leading/trailing-zero
// coding by about 10-20%; on decimal sensor data the decimal codec wins by
// far more, so Chimp is left as a possible future codec id.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "int_codec.h"

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

}  // namespace sluice::sync::codec
