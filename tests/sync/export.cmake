# Export (sync/export.h) unit tests. Included from tests/sync/CMakeLists.txt.
sluice_test(sync_export_test unit
  SOURCES export_test.cc
  LIBS sluice_sync)
