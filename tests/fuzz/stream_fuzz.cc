// What the stream lane decodes or builds from outside input, driven by one
// fuzz target; the first byte picks the part, the rest is its input.
//  0: <store dir>/stream.pos (docs/format/stream-position.md): any bytes
//     give a position or Corruption naming the file; an accepted file is
//     the canonical encoding of what it decoded to.
//  1: the topic template from the configuration: a valid Kafka topic name or
//     InvalidArgument.
//  2: series patterns against series names (fnmatch): never crashes.
//  3: message values from records with arbitrary names, units and values:
//     JSON that simdjson accepts and that says what the record held, and
//     protobuf that the protoc-generated code parses back to the record
//     (proto/stream_record.proto).
#include <simdjson.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "cursor_position_format.h"
#include "message_format.h"
#include "stream_record.pb.h"

namespace {

using sluice::store::Record;
using sluice::store::ValueType;

// Takes bytes off the front of the input.
struct Input {
  std::string_view rest;
  std::uint8_t Byte() {
    if (rest.empty()) return 0;
    const auto b = static_cast<std::uint8_t>(rest[0]);
    rest.remove_prefix(1);
    return b;
  }
  std::uint64_t U64() {
    std::uint64_t v = 0;
    const std::size_t n = std::min<std::size_t>(8, rest.size());
    std::memcpy(&v, rest.data(), n);
    rest.remove_prefix(n);
    return v;
  }
  std::string Str() {
    const std::size_t n = std::min<std::size_t>(Byte() % 48, rest.size());
    std::string s(rest.substr(0, n));
    rest.remove_prefix(n);
    return s;
  }
};

bool ValidUtf8(std::string_view s) { return simdjson::validate_utf8(s.data(), s.size()); }

void Position(std::string_view in) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(in.data()), in.size());
  auto p = sluice::store::DecodeCursorPosition(bytes);
  if (!p.ok()) {
    SLUICE_CHECK(p.status().code() == sluice::StatusCode::kCorruption);
    SLUICE_CHECK(p.status().message().starts_with("stream.pos: "));
    return;
  }
  SLUICE_CHECK(sluice::store::EncodeCursorPosition(*p) == in);
}

void Topic(std::string_view in) {
  Input i{in};
  const std::string tmpl = i.Str(), site = i.Str();
  const std::string gateway(i.rest);
  auto t = sluice::stream::ExpandTopic(tmpl, site, gateway);
  if (!t.ok()) {
    SLUICE_CHECK(t.status().code() == sluice::StatusCode::kInvalidArgument);
    return;
  }
  SLUICE_CHECK(!t->empty() && t->size() <= 249 && *t != "." && *t != "..");
  for (char c : *t) {
    SLUICE_CHECK((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '.' || c == '_' || c == '-');
  }
}

void Globs(std::string_view in) {
  Input i{in};
  const std::string glob = i.Str();
  (void)sluice::stream::SeriesMatches(glob, i.rest);
  (void)sluice::stream::SeriesMatches(i.rest, glob);
}

void CheckJson(const sluice::stream::SeriesMeta& meta, const Record& r, const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const auto err = parser.parse(json).get(doc);
  if (err != simdjson::SUCCESS) std::fprintf(stderr, "json: %s (%s)\n", json.c_str(), simdjson::error_message(err));
  SLUICE_CHECK(err == simdjson::SUCCESS);
  std::string_view series, unit, type;
  SLUICE_CHECK(doc["series"].get(series) == simdjson::SUCCESS);
  SLUICE_CHECK(doc["unit"].get(unit) == simdjson::SUCCESS);
  SLUICE_CHECK(doc["type"].get(type) == simdjson::SUCCESS);
  if (ValidUtf8(meta.name)) SLUICE_CHECK(series == meta.name);
  if (ValidUtf8(meta.unit)) SLUICE_CHECK(unit == meta.unit);
  std::int64_t ts = 0;
  SLUICE_CHECK(doc["timestamp_ns"].get(ts) == simdjson::SUCCESS);
  SLUICE_CHECK(ts == r.timestamp_ns);
  const auto value = doc["value"];
  switch (meta.type) {
    case ValueType::kFloat64: {
      const double d = std::get<double>(r.value);
      if (!std::isfinite(d)) {
        SLUICE_CHECK(value.is_null());
      } else {
        double got = 0;
        SLUICE_CHECK(value.get(got) == simdjson::SUCCESS);
        SLUICE_CHECK(got == d);
      }
      break;
    }
    case ValueType::kInt64: {
      std::int64_t got = 0;
      SLUICE_CHECK(value.get(got) == simdjson::SUCCESS);
      SLUICE_CHECK(got == std::get<std::int64_t>(r.value));
      break;
    }
    case ValueType::kBool: {
      bool got = false;
      SLUICE_CHECK(value.get(got) == simdjson::SUCCESS);
      SLUICE_CHECK(got == std::get<bool>(r.value));
      break;
    }
    case ValueType::kBytes: {
      std::string_view b64;
      SLUICE_CHECK(value.get(b64) == simdjson::SUCCESS);
      SLUICE_CHECK(b64.size() == (std::get<std::string>(r.value).size() + 2) / 3 * 4);
      break;
    }
  }
}

bool SameValue(const Record& r, const sluice::stream::v1::Record& p) {
  switch (r.value.index()) {
    case 0: {
      const double a = std::get<double>(r.value), b = p.float64_value();
      return p.value_case() == p.kFloat64Value && std::memcmp(&a, &b, 8) == 0;
    }
    case 1: return p.value_case() == p.kInt64Value && p.int64_value() == std::get<std::int64_t>(r.value);
    case 2: return p.value_case() == p.kBoolValue && p.bool_value() == std::get<bool>(r.value);
    default: return p.value_case() == p.kBytesValue && p.bytes_value() == std::get<std::string>(r.value);
  }
}

void Messages(std::string_view in) {
  Input i{in};
  const auto type = static_cast<ValueType>(1 + i.Byte() % 4);
  const std::string name = i.Str(), unit = i.Str();
  const sluice::stream::SeriesMeta meta{name, type, unit};
  std::vector<Record> records;
  while (!i.rest.empty() && records.size() < 64) {
    Record r;
    r.timestamp_ns = static_cast<std::int64_t>(i.U64());
    switch (type) {
      case ValueType::kFloat64: {
        const std::uint64_t bits = i.U64();
        double d;
        std::memcpy(&d, &bits, 8);
        r.value = d;
        break;
      }
      case ValueType::kInt64: r.value = static_cast<std::int64_t>(i.U64()); break;
      case ValueType::kBool: r.value = (i.Byte() & 1) != 0; break;
      case ValueType::kBytes: r.value = i.Str(); break;
    }
    records.push_back(std::move(r));
  }
  std::vector<const Record*> pointers;
  for (const Record& r : records) {
    std::string json, proto;
    sluice::stream::AppendJsonRecord(meta, r, json);
    CheckJson(meta, r, json);
    sluice::stream::AppendProtoRecord(meta, r, proto);
    sluice::stream::v1::Record p;
    SLUICE_CHECK(p.ParseFromString(proto));
    if (ValidUtf8(name)) SLUICE_CHECK(p.series() == name);
    if (ValidUtf8(unit)) SLUICE_CHECK(p.unit() == unit);
    SLUICE_CHECK(p.timestamp_ns() == r.timestamp_ns);
    SLUICE_CHECK(static_cast<int>(p.type()) == static_cast<int>(type));
    SLUICE_CHECK(SameValue(r, p));
    pointers.push_back(&r);
  }
  std::string batch;
  sluice::stream::AppendProtoBatch(meta, pointers, batch);
  sluice::stream::v1::RecordBatch b;
  SLUICE_CHECK(b.ParseFromString(batch));
  if (ValidUtf8(name)) SLUICE_CHECK(b.series() == name);
  SLUICE_CHECK(static_cast<std::size_t>(b.timestamp_ns_size()) == records.size());
  for (std::size_t k = 0; k < records.size(); ++k) {
    const Record& r = records[k];
    const int at = static_cast<int>(k);
    SLUICE_CHECK(b.timestamp_ns(at) == r.timestamp_ns);
    switch (type) {
      case ValueType::kFloat64: {
        const double a = std::get<double>(r.value), c = b.float64_values(at);
        SLUICE_CHECK(std::memcmp(&a, &c, 8) == 0);
        break;
      }
      case ValueType::kInt64: SLUICE_CHECK(b.int64_values(at) == std::get<std::int64_t>(r.value)); break;
      case ValueType::kBool: SLUICE_CHECK(b.bool_values(at) == std::get<bool>(r.value)); break;
      case ValueType::kBytes: SLUICE_CHECK(b.bytes_values(at) == std::get<std::string>(r.value)); break;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: Position(in); break;
    case 1: Topic(in); break;
    case 2: Globs(in); break;
    default: Messages(in); break;
  }
  return 0;
}
