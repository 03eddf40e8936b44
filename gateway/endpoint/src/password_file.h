// The endpoint's password file: "user:hash" lines as `mosquitto_passwd`
// writes them, so operators use the tool they know.
//   $7$<iterations>$<salt b64>$<hash b64>  PBKDF2-HMAC-SHA512 (mosquitto 2)
//   $6$<salt b64>$<hash b64>               SHA-512(password || salt)
// Blank lines and lines starting with '#' are skipped. Plain-text passwords
// are refused: the file holds only salted hashes.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>

#include "base/status.h"

namespace sluice::gateway::endpoint {

class PasswordFile {
 public:
  // Errors name the file and line ("users.passwd:3: ...").
  static Result<PasswordFile> Load(const std::string& path);
  static Result<PasswordFile> Parse(std::string_view text, std::string_view source);

  // True when `user` is listed and `password` matches its hash. Compares in
  // constant time.
  bool Check(std::string_view user, std::string_view password) const;
  std::size_t size() const { return users_.size(); }

 private:
  struct Entry {
    int kind = 7;            // 6 or 7
    int iterations = 0;      // $7$ only
    std::string salt;        // raw bytes
    std::string hash;        // raw bytes
  };
  std::unordered_map<std::string, Entry> users_;
};

}  // namespace sluice::gateway::endpoint
