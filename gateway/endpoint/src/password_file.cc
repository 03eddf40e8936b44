#include "password_file.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <vector>

namespace sluice::gateway::endpoint {
namespace {

constexpr int kMaxIterations = 100000;

// Strict base64 (with padding) -> bytes; false on anything else.
bool DecodeBase64(std::string_view in, std::string& out) {
  if (in.empty() || in.size() % 4 != 0) return false;
  out.assign(in.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(in.data()),
                                static_cast<int>(in.size()));
  if (n < 0) return false;
  std::size_t size = static_cast<std::size_t>(n);
  // EVP_DecodeBlock counts padding as zero bytes.
  if (in.ends_with("==")) size -= 2;
  else if (in.ends_with("=")) size -= 1;
  out.resize(size);
  return true;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto p = s.find(sep);
    parts.push_back(s.substr(0, p));
    if (p == std::string_view::npos) return parts;
    s.remove_prefix(p + 1);
  }
}

}  // namespace

Result<PasswordFile> PasswordFile::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("password file " + path + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), path);
}

Result<PasswordFile> PasswordFile::Parse(std::string_view text, std::string_view source) {
  PasswordFile file;
  int line_no = 0;
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto where = [&](const std::string& why) {
      return InvalidArgument(std::string(source) + ":" + std::to_string(line_no) + ": " + why);
    };
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return where("expected \"user:hash\"");
    const std::string user(line.substr(0, colon));
    const auto parts = Split(line.substr(colon + 1), '$');
    // "$7$101$salt$hash" splits into "", "7", "101", "salt", "hash".
    Entry e;
    if (parts.size() == 5 && parts[0].empty() && parts[1] == "7") {
      e.kind = 7;
      try {
        e.iterations = std::stoi(std::string(parts[2]));
      } catch (...) {
        return where("user '" + user + "': bad iteration count");
      }
      // Each CONNECT pays for the iterations on the network thread: mosquitto
      // uses 101; far more would let a file stall every connection.
      if (e.iterations < 1 || e.iterations > kMaxIterations) {
        return where("user '" + user + "': iteration count must be 1 to " +
                     std::to_string(kMaxIterations));
      }
      if (!DecodeBase64(parts[3], e.salt) || !DecodeBase64(parts[4], e.hash)) {
        return where("user '" + user + "': salt or hash is not base64");
      }
    } else if (parts.size() == 4 && parts[0].empty() && parts[1] == "6") {
      e.kind = 6;
      if (!DecodeBase64(parts[2], e.salt) || !DecodeBase64(parts[3], e.hash)) {
        return where("user '" + user + "': salt or hash is not base64");
      }
    } else {
      return where("user '" + user +
                   "': not a salted hash ($7$ or $6$); make the file with mosquitto_passwd");
    }
    if (e.hash.size() != 64) return where("user '" + user + "': hash is not 64 bytes (SHA-512)");
    if (!file.users_.emplace(user, std::move(e)).second) {
      return where("user '" + user + "' listed twice");
    }
  }
  return file;
}

bool PasswordFile::Check(std::string_view user, std::string_view password) const {
  auto it = users_.find(std::string(user));
  if (it == users_.end()) return false;
  const Entry& e = it->second;
  unsigned char digest[64];
  if (e.kind == 7) {
    if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                          reinterpret_cast<const unsigned char*>(e.salt.data()),
                          static_cast<int>(e.salt.size()), e.iterations, EVP_sha512(),
                          sizeof digest, digest) != 1) {
      return false;
    }
  } else {
    unsigned int len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha512(), nullptr) == 1 &&
                    EVP_DigestUpdate(ctx, password.data(), password.size()) == 1 &&
                    EVP_DigestUpdate(ctx, e.salt.data(), e.salt.size()) == 1 &&
                    EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len == sizeof digest;
    EVP_MD_CTX_free(ctx);
    if (!ok) return false;
  }
  return CRYPTO_memcmp(digest, e.hash.data(), sizeof digest) == 0;
}

}  // namespace sluice::gateway::endpoint
