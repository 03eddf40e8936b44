# Sync integration tests against a real Ceph RGW (scripts/rgw). They read
# SLUICE_TEST_S3_* and exit 77 (skipped) without them, or fail when
# SLUICE_TEST_REQUIRE_SERVICES=1. Included from tests/integration/CMakeLists.txt.
sluice_test(s3_sink_test integration
  SOURCES s3_sink_test.cc
  LIBS sluice_sync)
target_include_directories(s3_sink_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)

# The sync engine killed with SIGKILL mid-upload, restarted, checked with boto3.
sluice_test(sync_engine_kill_test integration
  SOURCES sync_engine_test.cc
  LIBS sluice_sync sluice_raw_mqtt_client)
