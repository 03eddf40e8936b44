#include "api_params.h"

#include <algorithm>
#include <charconv>

#include "gateway/admin/admin_util.h"

namespace sluice::gateway::admin {

AdminResponse BadRequest(const std::string& why) { return Json(400, JsonError(why)); }

std::optional<AdminResponse> OnlyParams(const AdminRequest& r,
                                        std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : r.query) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return BadRequest("unknown parameter '" + key +
                      "'; allowed here: " + (list.empty() ? std::string("none") : list));
  }
  return std::nullopt;
}

std::optional<AdminResponse> GetLimit(const AdminRequest& r, std::uint32_t fallback,
                                      std::uint32_t max, const char* what, std::uint32_t& out) {
  out = fallback;
  const auto it = r.query.find("limit");
  if (it == r.query.end()) return std::nullopt;
  const std::string& v = it->second;
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc{} || end != v.data() + v.size() || v.empty()) {
    return BadRequest("limit: '" + v + "' is not a whole number");
  }
  if (n == 0 || n > max) {
    return BadRequest("limit: " + v + " is outside 1 .. " + std::to_string(max) + " " + what +
                      " per request; page through larger answers");
  }
  out = static_cast<std::uint32_t>(n);
  return std::nullopt;
}

}  // namespace sluice::gateway::admin
