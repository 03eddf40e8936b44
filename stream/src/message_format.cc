#include "message_format.h"

#include <fnmatch.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <ctime>

namespace sluice::stream {
namespace {

const char* TypeName(store::ValueType t) {
  switch (t) {
    case store::ValueType::kFloat64: return "float64";
    case store::ValueType::kInt64: return "int64";
    case store::ValueType::kBool: return "bool";
    case store::ValueType::kBytes: return "bytes";
  }
  return "unknown";
}

void AppendJsonString(std::string_view s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
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

// Protobuf wire format.
void PutVarint(std::uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
std::size_t VarintSize(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}
void PutTag(int field, int wire, std::string& out) {
  PutVarint(static_cast<std::uint64_t>(field) << 3 | static_cast<std::uint64_t>(wire), out);
}
void PutBytesField(int field, std::string_view v, std::string& out) {
  PutTag(field, 2, out);
  PutVarint(v.size(), out);
  out.append(v);
}
void PutDouble(double d, std::string& out) {
  char b[8];
  std::memcpy(b, &d, 8);  // little-endian hosts only
  out.append(b, 8);
}

}  // namespace

std::string FormatTimestamp(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%09lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

void AppendJsonRecord(const SeriesMeta& series, const store::Record& r, std::string& out) {
  out += "{\"series\":";
  AppendJsonString(series.name, out);
  out += ",\"timestamp\":\"";
  out += FormatTimestamp(r.timestamp_ns);
  out += "\",\"timestamp_ns\":";
  AppendNumber(r.timestamp_ns, out);
  out += ",\"value\":";
  switch (r.value.index()) {
    case 0: {
      const double d = std::get<double>(r.value);
      if (std::isfinite(d)) AppendNumber(d, out);
      else out += "null";
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
  out += TypeName(series.type);
  out += "\",\"unit\":";
  AppendJsonString(series.unit, out);
  out.push_back('}');
}

void AppendProtoRecord(const SeriesMeta& series, const store::Record& r, std::string& out) {
  PutBytesField(1, series.name, out);
  if (r.timestamp_ns != 0) {
    PutTag(2, 0, out);
    PutVarint(static_cast<std::uint64_t>(r.timestamp_ns), out);
  }
  PutTag(3, 0, out);
  PutVarint(static_cast<std::uint64_t>(series.type), out);
  if (!series.unit.empty()) PutBytesField(4, series.unit, out);
  // oneof members are written even when zero: presence says the type.
  switch (r.value.index()) {
    case 0:
      PutTag(5, 1, out);
      PutDouble(std::get<double>(r.value), out);
      break;
    case 1:
      PutTag(6, 0, out);
      PutVarint(static_cast<std::uint64_t>(std::get<std::int64_t>(r.value)), out);
      break;
    case 2:
      PutTag(7, 0, out);
      PutVarint(std::get<bool>(r.value) ? 1 : 0, out);
      break;
    default: PutBytesField(8, std::get<std::string>(r.value), out);
  }
}

void AppendProtoBatch(const SeriesMeta& series, std::span<const store::Record* const> records,
                      std::string& out) {
  PutBytesField(1, series.name, out);
  PutTag(2, 0, out);
  PutVarint(static_cast<std::uint64_t>(series.type), out);
  if (!series.unit.empty()) PutBytesField(3, series.unit, out);
  if (records.empty()) return;
  std::size_t size = 0;
  for (const auto* r : records) size += VarintSize(static_cast<std::uint64_t>(r->timestamp_ns));
  PutTag(4, 2, out);  // packed
  PutVarint(size, out);
  for (const auto* r : records) PutVarint(static_cast<std::uint64_t>(r->timestamp_ns), out);
  switch (series.type) {
    case store::ValueType::kFloat64:
      PutTag(5, 2, out);
      PutVarint(8 * records.size(), out);
      for (const auto* r : records) PutDouble(std::get<double>(r->value), out);
      break;
    case store::ValueType::kInt64:
      size = 0;
      for (const auto* r : records) {
        size += VarintSize(static_cast<std::uint64_t>(std::get<std::int64_t>(r->value)));
      }
      PutTag(6, 2, out);
      PutVarint(size, out);
      for (const auto* r : records) {
        PutVarint(static_cast<std::uint64_t>(std::get<std::int64_t>(r->value)), out);
      }
      break;
    case store::ValueType::kBool:
      PutTag(7, 2, out);
      PutVarint(records.size(), out);
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
