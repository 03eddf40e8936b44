# Sink unit tests: the directory sink, and the S3 pieces that need no server
# (request building, error mapping, credentials). Included from
# tests/sync/CMakeLists.txt. The S3 tests against a real Ceph RGW are in
# tests/integration/sync.cmake.
sluice_test(sink_test unit
  SOURCES
    sink_dir_test.cc
    sink_s3_request_test.cc
    sink_credentials_test.cc
    sink_list_test.cc
  LIBS sluice_sync)
target_include_directories(sink_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)
