# `sluice lake` as a library over directory sinks; the kill -9 test against
# Ceph RGW is tests/integration/lake_kill_test.cc. Included from
# tests/sync/CMakeLists.txt.
sluice_test(lake_test unit
  SOURCES lake_test.cc parquet_reader.cc
  LIBS sluice_sync)
target_include_directories(lake_test PRIVATE ${PROJECT_SOURCE_DIR}/sync/src)
