# The independent Parquet readers in tools/parquet_check (DuckDB and arrow-rs
# through Node.js), proved on files written by DuckDB and arrow-rs rather than
# by Sluice. Included from tests/integration/CMakeLists.txt. A shell script:
# nothing to build. Needs tools/parquet_check/node_modules (scripts/setup).
add_test(NAME "parquet_check: both independent Parquet readers agree on non-Sluice files"
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/parquet_check_test.sh ${PROJECT_SOURCE_DIR})
set_tests_properties("parquet_check: both independent Parquet readers agree on non-Sluice files"
  PROPERTIES LABELS integration TIMEOUT 300)
