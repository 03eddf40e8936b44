// A Thrift compact-protocol ENCODER, only what Parquet metadata needs.
//
// Why hand-written rather than the Apache Thrift library and generated code:
// Parquet only needs structs, lists, i16/i32/i64, bool, binary and unions
// (a struct with one field), and Sluice only writes them. That is about 150
// lines, whereas libthrift would add a runtime dependency, a code generator
// at build time and exceptions to catch, for a fixed set of structs that
// changes only when the format does. The test decoder
// (tests/sync/parquet_reader.cc) is written apart, from the specification.
//
// Compact protocol, as used here (Thrift's TCompactProtocol spec):
//   field header  one byte (delta << 4) | type when the id grows by 1..15
//                 over the previous field of the same struct, else the type
//                 byte followed by the id as a zigzag varint i16
//   bool field    the type itself says the value: 1 true, 2 false
//   i16/i32/i64   zigzag varint          binary  varint length, bytes
//   list          (size << 4) | elem type when size < 15, else 0xf0 | type
//                 and a varint size; bool elements one byte, 1 or 2
//   struct        fields, then a 0 stop byte; unions are structs with one field
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::sync::parquet {

enum class CType : std::uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends to a caller's string. Field ids must grow within a struct (Parquet
// declares them in order and so do the writers here); a broken order aborts.
class ThriftWriter {
 public:
  explicit ThriftWriter(std::string* out) : out_(out) { last_.reserve(8); }

  // The outermost struct of a message.
  void BeginMessage() { last_.push_back(0); }
  void EndMessage() { EndStruct(); }

  void I16(std::int16_t id, std::int16_t v) {
    Header(id, CType::kI16);
    Varint(ZigZag(v));
  }
  void I32(std::int16_t id, std::int32_t v) {
    Header(id, CType::kI32);
    Varint(ZigZag(v));
  }
  void I64(std::int16_t id, std::int64_t v) {
    Header(id, CType::kI64);
    Varint(ZigZag(v));
  }
  void Bool(std::int16_t id, bool v) { Header(id, v ? CType::kBoolTrue : CType::kBoolFalse); }
  void Binary(std::int16_t id, std::string_view v) {
    Header(id, CType::kBinary);
    RawBinary(v);
  }
  // A struct (or union) field: its fields follow, then EndStruct().
  void BeginStruct(std::int16_t id) {
    Header(id, CType::kStruct);
    last_.push_back(0);
  }
  // An empty struct field (StringType, MicroSeconds, TypeDefinedOrder...).
  void EmptyStruct(std::int16_t id) {
    BeginStruct(id);
    EndStruct();
  }
  void EndStruct() {
    out_->push_back(0);
    last_.pop_back();
  }
  // A list field; then `size` elements written with the List* calls below.
  void BeginList(std::int16_t id, CType elem, std::size_t size) {
    Header(id, CType::kList);
    ListHeader(elem, size);
  }

  // List elements.
  void ListI32(std::int32_t v) { Varint(ZigZag(v)); }
  void ListI64(std::int64_t v) { Varint(ZigZag(v)); }
  void ListBool(bool v) { out_->push_back(static_cast<char>(v ? 1 : 2)); }
  void ListBinary(std::string_view v) { RawBinary(v); }
  void ListBeginStruct() { last_.push_back(0); }  // end with EndStruct()

 private:
  static std::uint64_t ZigZag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  }
  void Varint(std::uint64_t v) {
    while (v >= 0x80) {
      out_->push_back(static_cast<char>(static_cast<std::uint8_t>(v) | 0x80));
      v >>= 7;
    }
    out_->push_back(static_cast<char>(v));
  }
  void RawBinary(std::string_view v) {
    Varint(v.size());
    out_->append(v);
  }
  void ListHeader(CType elem, std::size_t size) {
    const auto t = static_cast<std::uint8_t>(elem);
    if (size < 15) {
      out_->push_back(static_cast<char>((size << 4) | t));
    } else {
      out_->push_back(static_cast<char>(0xf0 | t));
      Varint(size);
    }
  }
  void Header(std::int16_t id, CType type) {
    SLUICE_CHECK(!last_.empty() && id > last_.back());
    const int delta = id - last_.back();
    const auto t = static_cast<std::uint8_t>(type);
    if (delta <= 15) {
      out_->push_back(static_cast<char>((delta << 4) | t));
    } else {
      out_->push_back(static_cast<char>(t));
      Varint(ZigZag(id));
    }
    last_.back() = id;
  }

  std::string* out_;
  std::vector<std::int16_t> last_;  // the last field id per open struct
};

}  // namespace sluice::sync::parquet
