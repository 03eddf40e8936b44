// Bool and bytes value columns (docs/format/partition.md, "Bool", "Bytes").
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::sync::codec {

// kBoolBitmap: ceil(count / 8) bytes, value i in bit i % 8 of byte i / 8, LSB
// first, padding bits zero. Long runs are left to zstd.
void EncodeBools(std::span<const std::uint8_t> v, std::string* out);
Status DecodeBools(std::string_view data, std::size_t count, std::vector<std::uint8_t>* out);

// kBytesLengthPrefixed: an integer stream of the lengths, then all bytes back
// to back (lengths apart from payloads compress better).
void EncodeBytes(std::span<const std::string> v, std::string* out);
Status DecodeBytes(std::string_view data, std::size_t count, std::vector<std::string>* out);

}  // namespace sluice::sync::codec
