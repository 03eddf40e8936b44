// `[endpoint]` keys (EndpointOptions::Validate is the endpoint's).
#include "config_values.h"
#include "gateway/endpoint/endpoint_options.h"

namespace sluice::gateway {
namespace config {
namespace {

Status GetU32(const toml::node& n, std::int64_t lo, std::int64_t hi, std::uint32_t& out) {
  std::int64_t v = 0;
  SLUICE_RETURN_IF_ERROR(GetInt(n, lo, hi, v));
  out = static_cast<std::uint32_t>(v);
  return Status::Ok();
}

const KeySpec kKeys[] = {
    {{"endpoint.enabled", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.endpoint.enabled); }},
    {{"endpoint.address", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.endpoint.address); }},
    {{"endpoint.port", "integer"},
     [](Config& c, const toml::node& n) { return GetU32(n, 0, 65535, c.endpoint.port); }},
    {{"endpoint.tls_cert_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.endpoint.tls_cert_file); }},
    {{"endpoint.tls_key_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.endpoint.tls_key_file); }},
    {{"endpoint.tls_ca_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.endpoint.tls_ca_file); }},
    {{"endpoint.require_client_cert", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.endpoint.require_client_cert); }},
    {{"endpoint.password_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.endpoint.password_file); }},
    {{"endpoint.allow_anonymous", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.endpoint.allow_anonymous); }},
    {{"endpoint.max_connections", "integer"},
     [](Config& c, const toml::node& n) { return GetU32(n, 1, 100000, c.endpoint.max_connections); }},
    {{"endpoint.max_sessions", "integer"},
     [](Config& c, const toml::node& n) { return GetU32(n, 1, 1000000, c.endpoint.max_sessions); }},
    {{"endpoint.receive_maximum", "integer"},
     [](Config& c, const toml::node& n) { return GetU32(n, 1, 65535, c.endpoint.receive_maximum); }},
    {{"endpoint.max_packet_size", "size"},
     [](Config& c, const toml::node& n) {
       std::uint64_t v = 0;
       SLUICE_RETURN_IF_ERROR(GetSize(n, v));
       if (v < 1024 || v > 268435460) return InvalidArgument("must be 1 KiB to 268435460 bytes");
       c.endpoint.max_packet_size = static_cast<std::uint32_t>(v);
       return Status::Ok();
     }},
    {{"endpoint.topic_alias_maximum", "integer"},
     [](Config& c, const toml::node& n) { return GetU32(n, 0, 65535, c.endpoint.topic_alias_maximum); }},
    {{"endpoint.max_session_expiry", "duration"},
     [](Config& c, const toml::node& n) {
       std::chrono::microseconds us{0};
       SLUICE_RETURN_IF_ERROR(GetDuration(n, us));
       if (us.count() % 1000000 != 0) return InvalidArgument("must be whole seconds, e.g. \"3600s\"");
       c.endpoint.max_session_expiry = std::chrono::duration_cast<std::chrono::seconds>(us);
       return Status::Ok();
     }},
    {{"endpoint.connect_timeout", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDurationIn(n, std::chrono::milliseconds(100), std::chrono::seconds(600),
                            c.endpoint.connect_timeout);
     }},
};

}  // namespace

std::span<const KeySpec> EndpointKeys() { return kKeys; }

}  // namespace config
}  // namespace sluice::gateway
