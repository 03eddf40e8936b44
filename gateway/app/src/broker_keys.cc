// `[[mqtt.broker]]` keys (MqttBrokerOptions::Validate is the front-end's).

#include <filesystem>

#include "base/secret_file.h"
#include "config_values.h"
#include "rule_config.h"

namespace sluice::gateway {
namespace config {
namespace {

using B = MqttBrokerOptions;

Status Path(const toml::node& n, std::string& out) {
  SLUICE_RETURN_IF_ERROR(GetString(n, out));
  if (!std::filesystem::path(out).is_absolute()) {
    return InvalidArgument("must be an absolute path, got '" + out + "'");
  }
  return Status::Ok();
}

// A password file that group or others may access is refused, as ssh refuses
// such a private key: every local user could read the broker password. A
// file this process cannot stat (missing yet, or `check-config` run by
// another user) passes here; the front-end reports it at start, when it
// reads the file.
Status SecretFile(const toml::node& n, std::string& out) {
  SLUICE_RETURN_IF_ERROR(Path(n, out));
  return CheckSecretFileIfPresent(out, "password file " + out);
}

const BrokerKeySpec kBrokerKeys[] = {
    {{"mqtt.broker[].uri", "string"}, "uri",
     [](B& b, const toml::node& n) { return GetString(n, b.uri); }},
    {{"mqtt.broker[].client_id_prefix", "string"}, "client_id_prefix",
     [](B& b, const toml::node& n) {
       SLUICE_RETURN_IF_ERROR(GetString(n, b.client_id_prefix));
       if (b.client_id_prefix.size() > 60) return InvalidArgument("at most 60 bytes");
       return Status::Ok();
     }},
    {{"mqtt.broker[].mqtt_version", "string"}, "mqtt_version",
     [](B& b, const toml::node& n) {
       std::string v;
       SLUICE_RETURN_IF_ERROR(GetString(n, v));
       if (v == "5") b.version = MqttVersion::kV5;
       else if (v == "3.1.1") b.version = MqttVersion::kV311;
       else return InvalidArgument("'" + v + "' is not an MQTT version; allowed: 5, 3.1.1");
       return Status::Ok();
     }},
    {{"mqtt.broker[].username", "string"}, "username",
     [](B& b, const toml::node& n) { return GetString(n, b.username); }},
    {{"mqtt.broker[].password_file", "string"}, "password_file",
     [](B& b, const toml::node& n) { return SecretFile(n, b.password_file); }},
    {{"mqtt.broker[].tls_ca_file", "string"}, "tls_ca_file",
     [](B& b, const toml::node& n) { return Path(n, b.tls_ca_file); }},
    {{"mqtt.broker[].tls_cert_file", "string"}, "tls_cert_file",
     [](B& b, const toml::node& n) { return Path(n, b.tls_cert_file); }},
    {{"mqtt.broker[].tls_key_file", "string"}, "tls_key_file",
     [](B& b, const toml::node& n) { return Path(n, b.tls_key_file); }},
    {{"mqtt.broker[].connections", "integer"}, "connections",
     [](B& b, const toml::node& n) { return ingest::GetUint32(n, 1, 64, b.connections); }},
    {{"mqtt.broker[].share_group", "string"}, "share_group",
     [](B& b, const toml::node& n) { return GetString(n, b.share_group); }},
    {{"mqtt.broker[].qos", "integer"}, "qos",
     [](B& b, const toml::node& n) { return ingest::GetUint32(n, 0, 2, b.qos); }},
    {{"mqtt.broker[].clean_start", "boolean"}, "clean_start",
     [](B& b, const toml::node& n) { return GetBool(n, b.clean_start); }},
    {{"mqtt.broker[].session_expiry", "duration"}, "session_expiry",
     [](B& b, const toml::node& n) {
       return GetDurationIn(n, std::chrono::seconds(0), std::chrono::seconds(4'294'967'295),
                            b.session_expiry);
     }},
    {{"mqtt.broker[].keep_alive", "duration"}, "keep_alive",
     [](B& b, const toml::node& n) {
       return GetDurationIn(n, std::chrono::seconds(5), std::chrono::seconds(3600), b.keep_alive);
     }},
    {{"mqtt.broker[].receive_maximum", "integer"}, "receive_maximum",
     [](B& b, const toml::node& n) { return ingest::GetUint32(n, 1, 65535, b.receive_maximum); }},
    {{"mqtt.broker[].reconnect_min", "duration"}, "reconnect_min",
     [](B& b, const toml::node& n) {
       return GetDurationIn(n, std::chrono::milliseconds(1), std::chrono::seconds(3600),
                            b.reconnect_min);
     }},
    {{"mqtt.broker[].reconnect_max", "duration"}, "reconnect_max",
     [](B& b, const toml::node& n) {
       return GetDurationIn(n, std::chrono::milliseconds(1), std::chrono::seconds(3600),
                            b.reconnect_max);
     }},
    {{"mqtt.broker[].connect_timeout", "duration"}, "connect_timeout",
     [](B& b, const toml::node& n) {
       return GetDurationIn(n, std::chrono::seconds(1), std::chrono::seconds(300),
                            b.connect_timeout);
     }},
};

}  // namespace

std::span<const BrokerKeySpec> BrokerKeys() { return kBrokerKeys; }

const BrokerKeySpec* FindBrokerKey(std::string_view field) {
  for (const auto& k : kBrokerKeys) {
    if (k.field == field) return &k;
  }
  return nullptr;
}

}  // namespace config
}  // namespace sluice::gateway
