// EndpointOptions::Validate.
#include "gateway/endpoint/endpoint_options.h"

#include <arpa/inet.h>

#include <cstring>

namespace sluice::gateway {

bool EndpointOptions::loopback() const {
  in_addr v4{};
  if (inet_pton(AF_INET, address.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, address.c_str(), &v6) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
  return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

Status EndpointOptions::CheckExposure() const {
  if (loopback() || authenticates() || allow_anonymous) return Status::Ok();
  return InvalidArgument(
      "address: \"" + address +
      "\" is not a loopback address and no client authentication is configured, so anyone "
      "on the network could write data; set endpoint.password_file (a mosquitto_passwd "
      "file), or endpoint.tls_ca_file with endpoint.require_client_cert = true (client "
      "certificates, with endpoint.tls_cert_file and endpoint.tls_key_file), or, to accept "
      "anonymous clients on purpose, endpoint.allow_anonymous = true");
}

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
  if (enabled) SLUICE_RETURN_IF_ERROR(CheckExposure());
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
  if (connect_timeout < std::chrono::milliseconds(100) ||
      connect_timeout > std::chrono::seconds(600)) {
    return InvalidArgument("connect_timeout: must be 100ms to 600s");
  }
  return Status::Ok();
}

}  // namespace sluice::gateway
