# Sync engine unit tests: its parts, and the engine against a real directory
# sink wrapped in a fault-injecting one. Included from tests/sync/CMakeLists.txt.
sluice_test(sync_engine_test unit
  SOURCES
    engine_parts_test.cc
    engine_test.cc
    engine_lanes_test.cc
    engine_watermark_test.cc
  LIBS sluice_sync)
target_include_directories(sync_engine_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)
