// Helpers for the MQTT codec tests: hand-assembled bytes and framing.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "gateway/codec/mqtt_codec.h"

namespace sluice::gateway::mqtt::testing {

inline std::span<const std::uint8_t> Span(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

// Bytes written out one by one, as in the spec's figures.
inline std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// Builds a packet body field by field.
class Body {
 public:
  Body& U8(int v) {
    s_.push_back(static_cast<char>(v));
    return *this;
  }
  Body& U16(int v) { return U8(v >> 8).U8(v & 0xFF); }
  Body& U32(std::uint32_t v) {
    return U16(static_cast<int>(v >> 16)).U16(static_cast<int>(v & 0xFFFF));
  }
  Body& Varint(std::uint32_t v) {
    do {
      int b = v & 0x7F;
      v >>= 7;
      U8(v != 0 ? b | 0x80 : b);
    } while (v != 0);
    return *this;
  }
  Body& Str(std::string_view v) {
    U16(static_cast<int>(v.size()));
    return Raw(v);
  }
  Body& Raw(std::string_view v) {
    s_.append(v);
    return *this;
  }
  // A property block: its length, then the bytes of `props`.
  Body& Props(const Body& props) {
    Varint(static_cast<std::uint32_t>(props.s_.size()));
    return Raw(props.s_);
  }
  const std::string& str() const { return s_; }
  std::span<const std::uint8_t> span() const { return Span(s_); }

 private:
  std::string s_;
};

struct Framed {
  FrameHeader header;
  std::span<const std::uint8_t> body;
};

// The one whole packet `wire` holds.
inline Framed Frame(const std::string& wire) {
  Framed f;
  REQUIRE(PeekFrame(Span(wire), 0, f.header) == FrameStatus::kComplete);
  REQUIRE(f.header.size() == wire.size());
  f.body = Span(wire).subspan(f.header.header_size, f.header.remaining_length);
  return f;
}

}  // namespace sluice::gateway::mqtt::testing
