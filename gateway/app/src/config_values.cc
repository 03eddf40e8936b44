#include "config_values.h"

#include <initializer_list>
#include <optional>
#include <string_view>

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

namespace {

// A whole number of 1 to `max_digits` digits right before one of `units`:
// the number times that unit's multiple; nullopt for anything else.
std::optional<std::uint64_t> NumberWithUnit(
    const std::string& v, std::size_t max_digits,
    std::initializer_list<std::pair<std::string_view, std::uint64_t>> units) {
  std::size_t digits = 0;
  while (digits < v.size() && v[digits] >= '0' && v[digits] <= '9') ++digits;
  if (digits == 0 || digits > max_digits) return std::nullopt;
  const std::string_view unit = std::string_view(v).substr(digits);
  for (const auto& [name, multiple] : units) {
    if (unit == name) return std::stoull(v.substr(0, digits)) * multiple;
  }
  return std::nullopt;
}

}  // namespace

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
  const auto bytes =
      NumberWithUnit(v, 12, {{"B", 1}, {"KiB", 1ull << 10}, {"MiB", 1ull << 20}, {"GiB", 1ull << 30}});
  if (!bytes) {
    return InvalidArgument("'" + v + "' is not a size; write a whole number and one of B, KiB, MiB, GiB");
  }
  out = *bytes;
  return Status::Ok();
}

Status GetDuration(const toml::node& n, std::chrono::microseconds& out) {
  const auto* s = n.as_string();
  if (s == nullptr) {
    return InvalidArgument("expected a duration string such as \"1ms\", got " +
                           std::string(TypeName(n)));
  }
  const std::string& v = s->get();
  const auto us = NumberWithUnit(v, 9, {{"us", 1}, {"ms", 1000}, {"s", 1000000}});
  if (!us) {
    return InvalidArgument("'" + v + "' is not a duration; write a whole number and one of us, ms, s");
  }
  out = std::chrono::microseconds(static_cast<std::int64_t>(*us));
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
