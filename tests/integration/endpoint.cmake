# The native MQTT endpoint: in-process with independent clients
# (mosquitto_pub, Python paho-mqtt, Paho C++) and the raw codec client; and
# the `sluice` binary killed with SIGKILL under QoS 1 publishers.
add_library(sluice_raw_mqtt_client STATIC raw_mqtt_client.cc qos1_publisher.cc)
target_include_directories(sluice_raw_mqtt_client PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(sluice_raw_mqtt_client PUBLIC sluice_mqtt_codec sluice_base)
sluice_test_code_defaults(sluice_raw_mqtt_client)

sluice_test(endpoint_test integration
  SOURCES endpoint_test.cc mqtt_test_util.cc
  LIBS sluice_app sluice_raw_mqtt_client sluice_paho_library PahoMqttCpp::paho-mqttpp3
       sluice_store_testing)

sluice_test(endpoint_kill_test integration
  SOURCES endpoint_kill_test.cc mqtt_test_util.cc
  LIBS sluice_app sluice_raw_mqtt_client)
target_compile_definitions(endpoint_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(endpoint_kill_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(endpoint_kill_test sluice)
