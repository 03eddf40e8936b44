# The stream lane: its position file (store), topic templates and series
# patterns from the configuration, and the message values it builds, checked
# against simdjson and the protoc-generated code.
sluice_fuzzer(stream_fuzz sluice_stream)
target_include_directories(stream_fuzz PRIVATE ${PROJECT_SOURCE_DIR}/store/src)
target_link_libraries(stream_fuzz PRIVATE sluice_store sluice_proto simdjson::simdjson)
