#include "s3_credentials.h"

#include <cstdlib>

#include "base/secret_file.h"

namespace sluice::sync::detail {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// Secrets are base64-ish; anything outside printable ASCII is a paste error.
bool IsPrintable(std::string_view s) {
  for (char c : s) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

}  // namespace

Result<S3Credentials> ParseCredentials(std::string_view text, std::string_view source) {
  S3Credentials c;
  int line_no = 0;
  bool seen_section = false;
  while (!text.empty()) {
    ++line_no;
    const auto nl = text.find('\n');
    std::string_view line = Trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const std::string where = std::string(source) + ":" + std::to_string(line_no);
    if (line.empty() || line.front() == '#' || line.front() == ';') continue;
    if (line.front() == '[') {
      // One profile per file: several would leave "which one?" to a guess.
      if (line != "[default]" || seen_section) {
        return InvalidArgument(where + ": only a single [default] section is allowed");
      }
      seen_section = true;
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string_view::npos) return InvalidArgument(where + ": expected 'key = value'");
    const std::string_view key = Trim(line.substr(0, eq));
    const std::string_view value = Trim(line.substr(eq + 1));
    std::string* slot = nullptr;
    if (key == "aws_access_key_id") slot = &c.access_key_id;
    else if (key == "aws_secret_access_key") slot = &c.secret_access_key;
    else return InvalidArgument(where + ": unknown key '" + std::string(key) + "'");
    if (!slot->empty()) return InvalidArgument(where + ": '" + std::string(key) + "' given twice");
    if (value.empty() || !IsPrintable(value)) {
      return InvalidArgument(where + ": value of '" + std::string(key) +
                             "' is empty or has spaces or control characters");
    }
    *slot = std::string(value);
  }
  if (c.access_key_id.empty()) {
    return InvalidArgument(std::string(source) + ": aws_access_key_id missing");
  }
  if (c.secret_access_key.empty()) {
    return InvalidArgument(std::string(source) + ": aws_secret_access_key missing");
  }
  return c;
}

Result<S3Credentials> LoadCredentialsFile(const std::string& path) {
  SLUICE_ASSIGN_OR_RETURN(auto text,
                          ReadSecretFile(path, "S3 credentials file " + path, 64 * 1024));
  return ParseCredentials(text, path);
}

Result<S3Credentials> LoadCredentialsFromEnv() {
  const char* id = std::getenv("AWS_ACCESS_KEY_ID");
  const char* secret = std::getenv("AWS_SECRET_ACCESS_KEY");
  if (id == nullptr || *id == '\0' || secret == nullptr || *secret == '\0') {
    return InvalidArgument(
        "S3 credentials: no credentials_file configured and AWS_ACCESS_KEY_ID / "
        "AWS_SECRET_ACCESS_KEY are not both set");
  }
  return S3Credentials{id, secret};
}

}  // namespace sluice::sync::detail
