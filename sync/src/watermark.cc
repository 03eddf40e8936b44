// The watermark document and the rule for T. The document is a flat JSON
// object of strings and integers; the reader here accepts exactly that
// (any field order, unknown fields skipped), not JSON in general.
#include "sync/watermark.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <map>

#include "base/civil_time.h"
#include "sync/object_key.h"

namespace sluice::sync {
namespace {

constexpr std::size_t kMaxDocumentBytes = 64 * 1024;

// A flat JSON object: field name -> string value, or integer text.
struct Field {
  bool is_string = false;
  std::string text;
};

class FlatJson {
 public:
  explicit FlatJson(std::string_view in) : in_(in) {}

  Result<std::map<std::string, Field>> Parse() {
    std::map<std::string, Field> out;
    Space();
    if (!Eat('{')) return Bad("expected '{'");
    Space();
    if (Eat('}')) return Finish(std::move(out));
    for (;;) {
      Space();
      SLUICE_ASSIGN_OR_RETURN(auto name, String());
      Space();
      if (!Eat(':')) return Bad("expected ':' after \"" + name + "\"");
      Space();
      Field f;
      if (Peek() == '"') {
        SLUICE_ASSIGN_OR_RETURN(auto v, String());
        f.is_string = true;
        f.text = std::move(v);
      } else {
        const std::size_t start = pos_;
        if (Peek() == '-') ++pos_;
        while (pos_ < in_.size() && in_[pos_] >= '0' && in_[pos_] <= '9') ++pos_;
        if (pos_ == start) return Bad("field \"" + name + "\": expected a string or an integer");
        f.text = std::string(in_.substr(start, pos_ - start));
      }
      if (!out.emplace(name, std::move(f)).second) return Bad("field \"" + name + "\" twice");
      Space();
      if (Eat('}')) return Finish(std::move(out));
      if (!Eat(',')) return Bad("expected ',' or '}'");
    }
  }

 private:
  Status Bad(const std::string& why) const {
    return InvalidArgument("watermark document, byte " + std::to_string(pos_) + ": " + why);
  }
  Result<std::map<std::string, Field>> Finish(std::map<std::string, Field> out) {
    Space();
    if (pos_ != in_.size()) return Bad("trailing bytes");
    return out;
  }
  char Peek() const { return pos_ < in_.size() ? in_[pos_] : '\0'; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    ++pos_;
    return true;
  }
  void Space() {
    while (pos_ < in_.size() &&
           (in_[pos_] == ' ' || in_[pos_] == '\n' || in_[pos_] == '\r' || in_[pos_] == '\t')) {
      ++pos_;
    }
  }
  // Strings of this document are ASCII; the simple escapes are accepted,
  // \u only for ASCII.
  Result<std::string> String() {
    if (!Eat('"')) return Bad("expected '\"'");
    std::string s;
    while (pos_ < in_.size()) {
      const char c = in_[pos_++];
      if (c == '"') return s;
      if (static_cast<unsigned char>(c) < 0x20) return Bad("control character in a string");
      if (c != '\\') {
        s += c;
        continue;
      }
      const char e = Peek();
      ++pos_;
      switch (e) {
        case '"': case '\\': case '/': s += e; break;
        case 'n': s += '\n'; break;
        case 't': s += '\t'; break;
        case 'r': s += '\r'; break;
        case 'u': {
          unsigned v = 0;
          if (pos_ + 4 > in_.size() ||
              std::from_chars(in_.data() + pos_, in_.data() + pos_ + 4, v, 16).ptr !=
                  in_.data() + pos_ + 4 ||
              v >= 0x80) {
            return Bad("unsupported \\u escape");
          }
          s += static_cast<char>(v);
          pos_ += 4;
          break;
        }
        default: return Bad("bad escape");
      }
    }
    return Bad("unterminated string");
  }

  std::string_view in_;
  std::size_t pos_ = 0;
};

template <typename T>
Status GetInt(const std::map<std::string, Field>& fields, const char* name, T& out) {
  auto it = fields.find(name);
  if (it == fields.end())
    return InvalidArgument(std::string("watermark document: no \"") + name + "\"");
  const Field& f = it->second;
  const char* end = f.text.data() + f.text.size();
  if (f.is_string || std::from_chars(f.text.data(), end, out).ptr != end) {
    return InvalidArgument(std::string("watermark document: \"") + name +
                           "\" is not an integer in range");
  }
  return Status::Ok();
}

Status GetString(const std::map<std::string, Field>& fields, const char* name, std::string& out) {
  auto it = fields.find(name);
  if (it == fields.end() || !it->second.is_string) {
    return InvalidArgument(std::string("watermark document: no string \"") + name + "\"");
  }
  out = it->second.text;
  return Status::Ok();
}

}  // namespace

Result<std::string> WatermarkKey(std::string_view prefix, std::string_view site,
                                 std::string_view gateway_id) {
  // The data key's checks, on a sample data key with the same components.
  ObjectKeyParts parts;
  parts.prefix = std::string(prefix);
  parts.site = std::string(site);
  parts.gateway_id = std::string(gateway_id);
  SLUICE_ASSIGN_OR_RETURN(auto data_key, BuildObjectKey(parts));
  std::string key;
  if (!prefix.empty()) key = std::string(prefix) + "/";
  key += "_watermarks/site=" + std::string(site) + "/gateway=" + std::string(gateway_id) + ".json";
  return key;
}

std::string FormatRfc3339(std::int64_t ns) {
  return sluice::FormatRfc3339(ns, Rfc3339Precision::kNanosIfAny);
}

std::string FormatWatermark(const Watermark& w) {
  // Site and gateway are key components ([A-Za-z0-9._-]): no escaping needed.
  std::string out = "{\n";
  out += "  \"format\": \"" + std::string(kWatermarkFormat) + "\",\n";
  out += "  \"version\": " + std::to_string(kWatermarkVersion) + ",\n";
  out += "  \"site\": \"" + w.site + "\",\n";
  out += "  \"gateway\": \"" + w.gateway_id + "\",\n";
  out += "  \"watermark_ns\": " + std::to_string(w.watermark_ns) + ",\n";
  out += "  \"watermark\": \"" + FormatRfc3339(w.watermark_ns) + "\",\n";
  out += "  \"records_confirmed\": " + std::to_string(w.records_confirmed) + ",\n";
  out += "  \"objects_confirmed\": " + std::to_string(w.objects_confirmed) + ",\n";
  out += "  \"late_records\": " + std::to_string(w.late_records) + ",\n";
  out += "  \"written_at_ns\": " + std::to_string(w.written_at_ns) + ",\n";
  out += "  \"written_at\": \"" + FormatRfc3339(w.written_at_ns) + "\"\n";
  out += "}\n";
  return out;
}

Result<Watermark> ParseWatermark(std::string_view text) {
  if (text.size() > kMaxDocumentBytes) {
    return InvalidArgument("watermark document of " + std::to_string(text.size()) +
                           " bytes is larger than " + std::to_string(kMaxDocumentBytes));
  }
  SLUICE_ASSIGN_OR_RETURN(auto fields, FlatJson(text).Parse());
  std::string format;
  SLUICE_RETURN_IF_ERROR(GetString(fields, "format", format));
  if (format != kWatermarkFormat) {
    return InvalidArgument("watermark document: format \"" + format + "\", expected \"" +
                           std::string(kWatermarkFormat) + "\"");
  }
  std::int64_t version = 0;
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "version", version));
  // Later versions only add fields; what this reader needs keeps its meaning.
  if (version < 1) return InvalidArgument("watermark document: version " + std::to_string(version));
  Watermark w;
  SLUICE_RETURN_IF_ERROR(GetString(fields, "site", w.site));
  SLUICE_RETURN_IF_ERROR(GetString(fields, "gateway", w.gateway_id));
  // Both are object key components, written without escapes.
  for (auto [what, value] : {std::pair<const char*, const std::string*>{"site", &w.site},
                             {"gateway", &w.gateway_id}}) {
    if (Status s = ValidateKeyComponent(what, *value); !s.ok()) {
      return InvalidArgument("watermark document: " + s.message());
    }
  }
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "watermark_ns", w.watermark_ns));
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "records_confirmed", w.records_confirmed));
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "objects_confirmed", w.objects_confirmed));
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "late_records", w.late_records));
  SLUICE_RETURN_IF_ERROR(GetInt(fields, "written_at_ns", w.written_at_ns));
  return w;
}

std::int64_t NextWatermark(const std::vector<store::PartitionInfo>& partitions,
                           std::int64_t previous_ns, std::int64_t wall_ns,
                           std::int64_t min_lag_ns) {
  const std::int64_t ceiling = wall_ns - min_lag_ns;
  std::int64_t candidate = ceiling;
  for (const auto& p : partitions) {
    const bool pending =
        p.state == store::PartitionState::kOpen || p.state == store::PartitionState::kSealed;
    if (pending && p.records > 0) candidate = std::min(candidate, p.t_min);
  }
  return std::max(previous_ns, candidate);
}

}  // namespace sluice::sync
