# The sync engine (sync/include/sync/engine.h): sealed partitions -> sink.
# Included from sync/CMakeLists.txt; paths are relative to sync/.
target_sources(sluice_sync PRIVATE
  src/engine.cc
  src/engine_backoff.cc
  src/engine_encode.cc
  src/engine_options.cc
  src/engine_queue.cc
  src/engine_token_bucket.cc
  src/engine_uploader.cc
  src/engine_watermark.cc
  src/sync_probe.cc
  # Completeness watermarks (sync/watermark.h): the document and the rule for T.
  src/watermark.cc
)
