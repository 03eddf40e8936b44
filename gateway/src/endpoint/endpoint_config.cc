// `[endpoint]` keys and EndpointOptions::Validate.
#include "config_values.h"
#include "gateway/endpoint_options.h"

namespace sluice::gateway {

Status EndpointOptions::Validate() const {
  if (address.empty()) return InvalidArgument("address: required");
  if (port > 65535) return InvalidArgument("port: must be 0 to 65535");
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return InvalidArgument("tls_key_file: TLS needs both tls_cert_file and tls_key_file");
  }
  if (!tls() && (!tls_ca_file.empty() || require_client_cert)) {
    return InvalidArgument("tls_ca_file: client certificates need TLS (tls_cert_file and tls_key_file)");
  }
  if (require_client_cert && tls_ca_file.empty()) {
    return InvalidArgument("require_client_cert: needs tls_ca_file to verify client certificates");
  }
  if (max_connections < 1 || max_connections > 100000) {
    return InvalidArgument("max_connections: must be 1 to 100000");
  }
  if (max_sessions < 1 || max_sessions > 1000000) {
    return InvalidArgument("max_sessions: must be 1 to 1000000");
  }
  if (receive_maximum < 1 || receive_maximum > 65535) {
    return InvalidArgument("receive_maximum: must be 1 to 65535");
  }
  if (max_packet_size < 1024 || max_packet_size > 268435460) {
    return InvalidArgument("max_packet_size: must be 1024 to 268435460 bytes");
  }
  if (topic_alias_maximum > 65535) return InvalidArgument("topic_alias_maximum: must be 0 to 65535");
  if (connect_timeout_ms < 100 || connect_timeout_ms > 600000) {
    return InvalidArgument("connect_timeout: must be 100ms to 600s");
  }
  return Status::Ok();
}

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
       std::uint64_t us = 0;
       SLUICE_RETURN_IF_ERROR(GetDurationUs(n, us));
       if (us % 1000000 != 0) return InvalidArgument("must be whole seconds, e.g. \"3600s\"");
       if (us / 1000000 > UINT32_MAX) return InvalidArgument("duration too long");
       c.endpoint.max_session_expiry_s = static_cast<std::uint32_t>(us / 1000000);
       return Status::Ok();
     }},
    {{"endpoint.connect_timeout", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDuration32(n, 100000, 600000000, 1000, c.endpoint.connect_timeout_ms);
     }},
};

}  // namespace

std::span<const KeySpec> EndpointKeys() { return kKeys; }

}  // namespace config
}  // namespace sluice::gateway
