# listener_bench: publishers -> Mosquitto -> `sluice run` (the broker path)
# against publishers -> Sluice's native endpoint (PUBACK after durability),
# the same publishers (tools/mqtt_load) in the same run. Shares
# sluice_bench_mqtt with ingest_bench (ingest.cmake). See bench/README.md.
add_executable(listener_bench listener_bench.cc)
target_compile_definitions(listener_bench PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
target_link_libraries(listener_bench PRIVATE sluice_bench_mqtt)
add_dependencies(listener_bench sluice)
sluice_target_defaults(listener_bench)
