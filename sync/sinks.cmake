# Sinks (sync/include/sync/sink.h): S3 on libcurl, and a local directory.
# Included from sync/CMakeLists.txt; paths are relative to sync/.
find_package(OpenSSL REQUIRED)  # libcrypto: SHA-256 and MD5 (OpenSSL::Crypto)

target_sources(sluice_sync PRIVATE
  src/s3_source.cc
  src/s3_request.cc
  src/s3_credentials.cc
  src/s3_http.cc
  src/s3_sink.cc
  src/s3_list.cc
  src/dir_sink.cc
)
# Private: curl and OpenSSL headers stay out of sync/include.
target_link_libraries(sluice_sync PRIVATE CURL::libcurl OpenSSL::Crypto)
