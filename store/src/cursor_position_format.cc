#include "cursor_position_format.h"

#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"

namespace sluice::store {
namespace {

std::uint32_t Fixed32At(std::span<const std::byte> b, std::size_t at) {
  std::uint32_t v;
  std::memcpy(&v, b.data() + at, 4);
  return v;
}
std::uint64_t Fixed64At(std::span<const std::byte> b, std::size_t at) {
  std::uint64_t v;
  std::memcpy(&v, b.data() + at, 8);
  return v;
}

}  // namespace

std::string EncodeCursorPosition(const CursorPosition& p) {
  std::string out(kCursorPositionMagic, sizeof kCursorPositionMagic);
  PutFixed32(out, kCursorPositionVersion);
  PutFixed32(out, 0);
  PutFixed64(out, p.position);
  PutFixed64(out, p.lost_batches);
  PutFixed64(out, p.lost_records);
  PutFixed32(out, MaskCrc(Crc32c(out.data(), out.size())));
  out.append(4, '\0');
  return out;
}

Result<CursorPosition> DecodeCursorPosition(std::span<const std::byte> b) {
  if (b.size() != kCursorPositionSize) {
    return Corruption("stream.pos: " + std::to_string(b.size()) + " bytes, expected " +
                      std::to_string(kCursorPositionSize));
  }
  if (std::memcmp(b.data(), kCursorPositionMagic, sizeof kCursorPositionMagic) != 0) {
    return Corruption("stream.pos: bad magic");
  }
  if (Fixed32At(b, 8) != kCursorPositionVersion) {
    return Corruption("stream.pos: unknown version " + std::to_string(Fixed32At(b, 8)));
  }
  if (UnmaskCrc(Fixed32At(b, 40)) != Crc32c(b.data(), 40)) {
    return Corruption("stream.pos: crc mismatch");
  }
  if (Fixed32At(b, 12) != 0 || Fixed32At(b, 44) != 0) {
    return Corruption("stream.pos: reserved bytes are not zero");
  }
  return CursorPosition{Fixed64At(b, 16), Fixed64At(b, 24), Fixed64At(b, 32)};
}

}  // namespace sluice::store
