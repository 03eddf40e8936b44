# `sluice lake` killed with SIGKILL against a real Ceph RGW (scripts/rgw),
# rerun, compared with a clean run. Reads SLUICE_TEST_S3_* and exits 77
# (skipped) without them. Release tree only: the kill timing (runs of a few
# seconds, a 2-minute budget) does not hold under the sanitizers.
if(NOT SLUICE_SANITIZE)
  sluice_test(lake_kill_test integration
    SOURCES lake_kill_test.cc
    LIBS sluice_sync sluice_raw_mqtt_client)
  target_compile_definitions(lake_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
  add_dependencies(lake_kill_test sluice)
endif()
