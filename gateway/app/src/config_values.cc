#include "config_values.h"

#include "rule_config.h"

namespace sluice::gateway::config {
namespace {

std::string_view TypeName(const toml::node& n) { return ingest::TomlTypeName(n); }

}  // namespace

Status GetString(const toml::node& n, std::string& out) {
  const auto* s = n.as_string();
  if (s == nullptr) return InvalidArgument("expected a string, got " + std::string(TypeName(n)));
  out = s->get();
  return Status::Ok();
}

Status GetBool(const toml::node& n, bool& out) {
  const auto* b = n.as_boolean();
  if (b == nullptr) {
    return InvalidArgument("expected true or false, got " + std::string(TypeName(n)));
  }
  out = b->get();
  return Status::Ok();
}

Status GetSize(const toml::node& n, std::uint64_t& out) {
  if (const auto* i = n.as_integer()) {
    if (i->get() < 0) return InvalidArgument("a size cannot be negative");
    out = static_cast<std::uint64_t>(i->get());
    return Status::Ok();
  }
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a size (bytes, or a string such as \"64MiB\"), got " +
                           std::string(TypeName(n)));
  }
  const std::string& v = s->get();
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  const std::string unit = v.substr(digits);
  std::uint64_t mult = 0;
  if (unit == "B") mult = 1;
  else if (unit == "KiB") mult = 1ull << 10;
  else if (unit == "MiB") mult = 1ull << 20;
  else if (unit == "GiB") mult = 1ull << 30;
  if (digits == 0 || digits > 12 || mult == 0) {
    return InvalidArgument("'" + v + "' is not a size; write a whole number and one of B, KiB, MiB, GiB");
  }
  out = std::stoull(v.substr(0, digits)) * mult;
  return Status::Ok();
}

Status GetDuration(const toml::node& n, std::chrono::microseconds& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a duration string such as \"1ms\", got " +
                           std::string(TypeName(n)));
  }
  const std::string& v = s->get();
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  const std::string unit = v.substr(digits);
  std::uint64_t mult = 0;
  if (unit == "us") mult = 1;
  else if (unit == "ms") mult = 1000;
  else if (unit == "s") mult = 1000000;
  if (digits == 0 || digits > 9 || mult == 0) {
    return InvalidArgument("'" + v + "' is not a duration; write a whole number and one of us, ms, s");
  }
  out = std::chrono::microseconds(std::stoll(v.substr(0, digits)) * static_cast<std::int64_t>(mult));
  return Status::Ok();
}

Status GetDuration(const toml::node& n, std::chrono::milliseconds& out) {
  std::chrono::microseconds us{0};
  SLUICE_RETURN_IF_ERROR(GetDuration(n, us));
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(us);
  if (ms.count() > UINT32_MAX) return InvalidArgument("duration too long");
  out = ms;
  return Status::Ok();
}

Status GetDuration(const toml::node& n, std::chrono::seconds& out) {
  std::chrono::microseconds us{0};
  SLUICE_RETURN_IF_ERROR(GetDuration(n, us));
  if (us.count() % 1'000'000 != 0) return InvalidArgument("must be whole seconds, e.g. \"300s\"");
  out = std::chrono::duration_cast<std::chrono::seconds>(us);
  return Status::Ok();
}

Status GetDurationIn(const toml::node& n, std::chrono::microseconds lo,
                     std::chrono::microseconds hi, std::chrono::microseconds unit,
                     std::chrono::microseconds& out) {
  std::chrono::microseconds us{0};
  SLUICE_RETURN_IF_ERROR(GetDuration(n, us));
  auto show = [](std::chrono::microseconds d) {
    const std::int64_t v = d.count();
    if (v % 1000000 == 0) return std::to_string(v / 1000000) + "s";
    if (v % 1000 == 0) return std::to_string(v / 1000) + "ms";
    return std::to_string(v) + "us";
  };
  if (us < lo || us > hi) {
    return InvalidArgument("must be between " + show(lo) + " and " + show(hi));
  }
  if (us.count() % unit.count() != 0) return InvalidArgument("must be a whole number of " + show(unit));
  out = us;
  return Status::Ok();
}

}  // namespace sluice::gateway::config
