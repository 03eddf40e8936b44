# The admin HTTP endpoint on Boost.Beast (gateway/admin_server.h).
target_sources(sluice_gateway PRIVATE src/admin/admin_server.cc)
