# stream_bench: the stream lane against a bare librdkafka producer of the
# same messages, its throughput while ingest runs, and durable-to-delivered
# latency, on librdkafka's mock cluster in its own process (the tests'
# kafka_mock_cluster, so it needs SLUICE_TESTS). See bench/README.md.
if(TARGET kafka_mock_cluster)
  add_executable(stream_bench stream_bench.cc
    ${PROJECT_SOURCE_DIR}/tests/stream/mock_cluster.cc
    ${PROJECT_SOURCE_DIR}/tests/support/temp_dir.cc)
  target_include_directories(stream_bench PRIVATE
    ${PROJECT_SOURCE_DIR}/stream/src ${PROJECT_SOURCE_DIR}/tests/stream
    ${PROJECT_SOURCE_DIR}/tests/support)
  target_compile_definitions(stream_bench PRIVATE SLUICE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  target_link_libraries(stream_bench PRIVATE sluice_stream sluice_store PkgConfig::LIBRDKAFKA)
  add_dependencies(stream_bench kafka_mock_cluster)
  sluice_target_defaults(stream_bench)
endif()
