# The admin endpoint against real clients: a real Prometheus (Debian
# `prometheus`, loopback, temp config and TSDB) scraping an in-process
# gateway with and without the bearer token, and `sluice status` (the
# binary) drawing it. Skips (77) without Prometheus unless
# SLUICE_TEST_REQUIRE_SERVICES=1.
sluice_test(admin_prom_test integration SOURCES admin_prom_test.cc LIBS sluice_app)
target_include_directories(admin_prom_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/gateway)
target_compile_definitions(admin_prom_test PRIVATE SLUICE_BIN="$<TARGET_FILE:sluice>")
set_target_properties(admin_prom_test PROPERTIES DISABLE_PRECOMPILE_HEADERS ON)  # own definitions
add_dependencies(admin_prom_test sluice)
