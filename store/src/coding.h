// Little-endian fixed-width and varint encodings used by the store's formats.
// Decoders never read past `end` and report failure instead.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::store::coding {

inline void PutFixed32(std::string& out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);  // little-endian hosts only (x86-64, arm64)
  out.append(b, 4);
}
inline void PutFixed64(std::string& out, std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out.append(b, 8);
}
inline void PutVarint64(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// A cursor over encoded bytes. Every Get returns false on truncation or an
// over-long varint and leaves the reader failed.
class Reader {
 public:
  explicit Reader(std::string_view in) : p_(in.data()), end_(in.data() + in.size()) {}

  bool GetFixed32(std::uint32_t& v) { return GetRaw(&v, 4); }
  bool GetFixed64(std::uint64_t& v) { return GetRaw(&v, 8); }
  bool GetByte(std::uint8_t& v) { return GetRaw(&v, 1); }
  bool GetVarint64(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift <= 63 && p_ < end_; shift += 7) {
      const auto byte = static_cast<std::uint8_t>(*p_++);
      if (shift == 63 && byte > 1) break;  // would overflow 64 bits
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return Fail();
  }
  bool GetBytes(std::size_t n, std::string_view& out) {
    if (static_cast<std::size_t>(end_ - p_) < n) return Fail();
    out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  std::size_t remaining() const { return static_cast<std::size_t>(end_ - p_); }
  std::size_t consumed(std::string_view from) const {
    return static_cast<std::size_t>(p_ - from.data());
  }

 private:
  bool GetRaw(void* v, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n) return Fail();
    std::memcpy(v, p_, n);
    p_ += n;
    return true;
  }
  bool Fail() {
    p_ = end_;
    return false;
  }
  const char* p_;
  const char* end_;
};

}  // namespace sluice::store::coding
