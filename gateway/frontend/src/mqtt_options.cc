// MqttBrokerOptions::Validate.
#include "gateway/frontend/mqtt_options.h"

namespace sluice::gateway {

Status MqttBrokerOptions::Validate() const {
  const bool tls = uri.starts_with("ssl://");
  if (uri.empty()) return InvalidArgument("uri: required: every broker needs a uri");
  if (!tls && !uri.starts_with("tcp://")) {
    return InvalidArgument("uri: '" + uri + "' must start with tcp:// or ssl://");
  }
  if (uri.find(':', 6) == std::string::npos) {
    return InvalidArgument("uri: '" + uri + "' needs a port, e.g. tcp://127.0.0.1:1883");
  }
  if (!tls && (!tls_ca_file.empty() || !tls_cert_file.empty() || !tls_key_file.empty())) {
    return InvalidArgument("tls_ca_file: TLS files need an ssl:// uri, got '" + uri + "'");
  }
  if (tls_cert_file.empty() != tls_key_file.empty()) {
    return InvalidArgument("tls_key_file: a client certificate needs both tls_cert_file and tls_key_file");
  }
  if (!password_file.empty() && username.empty()) {
    return InvalidArgument("password_file: a password needs a username");
  }
  if (connections < 1 || connections > 64) return InvalidArgument("connections: must be 1 to 64");
  if (qos > 2) return InvalidArgument("qos: must be 0, 1 or 2");
  if (share_group.empty() || share_group.find_first_of("/+#") != std::string::npos) {
    return InvalidArgument("share_group: must be non-empty without '/', '+' or '#'");
  }
  if (reconnect_min > reconnect_max) {
    return InvalidArgument("reconnect_min: must not exceed reconnect_max");
  }
  return Status::Ok();
}

}  // namespace sluice::gateway
