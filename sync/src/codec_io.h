// Byte and bit primitives shared by the partition codecs. Readers never read
// past their span: every getter reports failure instead, so that any bytes,
// however hostile, decode to an error rather than a crash.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::sync::codec {

static_assert(std::endian::native == std::endian::little,
              "partition codecs memcpy little-endian words");

inline std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
inline std::int64_t UnZigZag(std::uint64_t u) {
  return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
}

inline std::size_t VarintLength(std::uint64_t v) {
  return v == 0 ? 1 : (static_cast<std::size_t>(std::bit_width(v)) + 6) / 7;
}

inline void PutVarint(std::string* out, std::uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

inline void PutFixed64(std::string* out, std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}

inline void PutFixed32(std::string* out, std::uint32_t v) {
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}

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

// Sequential reader over untrusted bytes.
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
      // The 10th byte may carry only the top bit of a 64-bit value.
      if (shift == 63 && b > 1) return false;
      result |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }
  bool GetFixed64(std::uint64_t* v) {
    if (remaining() < 8) return false;
    *v = LoadFixed64(data_.data() + pos_);
    pos_ += 8;
    return true;
  }
  bool GetBytes(std::size_t n, std::string_view* out) {
    if (remaining() < n) return false;
    *out = data_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  std::size_t remaining() const { return data_.size() - pos_; }
  std::size_t position() const { return pos_; }
  // The unread bytes, without consuming them; Skip(n) consumes n of them.
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

// Appends bit fields LSB first. Flush() pads the last byte with zeros.
class BitWriter {
 public:
  explicit BitWriter(std::string* out) : out_(out) {}
  // REQUIRES: 0 <= bits <= 64; only the low `bits` bits of v are written.
  void Put(std::uint64_t v, unsigned bits) {
    if (bits == 0) return;
    if (bits < 64) v &= (std::uint64_t{1} << bits) - 1;
    acc_ |= v << fill_;  // fill_ < 64 always
    unsigned room = 64 - fill_;
    if (bits >= room) {
      PutFixed64(out_, acc_);
      acc_ = room == 64 ? 0 : v >> room;
      fill_ = bits - room;
    } else {
      fill_ += bits;
    }
  }
  void Flush() {
    for (unsigned i = 0; i < fill_; i += 8) out_->push_back(static_cast<char>(acc_ >> i));
    acc_ = 0;
    fill_ = 0;
  }

 private:
  std::string* out_;
  std::uint64_t acc_ = 0;
  unsigned fill_ = 0;
};

// Reads what BitWriter wrote. Reading past the end yields false, never UB.
class BitReader {
 public:
  explicit BitReader(std::string_view data) : data_(data) {}
  bool Get(unsigned bits, std::uint64_t* v) {
    if (bits == 0) {
      *v = 0;
      return true;
    }
    if (bits > 64 || bits > available()) return false;
    std::size_t byte = bit_pos_ >> 3;
    unsigned off = static_cast<unsigned>(bit_pos_ & 7);
    std::uint64_t out;
    if (byte + 16 <= data_.size()) {
      // Fast path: two unaligned word loads cover any field of <= 64 bits.
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
  // The next 64 bits without consuming them; zeros past the end.
  std::uint64_t Peek64() const {
    std::size_t byte = bit_pos_ >> 3;
    unsigned off = static_cast<unsigned>(bit_pos_ & 7);
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
  // Consumes `bits` bits; false (and nothing consumed) past the end.
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

}  // namespace sluice::sync::codec
