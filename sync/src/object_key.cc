#include "sync/object_key.h"

#include <chrono>
#include <cstdio>

namespace sluice::sync {
namespace {

bool IsKeyChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '.' || c == '_' || c == '-';
}

}  // namespace

Status ValidateKeyComponent(std::string_view what, std::string_view value) {
  if (value.empty()) return InvalidArgument(std::string(what) + " is empty");
  if (value.size() > 128) return InvalidArgument(std::string(what) + " is longer than 128 bytes");
  if (value == "." || value == "..") {
    return InvalidArgument(std::string(what) + " may not be '.' or '..'");
  }
  for (char c : value) {
    if (!IsKeyChar(c)) {
      return InvalidArgument(std::string(what) + " '" + std::string(value) +
                             "' has a character outside [A-Za-z0-9._-]");
    }
  }
  return Status::Ok();
}

Result<std::string> BuildObjectKey(const ObjectKeyParts& p) {
  SLUICE_RETURN_IF_ERROR(ValidateKeyComponent("site", p.site));
  SLUICE_RETURN_IF_ERROR(ValidateKeyComponent("gateway id", p.gateway_id));
  if (p.window_start_ns < 0) return InvalidArgument("window start is before 1970");
  if (p.extension.empty()) return InvalidArgument("extension is empty");
  for (char c : p.extension) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
      return InvalidArgument("extension '" + p.extension + "' must be [a-z0-9]+");
    }
  }
  if (!p.prefix.empty()) {
    if (p.prefix.front() == '/' || p.prefix.back() == '/') {
      return InvalidArgument("prefix '" + p.prefix + "' may not start or end with '/'");
    }
    std::string_view rest = p.prefix;
    while (!rest.empty()) {
      auto slash = rest.find('/');
      SLUICE_RETURN_IF_ERROR(ValidateKeyComponent("prefix segment", rest.substr(0, slash)));
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
  }

  if (p.data_hour_ns && *p.data_hour_ns < 0) return InvalidArgument("data hour is before 1970");
  using namespace std::chrono;
  const sys_time<nanoseconds> t{nanoseconds{p.window_start_ns}};
  const auto day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss hms{floor<seconds>(t - day)};
  const sys_time<nanoseconds> data{nanoseconds{p.data_hour_ns.value_or(p.window_start_ns)}};
  const auto data_day = floor<days>(data);
  const year_month_day data_ymd{data_day};
  const hh_mm_ss data_hms{floor<seconds>(data - data_day)};

  char tail[160];
  std::snprintf(tail, sizeof tail,
                "date=%04d-%02u-%02u/hour=%02ld/%04d%02u%02uT%02ld%02ld%02lldZ-%04u-%010llu.",
                static_cast<int>(data_ymd.year()), static_cast<unsigned>(data_ymd.month()),
                static_cast<unsigned>(data_ymd.day()), static_cast<long>(data_hms.hours().count()),
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<long>(hms.hours().count()),
                static_cast<long>(hms.minutes().count()),
                static_cast<long long>(hms.seconds().count()), p.shard,
                static_cast<unsigned long long>(p.seq));

  std::string key;
  if (!p.prefix.empty()) key = p.prefix + "/";
  key += "site=" + p.site + "/gateway=" + p.gateway_id + "/" + tail + p.extension;
  return key;
}

}  // namespace sluice::sync
