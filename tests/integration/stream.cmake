# The stream lane under kill -9: the real `sluice run` (endpoint and lane on)
# SIGKILLed while QoS 1 publishers send, librdkafka's mock cluster in its own
# process (tests/stream/kafka_mock_cluster), kafka-python reading back.
sluice_test(stream_kill_test integration
  SOURCES stream_kill_test.cc mqtt_test_util.cc ${PROJECT_SOURCE_DIR}/tests/stream/mock_cluster.cc
          ${PROJECT_SOURCE_DIR}/tests/stream/kafka_read.cc
  LIBS sluice_app sluice_raw_mqtt_client)
target_include_directories(stream_kill_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/stream)
target_compile_definitions(stream_kill_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(stream_kill_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(stream_kill_test sluice kafka_mock_cluster stream_proto_py)
