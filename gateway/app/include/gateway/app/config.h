// The one TOML configuration file of a Sluice gateway.
//
// Every key the loader accepts is listed by ConfigKeys() and documented in
// docs/config.md (a test keeps the two equal). Unknown keys are refused; every
// error names the file, line, column and key, and says what is allowed.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "base/status.h"
#include "gateway/endpoint/endpoint_options.h"
#include "gateway/ingest/ingest_options.h"
#include "gateway/frontend/mqtt_options.h"
#include "gateway/pipeline/pipeline_options.h"
#include "gateway/admin/admin_server.h"
#include "store/options.h"
#include "stream/kafka_lane.h"
#include "sync/engine.h"
#include "sync/sink.h"

namespace sluice::gateway {

struct GatewayOptions {
  // Identifies this box upstream (object keys, metadata). Default: host name.
  std::string id;
  // Site (plant, building) the box belongs to. Default: "default".
  std::string site = "default";
};

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

struct LogOptions {
  LogLevel level = LogLevel::kInfo;  // Default: info.
};

// [sync]: where sealed partitions go. Off unless `sync.sink` names a sink.
enum class SinkKind { kNone, kS3, kDir };

struct SyncConfig {
  SinkKind sink = SinkKind::kNone;     // Default: none (nothing leaves the box).
  sync::SyncEngineOptions engine;      // identity filled from [gateway] and [store]
  sync::S3SinkOptions s3;              // [sync.s3]
  sync::DirSinkOptions dir;            // [sync.dir]
};

// [stream.kafka]: durable records to Kafka as they become durable.
struct StreamConfig {
  bool enabled = false;                         // Default: off.
  stream::KafkaLaneOptions kafka;               // identity filled from [gateway]
  std::uint64_t backlog_disk_bytes = 256ull << 20;  // store cursor_retain_bytes
  std::uint64_t backlog_memory_bytes = 32ull << 20; // store cursor_memory_bytes
};

struct AdminConfig {
  bool enabled = true;                 // Default: on, loopback only.
  AdminOptions http;                   // [admin] address, port
};

// `board`, `board_dir`, and the profile they led to (boards/README.md).
struct BoardConfig {
  std::string setting = "auto";  // `board`: "auto", a profile name or a path
  std::string dir;               // `board_dir`; empty: installed, else source tree
  std::string profile;           // chosen profile, e.g. "rpi5-nvme"
  std::string profile_path;      // file read; empty: built-in defaults only
  std::string reason;            // why, e.g. "devicetree model '...'"
};

struct Config {
  BoardConfig board;  // read first: the profile sits below every other key
  GatewayOptions gateway;
  LogOptions log;
  store::Options store;
  IngestOptions ingest;  // [ingest] and every [[ingest.rule]], rules checked
  MqttOptions mqtt;      // every [[mqtt.broker]], checked
  EndpointOptions endpoint;  // [endpoint]: the native MQTT ingest endpoint
  PipelineOptions pipeline;  // [pipeline]
  SyncConfig sync;           // [sync], [sync.s3], [sync.dir]
  StreamConfig stream;       // [stream.kafka], [stream.kafka.properties]
  AdminConfig admin;         // [admin]
};

struct ConfigKeyInfo {
  // Dotted name, e.g. "store.dir". Keys of a table array carry "[]" after the
  // array's name: "ingest.rule[].topic"; errors name the table by its
  // position from 1: "ingest.rule[2].topic".
  std::string_view key;
  std::string_view type;  // as written in docs/config.md
};

// Every key the loader accepts, in documentation order.
std::span<const ConfigKeyInfo> ConfigKeys();

// Parses `text` as if read from a file named `source` (used in messages).
Result<Config> ParseConfig(std::string_view text, std::string_view source);

// Where `board = "auto"` looks: "/" on a real box, a fake tree in tests.
struct ParseContext {
  std::string root = "/";
};
Result<Config> ParseConfig(std::string_view text, std::string_view source,
                           const ParseContext& context);

// Reads and parses a configuration file.
Result<Config> LoadConfigFile(const std::filesystem::path& path);

std::string_view LogLevelName(LogLevel level);

}  // namespace sluice::gateway
