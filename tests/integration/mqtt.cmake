# MQTT ingest against a real Mosquitto (tests/support/mosquitto.h): the
# gateway in-process with mosquitto_pub, Python paho-mqtt and Paho C++
# publishers; and the `sluice` binary killed with SIGKILL in a loop.
sluice_test(mqtt_ingest_test integration
  SOURCES mqtt_ingest_test.cc mqtt_test_util.cc
  LIBS sluice_app sluice_sensor_sim sluice_raw_mqtt_client)

sluice_test(mqtt_kill_test integration
  SOURCES mqtt_kill_test.cc mqtt_test_util.cc
  LIBS sluice_app)
target_compile_definitions(mqtt_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(mqtt_kill_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(mqtt_kill_test sluice)
