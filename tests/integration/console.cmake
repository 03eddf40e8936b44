# The web console in Debian's chromium (tools/console_check). A browser test:
# release build only. Included from tests/integration/CMakeLists.txt.
if(NOT SLUICE_SANITIZE)
  add_test(NAME "console: the web console in chromium shows what the admin API answers"
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/console_browser_test.sh $<TARGET_FILE:sluice>
            ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR} $<TARGET_FILE:kafka_mock_cluster>)
  set_tests_properties("console: the web console in chromium shows what the admin API answers"
    PROPERTIES LABELS integration SKIP_RETURN_CODE 77 TIMEOUT 300)
endif()
