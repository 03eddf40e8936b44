// Configuration keys of the store's engine, upstream sync and the admin
// endpoint: the key table ApplianceKeys() that config.cc consults beside its
// own. Every key is documented in docs/config.md.

#include <filesystem>
#include <string>

#include "base/secret_file.h"
#include "config_values.h"

namespace sluice::gateway::config {
namespace {

template <typename T>
Status GetIntInto(const toml::node& n, std::int64_t lo, std::int64_t hi, T& out) {
  std::int64_t v = 0;
  SLUICE_RETURN_IF_ERROR(GetInt(n, lo, hi, v));
  out = static_cast<T>(v);
  return Status::Ok();
}

Status ApplyWriteBuffer(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "wal") c.store.write_buffer = store::WriteBufferMode::kWal;
  else if (v == "pmem") c.store.write_buffer = store::WriteBufferMode::kPmem;
  else return InvalidArgument("'" + v + "' is not a write buffer; allowed: wal, pmem");
  return Status::Ok();
}

Status ApplySink(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "none") c.sync.sink = SinkKind::kNone;
  else if (v == "s3") c.sync.sink = SinkKind::kS3;
  else if (v == "dir") c.sync.sink = SinkKind::kDir;
  else return InvalidArgument("'" + v + "' is not a sink; allowed: none, s3, dir");
  return Status::Ok();
}

Status ApplyFormat(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "slp") c.sync.engine.format = sync::ObjectFormat::kSlp;
  else if (v == "parquet") c.sync.engine.format = sync::ObjectFormat::kParquet;
  else return InvalidArgument("'" + v + "' is not an object format; allowed: slp, parquet");
  return Status::Ok();
}

Status ApplyParquetEncoding(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "compatible") c.sync.engine.parquet.encodings = sync::ParquetEncodingSet::kCompatible;
  else if (v == "compact") c.sync.engine.parquet.encodings = sync::ParquetEncodingSet::kCompact;
  else return InvalidArgument("'" + v + "' is not a Parquet encoding set; allowed: compatible, compact");
  return Status::Ok();
}

Status ApplyAddressing(Config& c, const toml::node& n) {
  std::string v;
  SLUICE_RETURN_IF_ERROR(GetString(n, v));
  if (v == "path") c.sync.s3.addressing = sync::S3Addressing::kPath;
  else if (v == "virtual_host") c.sync.s3.addressing = sync::S3Addressing::kVirtualHost;
  else return InvalidArgument("'" + v + "' is not an addressing style; allowed: path, virtual_host");
  return Status::Ok();
}

// The admin token is a secret like the broker password: an absolute path,
// refused when group or others may access it. A file this process cannot
// stat yet passes here; the admin endpoint reads it at start and refuses to
// start without it.
Status ApplyAdminTokenFile(Config& c, const toml::node& n) {
  std::string& out = c.admin.http.token_file;
  SLUICE_RETURN_IF_ERROR(GetString(n, out));
  if (out.empty()) return Status::Ok();
  if (!std::filesystem::path(out).is_absolute()) {
    return InvalidArgument("must be an absolute path, got '" + out + "'");
  }
  return CheckSecretFileIfPresent(out, "token file " + out);
}

const KeySpec kKeys[] = {
    // [store]: the engine (docs/config.md explains each).
    {{"store.write_buffer", "string"}, ApplyWriteBuffer},
    {{"store.pmem_path", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.store.pmem_path); }},
    {{"store.pmem_size", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.pmem_size); }},
    {{"store.pmem_max_spin", "duration"},
     [](Config& c, const toml::node& n) {
       std::chrono::microseconds spin{0};
       SLUICE_RETURN_IF_ERROR(GetDuration(n, spin));
       if (spin > std::chrono::milliseconds(10)) return InvalidArgument("must be at most \"10ms\"");
       c.store.pmem_max_spin = spin;
       return Status::Ok();
     }},
    {{"store.block_size", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.block_size); }},
    {{"store.segment_size", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.segment_size); }},
    {{"store.block_max_age", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.store.block_max_age); }},
    {{"store.open_blocks_bytes", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.open_blocks_bytes); }},
    {{"store.partition_window", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.store.partition_window); }},
    {{"store.partition_shards", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 1, 256, c.store.partition_shards);
     }},
    {{"store.late_grace", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.store.late_grace); }},
    {{"store.disk_budget", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.disk_budget); }},
    {{"store.disk_high_watermark", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 2, 100, c.store.disk_high_watermark);
     }},
    {{"store.disk_low_watermark", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 1, 99, c.store.disk_low_watermark);
     }},
    {{"store.free_space_warning", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 0, 50, c.store.free_space_warning);
     }},
    // Bounds (0 .. 64 MiB) are store::Options::Validate's, reported on this key.
    {{"store.reserve", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.reserve); }},
    // Bounds (0, or 1 MiB .. 64 GiB) are store::Options::Validate's.
    {{"store.index_checkpoint", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.store.index_checkpoint); }},

    // [sync]: the engine.
    {{"sync.sink", "string"}, ApplySink},
    {{"sync.key_prefix", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.engine.key_prefix); }},
    {{"sync.poll_interval", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.sync.engine.poll_interval); }},
    {{"sync.live_workers", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 1, 16, c.sync.engine.live_workers);
     }},
    {{"sync.backfill_workers", "integer"},
     [](Config& c, const toml::node& n) {
       return GetIntInto(n, 1, 16, c.sync.engine.backfill_workers);
     }},
    {{"sync.bandwidth", "size"},
     [](Config& c, const toml::node& n) {
       return GetSize(n, c.sync.engine.bandwidth);
     }},
    {{"sync.bandwidth_burst", "size"},
     [](Config& c, const toml::node& n) {
       return GetSize(n, c.sync.engine.bandwidth_burst);
     }},
    {{"sync.retry_base", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.sync.engine.retry_base); }},
    {{"sync.retry_cap", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.sync.engine.retry_cap); }},
    {{"sync.permanent_cooldown", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDuration(n, c.sync.engine.permanent_cooldown);
     }},
    {{"sync.attempt_timeout", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.sync.engine.attempt_timeout); }},
    {{"sync.zstd_level", "integer"},
     [](Config& c, const toml::node& n) {
       SLUICE_RETURN_IF_ERROR(GetIntInto(n, 1, 22, c.sync.engine.writer.zstd_level));
       c.sync.engine.parquet.zstd_level = c.sync.engine.writer.zstd_level;
       return Status::Ok();
     }},
    {{"sync.format", "string"}, ApplyFormat},
    {{"sync.parquet_encoding", "string"}, ApplyParquetEncoding},
    {{"sync.deduplicate", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.sync.engine.deduplicate); }},
    {{"sync.watermark_interval", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDuration(n, c.sync.engine.watermark_interval);
     }},
    {{"sync.watermark_min_lag", "duration"},
     [](Config& c, const toml::node& n) {
       return GetDuration(n, c.sync.engine.watermark_min_lag);
     }},

    // [sync.s3]
    {{"sync.s3.endpoint", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.s3.endpoint); }},
    {{"sync.s3.region", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.s3.region); }},
    {{"sync.s3.bucket", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.s3.bucket); }},
    {{"sync.s3.addressing", "string"}, ApplyAddressing},
    {{"sync.s3.ca_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.s3.ca_file); }},
    {{"sync.s3.credentials_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.s3.credentials_file); }},
    {{"sync.s3.multipart_threshold", "size"},
     [](Config& c, const toml::node& n) {
       return GetSize(n, c.sync.s3.multipart_threshold_bytes);
     }},
    {{"sync.s3.multipart_part_size", "size"},
     [](Config& c, const toml::node& n) { return GetSize(n, c.sync.s3.multipart_part_bytes); }},

    // [sync.dir]
    {{"sync.dir.root", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.sync.dir.root); }},

    // [admin]
    {{"admin.enabled", "boolean"},
     [](Config& c, const toml::node& n) { return GetBool(n, c.admin.enabled); }},
    {{"admin.address", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.admin.http.address); }},
    {{"admin.port", "integer"},
     [](Config& c, const toml::node& n) { return GetIntInto(n, 0, 65535, c.admin.http.port); }},
    {{"admin.token_file", "string"}, ApplyAdminTokenFile},
    {{"admin.tls_cert_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.admin.http.tls_cert_file); }},
    {{"admin.tls_key_file", "string"},
     [](Config& c, const toml::node& n) { return GetString(n, c.admin.http.tls_key_file); }},
    {{"admin.sync_stuck_after", "duration"},
     [](Config& c, const toml::node& n) { return GetDuration(n, c.admin.http.sync_stuck_after); }},
};

// "field: why" from a module's Validate() -> "section.field: why".
Status Under(const char* section, const Status& s) {
  if (s.ok()) return s;
  return InvalidArgument(std::string(section) + "." + s.message());
}

}  // namespace

std::span<const KeySpec> ApplianceKeys() { return kKeys; }

Status GetInt(const toml::node& n, std::int64_t lo, std::int64_t hi, std::int64_t& out) {
  const auto* i = n.as_integer();
  if (i == nullptr) return InvalidArgument("expected an integer");
  if (i->get() < lo || i->get() > hi) {
    return InvalidArgument(std::to_string(i->get()) + " is outside [" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
  }
  out = i->get();
  return Status::Ok();
}

Status FinishSyncConfig(Config& c) {
  auto& e = c.sync.engine;
  e.gateway_id = c.gateway.id;
  e.site = c.gateway.site;
  e.partition_window = c.store.partition_window;
  // Beside the data it describes: T must not regress while the store keeps
  // its partitions (docs/sync.md).
  e.watermark_state_file = c.store.dir + "/sync_watermark.json";
  if (c.admin.enabled) SLUICE_RETURN_IF_ERROR(Under("admin", c.admin.http.Validate()));
  if (c.sync.sink == SinkKind::kNone) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(Under("sync", e.Validate()));
  if (c.sync.sink == SinkKind::kS3) return Under("sync.s3", c.sync.s3.Validate());
  return Under("sync.dir", c.sync.dir.Validate());
}

}  // namespace sluice::gateway::config
