// S3 request building and response interpretation: the parts of the S3 sink
// that need no server, kept apart from the transport so that unit tests can
// check them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "sync/sink.h"

namespace sluice::sync::detail {

struct Endpoint {
  std::string scheme;  // "http" or "https"
  std::string host;    // DNS name or IP literal ("[::1]" keeps its brackets)
  std::string port;    // empty: the scheme's default
  bool host_is_ip = false;
};

// Parses "scheme://host[:port]" with nothing after it (a trailing '/' is
// tolerated). Userinfo is refused: credentials never travel in URLs.
Result<Endpoint> ParseEndpoint(std::string_view endpoint);

// S3 bucket naming rules (3..63 of [a-z0-9.-], letter or digit at both ends).
Status ValidateBucketName(std::string_view bucket);

// SigV4/S3 URI encoding: everything but A-Za-z0-9-._~ becomes %XX
// (uppercase); '/' is kept when `keep_slash`. curl 7.88 signs the path and
// query exactly as given, so what we send must already be canonical.
std::string UriEncode(std::string_view s, bool keep_slash);

// "prefix/key" or "key".
std::string FullKey(std::string_view prefix, std::string_view key);

// Query parameter; SigV4 wants them sorted by name and written "name=value"
// even when the value is empty ("uploads=").
struct QueryParam {
  std::string name;
  std::string value;
};

// URL of an object (or of the bucket when `full_key` is empty) with the
// query built in canonical form: sorted, encoded, "name=".
std::string ObjectUrl(const Endpoint& ep, const S3SinkOptions& options, std::string_view full_key,
                      std::vector<QueryParam> query = {});

// Text of the first <tag>...</tag> in `xml`, with the five predefined XML
// entities decoded; empty when absent. S3 responses are flat and small
// enough that this beats a dependency on an XML parser.
std::string XmlTagText(std::string_view xml, std::string_view tag);

struct PartETag {
  int number = 0;
  std::string etag;  // as returned, quotes included
};
std::string CompleteMultipartXml(const std::vector<PartETag>& parts);

// The Status for a failed S3 call. `what` names the operation and key
// ("PUT key 'a/b'"); `s3_code`/`s3_message` come from the error body (may be
// empty, e.g. for HEAD). 5xx, 429, throttling, RequestTimeout and checksum
// mismatches (bytes damaged in transit) are kUnavailable; credentials and
// permission problems are kInvalidArgument; a missing bucket or key kNotFound.
Status HttpError(long http_status, std::string_view s3_code, std::string_view s3_message,
                 std::string_view what);

// ETag value without surrounding quotes (and without a weak "W/" marker).
std::string StripETag(std::string_view etag);

}  // namespace sluice::sync::detail
