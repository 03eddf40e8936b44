// Pieces of the admin surface with no sockets: request targets, the token
// compare, JSON strings. Shared by the server, the series API, the App's
// status JSON and `sluice status`.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "gateway/admin/admin_server.h"

namespace sluice::gateway::admin {

// Splits an origin-form request target ("/a%2Fb?x=1&y=%20") into a
// percent-decoded path and query. InvalidArgument with the reason for a
// target that does not start with '/', a bad %-escape, or a NUL byte.
// In the query, '+' stands for a space.
Result<AdminRequest> ParseTarget(std::string_view target);

// Percent-decodes `text`; false on a bad escape or a decoded NUL.
bool PercentDecode(std::string_view text, bool plus_is_space, std::string& out);

// Percent-encodes everything but unreserved characters (RFC 3986), so a
// series name fits one path segment.
std::string PercentEncode(std::string_view text);

// Compares in time that depends only on expected.size(), not on where the
// first difference is.
bool TokenEquals(std::string_view presented, std::string_view expected);

// A JSON string literal, quotes included; control characters escaped.
// Bytes >= 0x80 pass through (the caller's text is UTF-8 or opaque).
std::string JsonString(std::string_view s);

// A JSON number that reads back as the same double; NaN and infinities,
// which JSON lacks, as the strings "NaN", "Infinity", "-Infinity".
std::string JsonDouble(double v);

// {"error":"<message>"}
std::string JsonError(std::string_view message);

}  // namespace sluice::gateway::admin
