#include "s3_request.h"

#include <algorithm>
#include <cstdio>

namespace sluice::sync {
namespace detail {
namespace {

bool IsUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '.' || c == '_' || c == '~';
}

bool IsIpLiteral(std::string_view host) {
  if (!host.empty() && host.front() == '[') return true;
  return !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
    return (c >= '0' && c <= '9') || c == '.';
  });
}

}  // namespace

Result<Endpoint> ParseEndpoint(std::string_view s) {
  Endpoint ep;
  // First, before any message echoes the endpoint: "user:secret@host".
  if (s.find('@') != std::string_view::npos) {
    return InvalidArgument(
        "S3 endpoint may not contain credentials ('user@host'); use credentials_file");
  }
  const auto sep = s.find("://");
  if (sep == std::string_view::npos) {
    return InvalidArgument("S3 endpoint '" + std::string(s) +
                           "' needs a scheme (https:// or http://)");
  }
  ep.scheme = std::string(s.substr(0, sep));
  if (ep.scheme != "https" && ep.scheme != "http") {
    return InvalidArgument("S3 endpoint '" + std::string(s) + "': scheme must be https or http");
  }
  std::string_view rest = s.substr(sep + 3);
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#") != std::string_view::npos) {
    return InvalidArgument("S3 endpoint '" + std::string(s) + "' may not have a path or query");
  }
  std::string_view host = rest;
  bool has_port = false;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) {
      return InvalidArgument("S3 endpoint: unterminated '[' in host");
    }
    host = rest.substr(0, close + 1);
    rest = rest.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return InvalidArgument("S3 endpoint: junk after ']'");
    has_port = !rest.empty();
    if (has_port) ep.port = std::string(rest.substr(1));
  } else if (const auto colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    ep.port = std::string(rest.substr(colon + 1));
    has_port = true;
  }
  if (host.empty()) return InvalidArgument("S3 endpoint '" + std::string(s) + "' has no host");
  if (has_port) {
    if (ep.port.empty() || ep.port.size() > 5 ||
        !std::all_of(ep.port.begin(), ep.port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        std::stoi(ep.port) < 1 || std::stoi(ep.port) > 65535) {
      return InvalidArgument("S3 endpoint '" + std::string(s) + "' has a bad port");
    }
  }
  ep.host = std::string(host);
  ep.host_is_ip = IsIpLiteral(ep.host);
  return ep;
}

Status ValidateBucketName(std::string_view b) {
  const auto bad = [&](std::string_view why) {
    return InvalidArgument("S3 bucket '" + std::string(b) + "' " + std::string(why));
  };
  if (b.size() < 3 || b.size() > 63) return bad("must be 3 to 63 characters long");
  for (char c : b) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-')) {
      return bad("may only contain a-z, 0-9, '.' and '-'");
    }
  }
  const auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(b.front()) || !alnum(b.back()))
    return bad("must start and end with a letter or digit");
  if (b.find("..") != std::string_view::npos) return bad("may not contain '..'");
  return Status::Ok();
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += buf;
    }
  }
  return out;
}

std::string FullKey(std::string_view prefix, std::string_view key) {
  if (prefix.empty()) return std::string(key);
  return std::string(prefix) + "/" + std::string(key);
}

std::string ObjectUrl(const Endpoint& ep, const S3SinkOptions& options, std::string_view full_key,
                      std::vector<QueryParam> query) {
  std::string url = ep.scheme + "://";
  if (options.addressing == S3Addressing::kVirtualHost) url += options.bucket + ".";
  url += ep.host;
  if (!ep.port.empty()) url += ":" + ep.port;
  url += "/";
  if (options.addressing == S3Addressing::kPath) {
    url += options.bucket;
    if (!full_key.empty()) url += "/";
  }
  url += UriEncode(full_key, true);
  std::sort(query.begin(), query.end(),
            [](const QueryParam& a, const QueryParam& b) { return a.name < b.name; });
  for (std::size_t i = 0; i < query.size(); ++i) {
    url += i == 0 ? "?" : "&";
    url += UriEncode(query[i].name, false) + "=" + UriEncode(query[i].value, false);
  }
  return url;
}

std::string XmlTagText(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto a = xml.find(open);
  if (a == std::string_view::npos) return {};
  const auto b = xml.find(close, a + open.size());
  if (b == std::string_view::npos) return {};
  std::string_view raw = xml.substr(a + open.size(), b - a - open.size());
  std::string out;
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&quot;", '"'}, {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&apos;", '\''}};
  for (std::size_t i = 0; i < raw.size();) {
    bool replaced = false;
    if (raw[i] == '&') {
      for (const auto& [name, ch] : kEntities) {
        if (raw.substr(i, name.size()) == name) {
          out.push_back(ch);
          i += name.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out.push_back(raw[i++]);
  }
  return out;
}

std::string CompleteMultipartXml(const std::vector<PartETag>& parts) {
  std::string xml = "<CompleteMultipartUpload>";
  for (const auto& p : parts) {
    // ETags are hex digits in quotes; escape the quotes for XML all the same.
    std::string etag;
    for (char c : p.etag) etag += c == '"' ? std::string("&quot;") : std::string(1, c);
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>" + etag +
           "</ETag></Part>";
  }
  xml += "</CompleteMultipartUpload>";
  return xml;
}

Status HttpError(long http_status, std::string_view s3_code, std::string_view s3_message,
                 std::string_view what) {
  std::string m = std::string(what) + ": HTTP " + std::to_string(http_status);
  if (!s3_code.empty()) m += " " + std::string(s3_code);
  if (!s3_message.empty()) m += " (" + std::string(s3_message) + ")";
  // Damaged in transit or a slow/busy server: the same request may succeed.
  if (http_status >= 500 || http_status == 429 || http_status == 408 ||
      s3_code == "RequestTimeout" || s3_code == "SlowDown" || s3_code == "BadDigest" ||
      s3_code == "XAmzContentSHA256Mismatch" || s3_code == "IncompleteBody" ||
      s3_code == "OperationAborted") {
    return Unavailable(std::move(m));
  }
  if (http_status == 401 || http_status == 403) {
    // The secret is never part of `m`: the server's message names at most
    // the access key id, which is not secret; ours names neither.
    if (s3_code == "RequestTimeTooSkewed") return InvalidArgument(m + "; check the system clock");
    return InvalidArgument(m + "; permission denied: check the credentials and bucket policy");
  }
  if (http_status == 404) return NotFound(std::move(m));
  if (http_status == 409) return Unavailable(std::move(m));  // conflicting concurrent operation
  return InvalidArgument(std::move(m));
}

std::string StripETag(std::string_view etag) {
  if (etag.starts_with("W/")) etag.remove_prefix(2);
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  return std::string(etag);
}

}  // namespace detail

Status S3SinkOptions::Validate() const {
  SLUICE_ASSIGN_OR_RETURN(auto ep, detail::ParseEndpoint(endpoint));
  SLUICE_RETURN_IF_ERROR(detail::ValidateBucketName(bucket));
  if (region.empty() || region.size() > 64 ||
      !std::all_of(region.begin(), region.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
      })) {
    return InvalidArgument("S3 region '" + region + "' must be 1..64 of [a-z0-9_-]");
  }
  if (!key_prefix.empty()) {
    SLUICE_RETURN_IF_ERROR(ValidateSinkKey(key_prefix).WithContext("S3 key_prefix"));
  }
  if (addressing == S3Addressing::kVirtualHost) {
    if (ep.host_is_ip) {
      return InvalidArgument("S3 virtual-host addressing needs a DNS name endpoint, not " +
                             ep.host);
    }
    if (bucket.find('.') != std::string::npos && ep.scheme == "https") {
      return InvalidArgument(
          "S3 bucket '" + bucket +
          "' has a '.', which breaks TLS with virtual-host addressing; use path");
    }
  }
  if (connect_timeout < std::chrono::milliseconds(100) ||
      connect_timeout > std::chrono::milliseconds(300'000)) {
    return InvalidArgument("S3 connect_timeout must be 100 ms .. 300000 ms");
  }
  if (low_speed_limit_bytes_per_s < 1)
    return InvalidArgument("S3 low_speed_limit_bytes_per_s must be >= 1");
  if (low_speed_time < std::chrono::seconds(1) || low_speed_time > std::chrono::seconds(3600)) {
    return InvalidArgument("S3 low_speed_time must be 1 s .. 3600 s");
  }
  constexpr std::uint64_t kMinPart = 5ull << 20, kMaxPart = 5ull << 30;
  if (multipart_part_bytes < kMinPart || multipart_part_bytes > kMaxPart) {
    return InvalidArgument("S3 multipart_part_bytes must be 5 MiB..5 GiB (S3's part size limits)");
  }
  if (multipart_threshold_bytes < kMinPart) {
    return InvalidArgument("S3 multipart_threshold_bytes must be >= 5 MiB");
  }
  return Status::Ok();
}

}  // namespace sluice::sync
