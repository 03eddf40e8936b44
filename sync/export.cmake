# Export of partition objects to CSV / JSON Lines (sync/export.h), the library
# behind `sluice export`. Included from sync/CMakeLists.txt.
target_sources(sluice_sync PRIVATE src/export.cc)
