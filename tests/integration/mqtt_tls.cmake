# TLS and user name/password against a real Mosquitto: a throwaway PKI made
# with the openssl command line at test time, a broker with a TLS listener
# that requires client certificates and a password_file, and the `sluice`
# binary spawned on a generated config.
sluice_test(mqtt_tls_test integration
  SOURCES mqtt_tls_test.cc mqtt_test_util.cc
  LIBS sluice_app)
target_compile_definitions(mqtt_tls_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(mqtt_tls_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(mqtt_tls_test sluice)
