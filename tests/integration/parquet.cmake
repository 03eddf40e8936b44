# The independent Parquet readers in tools/parquet_check (DuckDB and arrow-rs
# through Node.js), proved on files written by DuckDB and arrow-rs rather than
# by Sluice. Included from tests/integration/CMakeLists.txt. A shell script:
# nothing to build. Needs tools/parquet_check/node_modules (scripts/setup).
add_test(NAME "parquet_check: both independent Parquet readers agree on non-Sluice files"
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/parquet_check_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties("parquet_check: both independent Parquet readers agree on non-Sluice files"
  PROPERTIES LABELS integration TIMEOUT 300)

# Sluice's own Parquet, read back by both independent readers and compared
# with `sluice export` of the `.slp` objects of the same partitions.
add_executable(lake_objects_driver lake_objects_driver.cc ${PROJECT_SOURCE_DIR}/tests/sync/datasets.cc)
target_include_directories(lake_objects_driver PRIVATE ${PROJECT_SOURCE_DIR}/tests/sync)
target_compile_definitions(lake_objects_driver PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(lake_objects_driver PRIVATE sluice_sync)
sluice_test_code_defaults(lake_objects_driver)
if(NOT SLUICE_SANITIZE)
  add_test(NAME "parquet: Sluice's Parquet reads back by DuckDB and arrow-rs equal to sluice export"
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/parquet_objects_test.sh ${PROJECT_SOURCE_DIR}
            $<TARGET_FILE:lake_objects_driver> $<TARGET_FILE:sluice>)
  set_tests_properties("parquet: Sluice's Parquet reads back by DuckDB and arrow-rs equal to sluice export"
    PROPERTIES LABELS integration TIMEOUT 900)
endif()
