# What the MQTT benchmarks share (bench_util.h: child processes, /proc CPU
# and RSS, Sluice's /metrics, the JSON payload) and the tests' Mosquitto
# helper; used by ingest_bench here and listener_bench (listener.cmake).
add_library(sluice_bench_mqtt STATIC
  bench_util.cc
  ${PROJECT_SOURCE_DIR}/tests/support/mosquitto.cc
  ${PROJECT_SOURCE_DIR}/tests/support/temp_dir.cc)
target_include_directories(sluice_bench_mqtt PUBLIC
  ${CMAKE_CURRENT_SOURCE_DIR} ${PROJECT_SOURCE_DIR}/tests/support)
target_link_libraries(sluice_bench_mqtt PUBLIC sluice_mqtt_load sluice_sensor_sim sluice_base)
sluice_target_defaults(sluice_bench_mqtt)

# ingest_bench: MQTT ingest through Mosquitto, `sluice run` storing durably
# against a plain Paho C++ subscriber that only counts (paho_count_sub), the
# same publishers (tools/mqtt_load) for both. Reuses the tests' Mosquitto
# helper. See bench/README.md.
add_executable(paho_count_sub paho_count_sub.cc)
target_link_libraries(paho_count_sub PRIVATE PahoMqttCpp::paho-mqttpp3 Threads::Threads)
sluice_target_defaults(paho_count_sub)

add_executable(ingest_bench ingest_bench.cc)
target_compile_definitions(ingest_bench PRIVATE
  SLUICE_BIN="$<TARGET_FILE:sluice>" PAHO_COUNT_SUB="$<TARGET_FILE:paho_count_sub>")
target_link_libraries(ingest_bench PRIVATE sluice_bench_mqtt)
add_dependencies(ingest_bench sluice paho_count_sub)
sluice_target_defaults(ingest_bench)
