# `sluice lake` killed with SIGKILL against a real Ceph RGW (scripts/rgw),
# rerun, compared with a clean run. Reads SLUICE_TEST_S3_* and exits 77
# (skipped) without them. Release tree only: the kill timing (runs of a few
# seconds, a 2-minute budget) does not hold under the sanitizers.
if(NOT SLUICE_SANITIZE)
  sluice_test(lake_kill_test integration
    SOURCES lake_kill_test.cc
    LIBS sluice_sync sluice_raw_mqtt_client)
  target_compile_definitions(lake_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
  set_target_properties(lake_kill_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
  add_dependencies(lake_kill_test sluice)
endif()

# sluice lake's Parquet equals the gateway's own Parquet (sync.format =
# "parquet") byte for byte, for the same partitions (driver from parquet.cmake).
if(TARGET lake_objects_driver)
  add_test(NAME "lake: Parquet from .slp equals the gateway's own Parquet"
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/lake_same_bytes_test.sh $<TARGET_FILE:sluice>
            $<TARGET_FILE:lake_objects_driver>)
  set_tests_properties("lake: Parquet from .slp equals the gateway's own Parquet" PROPERTIES
    LABELS integration TIMEOUT 300)
endif()
