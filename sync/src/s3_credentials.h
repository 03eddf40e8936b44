// S3 credentials: from a file whose mode is checked, or from the environment.
// The secret lives only here and in the curl handle; it is never formatted
// into a Status, a log line or a URL.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sluice::sync::detail {

struct S3Credentials {
  std::string access_key_id;
  std::string secret_access_key;
};

// Parses the credentials file text (format in docs/sinks.md): `key = value`
// lines with keys aws_access_key_id and aws_secret_access_key, '#' or ';'
// comments, blank lines, and at most a "[default]" section header. Errors
// name `source` and the line number, never a value.
Result<S3Credentials> ParseCredentials(std::string_view text, std::string_view source);

// Reads `path`, refusing it unless it is a regular file that neither group
// nor others may access (mode & 077 == 0), like ssh does for private keys.
Result<S3Credentials> LoadCredentialsFile(const std::string& path);

// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.
Result<S3Credentials> LoadCredentialsFromEnv();

}  // namespace sluice::sync::detail
