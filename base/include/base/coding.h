// Byte coding for every persistent layout and wire codec in Sluice:
// little-endian fixed-width words, LEB128 varints (7 bits a byte, low
// groups first, the high bit set on all but the last byte) and ZigZag for
// signed values. The encodings are part of the on-disk formats
// (docs/format/) and never change.
//
// Writers append to a std::string. ByteReader reads untrusted bytes and never
// reads past its span: a Get that would (truncated input, or a varint longer
// than 64 bits) returns false and leaves the reader failed, with nothing
// remaining, so a chain of Gets needs one check at its end.
//
// Output parameters are references, as elsewhere in Sluice.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice {

static_assert(std::endian::native == std::endian::little,
              "fixed-width words are copied to and from memory as they are");

inline void PutFixed16(std::string& out, std::uint16_t v) {
  char b[2];
  std::memcpy(b, &v, 2);
  out.append(b, 2);
}
inline void PutFixed32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out.append(b, 4);
}
inline void PutFixed64(std::string& out, std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
inline void PutVarint64(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
// Bytes PutVarint64 appends for `v`: 1 to 10.
inline std::size_t VarintLength(std::uint64_t v) {
  return v == 0 ? 1 : (static_cast<std::size_t>(std::bit_width(v)) + 6) / 7;
}

// Signed to unsigned so that values near zero get short varints:
// 0, -1, 1, -2 ... map to 0, 1, 2, 3 ...
inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t u) {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

// REQUIRES: p points at 4 (8) readable bytes.
inline std::uint32_t LoadFixed32(const char* p) {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline std::uint64_t LoadFixed64(const char* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// A cursor over encoded bytes; the bytes must outlive it and every view
// GetBytes hands out.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : data_(in) {}

  bool GetByte(std::uint8_t& v) { return GetRaw(&v, 1); }
  bool GetFixed16(std::uint16_t& v) { return GetRaw(&v, 2); }
  bool GetFixed32(std::uint32_t& v) { return GetRaw(&v, 4); }
  bool GetFixed64(std::uint64_t& v) { return GetRaw(&v, 8); }
  // `v` is written only on success.
  bool GetVarint64(std::uint64_t& v) {
    std::uint64_t result = 0;
    for (int shift = 0; shift <= 63 && pos_ < data_.size(); shift += 7) {
      const auto byte = static_cast<std::uint8_t>(data_[pos_++]);
      if (shift == 63 && byte > 1) break;  // the 10th byte holds only bit 63
      result |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        v = result;
        return true;
      }
    }
    return Fail();
  }
  // The next `n` bytes, as a view into the input.
  bool GetBytes(std::size_t n, std::string_view& out) {
    if (remaining() < n) return Fail();
    out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool Skip(std::size_t n) {
    if (remaining() < n) return Fail();
    pos_ += n;
    return true;
  }

  std::size_t remaining() const { return data_.size() - pos_; }
  // Bytes consumed so far (all of them after a failure).
  std::size_t position() const { return pos_; }
  // The unread bytes, without consuming them.
  std::string_view rest() const { return data_.substr(pos_); }

 private:
  bool GetRaw(void* v, std::size_t n) {
    if (remaining() < n) return Fail();
    std::memcpy(v, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool Fail() {
    pos_ = data_.size();
    return false;
  }

  std::string_view data_;
  std::size_t pos_ = 0;
};

}  // namespace sluice
