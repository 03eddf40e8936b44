# Every third-party dependency, found once. All come from Debian packages
# listed in scripts/debian-packages.txt.

find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)

find_package(Protobuf REQUIRED)
find_package(PahoMqttCpp REQUIRED)          # PahoMqttCpp::paho-mqttpp3
find_package(tomlplusplus REQUIRED)         # tomlplusplus::tomlplusplus
find_package(CLI11 REQUIRED)                # CLI11::CLI11
find_package(spdlog REQUIRED)               # spdlog::spdlog
find_package(simdjson REQUIRED)             # simdjson::simdjson
find_package(CURL REQUIRED)                 # CURL::libcurl
find_package(Boost 1.74 REQUIRED)           # Asio and Beast, header-only
find_package(doctest REQUIRED)              # doctest::doctest

pkg_check_modules(LIBURING REQUIRED IMPORTED_TARGET liburing)
pkg_check_modules(LIBPMEM2 REQUIRED IMPORTED_TARGET libpmem2)
pkg_check_modules(LIBZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LIBSYSTEMD REQUIRED IMPORTED_TARGET libsystemd)
pkg_check_modules(LIBRDKAFKA REQUIRED IMPORTED_TARGET rdkafka)  # the stream lane (stream/)
