# More upstream-sync integration tests against a real Ceph RGW (scripts/rgw):
# an upstream outage through a forwarder the test cuts, the full round trip
# of the real datasets (MQTT in, objects out, `sluice export` back), and sync
# over an impaired link between network namespaces (needs root and
# tools/wan_delay). They read SLUICE_TEST_S3_* and exit 77 (skipped) without
# them, or fail when SLUICE_TEST_REQUIRE_SERVICES=1. Included from
# tests/integration/CMakeLists.txt.
if(NOT TARGET sluice_wan_link)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tools/wan_delay ${PROJECT_BINARY_DIR}/tools/wan_delay)
endif()

# The S3 sink behind a TCP forwarder that is cut and restored.
sluice_test(sync_backlog_test integration
  SOURCES sync_backlog_test.cc mqtt_test_util.cc
  LIBS sluice_app sluice_raw_mqtt_client sluice_wan_link)

# SKAB and NAB over MQTT into the gateway, up to RGW, back through `sluice export`.
sluice_test(round_trip_test integration
  SOURCES round_trip_test.cc mqtt_test_util.cc ${PROJECT_SOURCE_DIR}/tests/sync/datasets.cc
  LIBS sluice_app sluice_raw_mqtt_client)
target_include_directories(round_trip_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/sync)
target_compile_definitions(round_trip_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(round_trip_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(round_trip_test sluice)

# 1 Mbit/s, 100 ms, 1% loss between two network namespaces (tools/wan_delay).
sluice_test(sync_wan_test integration
  SOURCES sync_wan_test.cc
  LIBS sluice_sync sluice_wan_link sluice_raw_mqtt_client)
if(TARGET wan_delay)
  target_compile_definitions(sync_wan_test PRIVATE WAN_DELAY_BIN="$<TARGET_FILE:wan_delay>")
  set_target_properties(sync_wan_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
  add_dependencies(sync_wan_test wan_delay)
else()
  target_compile_definitions(sync_wan_test PRIVATE WAN_DELAY_BIN="")
  set_target_properties(sync_wan_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
endif()
