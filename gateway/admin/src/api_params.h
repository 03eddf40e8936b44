// Query parameters and JSON answers shared by the /v1/ APIs (series,
// partitions): unknown parameters refused, `limit` checked, errors as
// {"error": ...}.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>

#include "gateway/admin/admin_server.h"

namespace sluice::gateway::admin {

inline AdminResponse Json(int status, std::string body) {
  return {status, "application/json", std::move(body)};
}
AdminResponse BadRequest(const std::string& why);

// Refuses parameters the endpoint does not know: a typo ("form=") must not
// silently fall back to a default.
std::optional<AdminResponse> OnlyParams(const AdminRequest& r,
                                        std::initializer_list<std::string_view> allowed);

// `limit` from the query: `fallback` when absent, 400 when not 1..max.
// `what` names the unit in the error ("series", "records").
std::optional<AdminResponse> GetLimit(const AdminRequest& r, std::uint32_t fallback,
                                      std::uint32_t max, const char* what, std::uint32_t& out);

}  // namespace sluice::gateway::admin
