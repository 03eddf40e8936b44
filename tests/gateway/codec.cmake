# The MQTT packet codec, alone: no broker, no store.
sluice_test(gateway_mqtt_codec_test unit
  SOURCES mqtt_codec_test.cc mqtt_codec_malformed_test.cc
  LIBS sluice_mqtt_codec)
