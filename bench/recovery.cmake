# recovery_bench: `sluice run` after kill -9 on a week of data, from the
# index checkpoint against scanning every segment (see the comment atop the
# file). Prepares its stores through the store's API; publishes with Paho.
add_executable(recovery_bench recovery_bench.cc)
target_compile_definitions(recovery_bench PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
target_link_libraries(recovery_bench PRIVATE sluice_bench_mqtt sluice_store
                      PahoMqttCpp::paho-mqttpp3 Threads::Threads)
add_dependencies(recovery_bench sluice)
sluice_target_defaults(recovery_bench)
