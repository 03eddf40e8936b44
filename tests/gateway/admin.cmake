# The admin HTTP endpoint, spoken to over a real loopback socket: the server
# with fake handlers (tokens, bad requests, console files, headers), a
# running gateway's series API (downsampling too), partitions and status,
# HTTPS, its /metrics through a strict exposition-format parser, and the
# `sluice status` view.
sluice_test(admin_test unit SOURCES admin_test.cc LIBS sluice_app)

sluice_test(admin_api_test unit
  SOURCES admin_api_test.cc admin_downsample_test.cc admin_partitions_test.cc
  LIBS sluice_app)
sluice_test(admin_metrics_test unit SOURCES admin_metrics_test.cc LIBS sluice_app simdjson::simdjson)

sluice_test(admin_status_test unit SOURCES admin_status_test.cc LIBS sluice_app)

# The windows of /v1/status (rates, ack-latency quantiles) and its last
# errors, driven without a clock.
sluice_test(admin_window_test unit SOURCES admin_window_test.cc LIBS sluice_app)
target_include_directories(admin_window_test PRIVATE ${PROJECT_SOURCE_DIR}/gateway/app/src)

# Over HTTPS, with certificates made by openssl for the test.
find_package(OpenSSL REQUIRED)
sluice_test(admin_tls_test unit SOURCES admin_tls_test.cc LIBS sluice_app OpenSSL::SSL)
