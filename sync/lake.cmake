# `sluice lake` (sync/lake.h, docs/central.md): .slp objects -> Parquet at
# the core. Included from sync/CMakeLists.txt.
target_sources(sluice_sync PRIVATE
  src/lake.cc
  src/lake_convert.cc
  src/lake_location.cc
)
