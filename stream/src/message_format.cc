#include "message_format.h"

#include <fnmatch.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

#include "base/civil_time.h"
#include "base/coding.h"

namespace sluice::stream {
namespace {

// Length of the well-formed UTF-8 sequence at s[i] (RFC 3629: no overlong
// forms, no surrogates, nothing past U+10FFFF), or 0.
std::size_t Utf8SequenceAt(std::string_view s, std::size_t i) {
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = at(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xbf) return 0;
  }
  return n;
}

bool IsUtf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceAt(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

constexpr std::string_view kReplacement = "\xef\xbf\xbd";  // U+FFFD

// `s` with each byte that starts no well-formed sequence replaced by U+FFFD.
std::string ToUtf8(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = Utf8SequenceAt(s, i);
    if (n == 0) {
      out += kReplacement;
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

void AppendJsonString(std::string_view s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      const std::size_t n = Utf8SequenceAt(s, i);
      if (n == 0) {
        out += kReplacement;
      } else {
        out.append(s.substr(i, n));
        i += n - 1;
      }
      continue;
    }
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void AppendBase64(std::string_view in, std::string& out) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8) |
                            static_cast<unsigned char>(in[i + 2]);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  if (i + 1 == in.size()) {
    const std::uint32_t v = static_cast<unsigned char>(in[i]) << 16;
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out += "==";
  } else if (i + 2 == in.size()) {
    const std::uint32_t v = (static_cast<unsigned char>(in[i]) << 16) |
                            (static_cast<unsigned char>(in[i + 1]) << 8);
    out.push_back(kAlphabet[v >> 18]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

template <typename T>
void AppendNumber(T v, std::string& out) {
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Protobuf wire format: its varints and fixed64 are base/coding.h's.
void PutTag(int field, int wire, std::string& out) {
  PutVarint64(out, static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire));
}
void PutBytesField(int field, std::string_view v, std::string& out) {
  PutTag(field, 2, out);
  PutVarint64(out, v.size());
  out.append(v);
}
// A proto3 `string` field: readers refuse one that is not UTF-8.
void PutStringField(int field, std::string_view v, std::string& out) {
  if (IsUtf8(v)) PutBytesField(field, v, out);
  else PutBytesField(field, ToUtf8(v), out);
}
void PutDouble(double d, std::string& out) { PutFixed64(out, std::bit_cast<std::uint64_t>(d)); }

}  // namespace

void AppendTimestamp(std::int64_t ns, std::string& out) {
  AppendRfc3339(ns, Rfc3339Precision::kNanos, out);
}

std::string FormatTimestamp(std::int64_t ns) { return FormatRfc3339(ns, Rfc3339Precision::kNanos); }

void AppendJsonRecord(const SeriesMeta& series, const store::Record& r, std::string& out) {
  out += "{\"series\":";
  AppendJsonString(series.name, out);
  out += ",\"timestamp\":\"";
  AppendTimestamp(r.timestamp_ns, out);
  out += "\",\"timestamp_ns\":";
  AppendNumber(r.timestamp_ns, out);
  out += ",\"value\":";
  switch (r.value.index()) {
    case 0: {
      const double d = std::get<double>(r.value);
      if (!std::isfinite(d)) {
        out += "null";
        break;
      }
      // Shortest round-trip text; where that is all digits ("21",
      // "-710669857961265201152") ".0" keeps it a floating-point number:
      // integer parsers refuse digits past 64 bits, and readers type the
      // value by its text.
      const std::size_t at = out.size();
      AppendNumber(d, out);
      if (out.find_first_of(".e", at) == std::string::npos) out += ".0";
      break;
    }
    case 1: AppendNumber(std::get<std::int64_t>(r.value), out); break;
    case 2: out += std::get<bool>(r.value) ? "true" : "false"; break;
    default:
      out.push_back('"');
      AppendBase64(std::get<std::string>(r.value), out);
      out.push_back('"');
  }
  out += ",\"type\":\"";
  out += store::ValueTypeName(series.type);
  out += "\",\"unit\":";
  AppendJsonString(series.unit, out);
  out.push_back('}');
}

void AppendProtoRecord(const SeriesMeta& series, const store::Record& r, std::string& out) {
  PutStringField(1, series.name, out);
  if (r.timestamp_ns != 0) {
    PutTag(2, 0, out);
    PutVarint64(out, static_cast<std::uint64_t>(r.timestamp_ns));
  }
  PutTag(3, 0, out);
  PutVarint64(out, static_cast<std::uint64_t>(series.type));
  if (!series.unit.empty()) PutStringField(4, series.unit, out);
  // oneof members are written even when zero: presence says the type.
  switch (r.value.index()) {
    case 0:
      PutTag(5, 1, out);
      PutDouble(std::get<double>(r.value), out);
      break;
    case 1:
      PutTag(6, 0, out);
      PutVarint64(out, static_cast<std::uint64_t>(std::get<std::int64_t>(r.value)));
      break;
    case 2:
      PutTag(7, 0, out);
      PutVarint64(out, std::get<bool>(r.value) ? 1 : 0);
      break;
    default: PutBytesField(8, std::get<std::string>(r.value), out);
  }
}

void AppendProtoBatch(const SeriesMeta& series, std::span<const store::Record* const> records,
                      std::string& out) {
  PutStringField(1, series.name, out);
  PutTag(2, 0, out);
  PutVarint64(out, static_cast<std::uint64_t>(series.type));
  if (!series.unit.empty()) PutStringField(3, series.unit, out);
  if (records.empty()) return;
  std::size_t size = 0;
  for (const auto* r : records) size += VarintLength(static_cast<std::uint64_t>(r->timestamp_ns));
  PutTag(4, 2, out);  // packed
  PutVarint64(out, size);
  for (const auto* r : records) PutVarint64(out, static_cast<std::uint64_t>(r->timestamp_ns));
  switch (series.type) {
    case store::ValueType::kFloat64:
      PutTag(5, 2, out);
      PutVarint64(out, 8 * records.size());
      for (const auto* r : records) PutDouble(std::get<double>(r->value), out);
      break;
    case store::ValueType::kInt64:
      size = 0;
      for (const auto* r : records) {
        size += VarintLength(static_cast<std::uint64_t>(std::get<std::int64_t>(r->value)));
      }
      PutTag(6, 2, out);
      PutVarint64(out, size);
      for (const auto* r : records) {
        PutVarint64(out, static_cast<std::uint64_t>(std::get<std::int64_t>(r->value)));
      }
      break;
    case store::ValueType::kBool:
      PutTag(7, 2, out);
      PutVarint64(out, records.size());
      for (const auto* r : records) out.push_back(std::get<bool>(r->value) ? 1 : 0);
      break;
    case store::ValueType::kBytes:
      for (const auto* r : records) PutBytesField(8, std::get<std::string>(r->value), out);
      break;
  }
}

Result<std::string> ExpandTopic(std::string_view tmpl, std::string_view site,
                                std::string_view gateway) {
  std::string out;
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    if (tmpl[i] == '}') return InvalidArgument("'}' without '{' in topic template");
    if (tmpl[i] != '{') {
      out.push_back(tmpl[i]);
      continue;
    }
    const std::size_t end = tmpl.find('}', i);
    if (end == std::string_view::npos) return InvalidArgument("'{' without '}' in topic template");
    const std::string_view name = tmpl.substr(i + 1, end - i - 1);
    if (name == "site") out += site;
    else if (name == "gateway") out += gateway;
    else {
      return InvalidArgument("unknown placeholder {" + std::string(name) +
                             "} in topic template; allowed: {site}, {gateway}");
    }
    i = end;
  }
  if (out.empty() || out.size() > 249 || out == "." || out == "..") {
    return InvalidArgument("topic '" + out + "' is not a valid Kafka topic name (1..249 chars)");
  }
  for (char c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '-';
    if (!ok) {
      return InvalidArgument("topic '" + out + "' has '" + std::string(1, c) +
                             "'; Kafka topic names use only a-z A-Z 0-9 . _ -");
    }
  }
  return out;
}

bool SeriesMatches(std::string_view glob, std::string_view name) {
  const std::string g(glob), n(name);
  return fnmatch(g.c_str(), n.c_str(), 0) == 0;
}

}  // namespace sluice::stream
