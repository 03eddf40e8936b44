# The MQTT packet codec: no I/O, no dependencies beyond the standard library
# and sluice_base (SLUICE_CHECK), so the native endpoint, the load generator,
# the simulator and the fuzz target all link it alone.
add_library(sluice_mqtt_codec STATIC
  src/endpoint/mqtt_codec_decode.cc
  src/endpoint/mqtt_codec_decode_connect.cc
  src/endpoint/mqtt_codec_encode.cc
  src/endpoint/mqtt_codec_common.cc)
target_include_directories(sluice_mqtt_codec PUBLIC include PRIVATE src)
target_link_libraries(sluice_mqtt_codec PUBLIC sluice_base)
sluice_target_defaults(sluice_mqtt_codec)
