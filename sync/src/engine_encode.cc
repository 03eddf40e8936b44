// Partition -> object bytes and key. Everything here is a pure function of
// the store's contents and the options: no clock, no randomness, so that a
// partition encoded again after a restart gives the same bytes under the
// same key and the sink can recognise a retried upload as identical.
#include <optional>

#include "sync/engine.h"
#include "sync/object_key.h"

namespace sluice::sync {

Result<std::string> SyncObjectKey(const SyncEngineOptions& options, const store::PartitionId& id) {
  ObjectKeyParts parts;
  parts.prefix = options.key_prefix;
  parts.site = options.site;
  parts.gateway_id = options.gateway_id;
  parts.window_start_ns = id.window_start_ns;
  parts.shard = id.shard;
  // The store has one regular and at most one late partition per window and
  // shard; seq tells them apart and keeps both keys stable.
  parts.seq = id.late ? 1 : 0;
  return BuildObjectKey(parts);
}

Result<std::string> EncodePartition(const store::Store& store, const SyncEngineOptions& options,
                                    const store::PartitionId& id) {
  PartitionIdentity identity;
  identity.gateway_id = options.gateway_id;
  identity.site = options.site;
  identity.window_start_ns = id.window_start_ns;
  identity.window_length_ns = std::int64_t{options.partition_window_s} * 1'000'000'000;
  identity.shard = id.shard;
  identity.late = id.late;
  PartitionWriter writer(identity, options.writer);

  // ReadPartition visits series in ascending id order, so series are added
  // to the object in a stable order.
  std::optional<store::SeriesId> current;
  Status failed;
  const Status read = store.ReadPartition(id, [&](const store::Record& r) {
    if (!current || *current != r.series) {
      const auto info = store.GetSeries(r.series);
      if (!info) {
        failed = Corruption("series " + std::to_string(r.series.value) +
                            " has records but is not registered");
        return false;
      }
      failed = writer.AddSeries(*info);
      if (!failed.ok()) return false;
      current = r.series;
    }
    failed = writer.Append(r);
    return failed.ok();
  });
  SLUICE_RETURN_IF_ERROR(read);
  SLUICE_RETURN_IF_ERROR(failed);
  return writer.Finish();
}

}  // namespace sluice::sync
