// Request targets, tokens, JSON strings and the admin options: the parts of
// the admin surface that need no socket.

#include <boost/asio/ip/address.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gateway/admin/admin_util.h"
#include "base/secret_file.h"

namespace sluice::gateway {
namespace admin {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool PercentDecode(std::string_view text, bool plus_is_space, std::string& out) {
  out.clear();
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return false;
      const int hi = HexValue(text[i + 1]);
      const int lo = HexValue(text[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      c = ' ';
    }
    if (c == '\0') return false;
    out += c;
  }
  return true;
}

std::string PercentEncode(std::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '.' || c == '_' || c == '~') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Result<AdminRequest> ParseTarget(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return InvalidArgument("request target must be a path starting with '/'");
  }
  AdminRequest r;
  const auto q = target.find('?');
  r.raw_path = std::string(target.substr(0, q));
  if (!PercentDecode(r.raw_path, false, r.path)) {
    return InvalidArgument("bad percent-encoding (or an encoded NUL) in the path");
  }
  if (q == std::string_view::npos) return r;
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const auto amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view{} : rest.substr(amp + 1);
    if (pair.empty()) continue;
    const auto eq = pair.find('=');
    std::string key, value;
    if (!PercentDecode(pair.substr(0, eq), true, key) ||
        (eq != std::string_view::npos && !PercentDecode(pair.substr(eq + 1), true, value))) {
      return InvalidArgument("bad percent-encoding (or an encoded NUL) in the query");
    }
    r.query[key] = value;
  }
  return r;
}

bool TokenEquals(std::string_view presented, std::string_view expected) {
  // Every byte of `expected` is looked at whatever `presented` holds; the
  // length difference is folded in, not short-circuited.
  unsigned diff = presented.size() == expected.size() ? 0u : 1u;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const auto p = i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0u;
    diff |= p ^ static_cast<unsigned char>(expected[i]);
  }
  return diff == 0;
}

std::string JsonString(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x",
                    static_cast<unsigned>(static_cast<unsigned char>(c)));
      out += esc;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string JsonDouble(double v) {
  if (std::isnan(v)) return "\"NaN\"";
  if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  char num[64];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(num, sizeof num, "%.*g", precision, v);
    if (std::strtod(num, nullptr) == v) break;
  }
  return num;
}

std::string JsonError(std::string_view message) {
  return "{\"error\":" + JsonString(message) + "}\n";
}

}  // namespace admin

bool IsLoopbackAddress(const std::string& address) {
  boost::system::error_code ec;
  const auto a = boost::asio::ip::make_address(address, ec);
  if (ec) return false;
  if (a.is_v4()) return a.to_v4().is_loopback();
  const auto v6 = a.to_v6();
  if (v6.is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
  }
  return v6.is_loopback();
}

Status AdminOptions::Validate() const {
  boost::system::error_code ec;
  boost::asio::ip::make_address(address, ec);
  if (ec) return InvalidArgument("address: '" + address + "' is not an IP address");
  if (token_file.empty() && !IsLoopbackAddress(address)) {
    return InvalidArgument("token_file: required when address is not loopback ('" + address +
                           "'): without it anyone who reaches the port reads the box's data; "
                           "write a token to a file (chmod 600) and name it here");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return InvalidArgument(std::string(tls_cert_file.empty() ? "tls_cert_file" : "tls_key_file") +
                           ": HTTPS needs both tls_cert_file and tls_key_file (or neither, for "
                           "plain HTTP)");
  }
  if (sync_stuck_after.count() != 0 &&
      (sync_stuck_after < std::chrono::seconds(60) || sync_stuck_after > std::chrono::days(30))) {
    return InvalidArgument("sync_stuck_after: " + std::to_string(sync_stuck_after.count()) +
                           " s is outside 60 s .. 30 days (0 turns the check off)");
  }
  return Status::Ok();
}

Result<std::string> LoadAdminToken(const std::string& path) {
  const std::string what = "admin token file " + path;
  SLUICE_ASSIGN_OR_RETURN(auto read,
                          ReadSecretFile(path, what, 4097, ": it should hold one token"));
  std::string text = std::move(read);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.size() < 16 || text.size() > 4096) {
    return InvalidArgument(what + ": the token must be 16 to 4096 characters long, got " +
                           std::to_string(text.size()) + " (e.g. openssl rand -hex 32)");
  }
  for (char c : text) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidArgument(what +
                             ": the token may hold visible ASCII characters only, "
                             "on one line, without spaces");
    }
  }
  return text;
}

}  // namespace sluice::gateway
