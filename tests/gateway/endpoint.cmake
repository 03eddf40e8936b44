# The native endpoint's parts without sockets: sessions, password files.
sluice_test(gateway_endpoint_test unit
  SOURCES endpoint_session_test.cc
  LIBS sluice_endpoint sluice_mqtt_codec)
target_include_directories(gateway_endpoint_test PRIVATE ${PROJECT_SOURCE_DIR}/gateway/endpoint/src)
