# The admin HTTP endpoint on Boost.Beast (gateway/admin_server.h), its series
# API, and `sluice status`, the human view of it.
target_sources(sluice_gateway PRIVATE
  src/admin/admin_server.cc
  src/admin/admin_request.cc
  src/admin/health.cc
  src/admin/metrics_text.cc
  src/admin/series_api.cc
  src/status/status.cc
  src/status/status_view.cc)
# SLUICE_VERSION for sluice_build_info and /v1/status.
target_include_directories(sluice_gateway PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/generated)
