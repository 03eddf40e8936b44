# sync_bench: the sync engine shipping partitions to Ceph RGW against a plain
# boto3 uploader of the same bytes, objects/s and MB/s, goodput under the
# engine's rate limit and over an impaired WAN link (tools/wan_delay, needs
# root). RGW from SLUICE_TEST_S3_* (scripts/rgw env DIR). See bench/README.md.
if(NOT TARGET sluice_wan_link)
  add_subdirectory(${PROJECT_SOURCE_DIR}/tools/wan_delay ${PROJECT_BINARY_DIR}/tools/wan_delay)
endif()
add_executable(sync_bench sync_bench.cc ${PROJECT_SOURCE_DIR}/tests/support/temp_dir.cc)
target_include_directories(sync_bench PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
target_compile_definitions(sync_bench PRIVATE SLUICE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
target_link_libraries(sync_bench PRIVATE sluice_sync sluice_wan_link)
if(TARGET wan_delay)
  target_compile_definitions(sync_bench PRIVATE WAN_DELAY_BIN="$<TARGET_FILE:wan_delay>")
  add_dependencies(sync_bench wan_delay)
else()
  target_compile_definitions(sync_bench PRIVATE WAN_DELAY_BIN="")
endif()
sluice_target_defaults(sync_bench)
