# Sync integration tests against a real Ceph RGW (scripts/rgw). They read
# SLUICE_TEST_S3_* and exit 77 (skipped) without them, or fail when
# SLUICE_TEST_REQUIRE_SERVICES=1. Included from tests/integration/CMakeLists.txt.
sluice_test(s3_sink_test integration
  SOURCES s3_sink_test.cc
  LIBS sluice_sync)
target_include_directories(s3_sink_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)
