// Bit streams of the partition codecs (Rice, frame of reference, Gorilla
// XOR): fields of up to 64 bits packed LSB first. BitReader never reads past
// its span: reading past the end yields false, so that any bytes, however
// hostile, decode to an error rather than a crash. Byte-level coding is
// base/coding.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/coding.h"

namespace sluice::sync::codec {

// Appends bit fields LSB first to `out`, which must outlive it. Flush() pads
// the last byte with zeros.
class BitWriter {
 public:
  explicit BitWriter(std::string& out) : out_(&out) {}
  // REQUIRES: 0 <= bits <= 64; only the low `bits` bits of v are written.
  void Put(std::uint64_t v, unsigned bits) {
    if (bits == 0) return;
    if (bits < 64) v &= (std::uint64_t{1} << bits) - 1;
    acc_ |= v << fill_;  // fill_ < 64 always
    unsigned room = 64 - fill_;
    if (bits >= room) {
      PutFixed64(*out_, acc_);
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
  // False (and nothing consumed) past the end or for more than 64 bits;
  // `v` is written only on success.
  bool Get(unsigned bits, std::uint64_t& v) {
    if (bits == 0) {
      v = 0;
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
    v = out;
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
