# The batched MQTT load generator (tools/mqtt_load) and `sluice simulate
# --engine wire` against a real Mosquitto, counted by a Paho C++ subscriber.
sluice_test(mqtt_load_test integration
  SOURCES mqtt_load_test.cc
  LIBS sluice_mqtt_load sluice_sensor_sim sluice_paho_library PahoMqttCpp::paho-mqttpp3)
