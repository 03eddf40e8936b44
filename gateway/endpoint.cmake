# The native MQTT ingest endpoint on Boost.Asio (gateway/mqtt_endpoint.h):
# connections, sessions and TLS here; the packet codec is sluice_mqtt_codec
# (codec.cmake). OpenSSL for TLS and the password hashes.
find_package(OpenSSL REQUIRED)
target_sources(sluice_gateway PRIVATE
  src/endpoint/endpoint_config.cc
  src/endpoint/password_file.cc
  src/endpoint/session.cc
  src/endpoint/transport.cc
  src/endpoint/connection.cc
  src/endpoint/endpoint.cc)
target_link_libraries(sluice_gateway PRIVATE sluice_mqtt_codec OpenSSL::SSL OpenSSL::Crypto)
