// [stream.kafka] and [stream.kafka.properties] in the configuration file.
#include <doctest/doctest.h>

#include "gateway/app/config.h"

namespace sluice::gateway {
namespace {

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("[stream.kafka] maps onto the lane and the store's cursor") {
  auto c = ParseConfig(R"(
[gateway]
id = "gw-7"
site = "plant-a"

[stream.kafka]
enabled = true
bootstrap_servers = "k1:9092,k2:9092"
topic = "sluice.{site}.{gateway}"
series = ["plant/*/temp", "line?/**"]
format = "protobuf_batch"
compression = "lz4"
linger = "20ms"
max_unconfirmed_records = 50000
position_interval = "1s"
backlog_disk = "512MiB"
backlog_memory = "8MiB"

[stream.kafka.properties]
"security.protocol" = "SASL_SSL"
"sasl.mechanism" = "SCRAM-SHA-512"
"socket.keepalive.enable" = true
"message.max.bytes" = 2000000
)", "sluice.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->stream.enabled);
  const auto& k = c->stream.kafka;
  CHECK(k.bootstrap_servers == "k1:9092,k2:9092");
  CHECK(k.series.size() == 2);
  CHECK(k.format == stream::MessageFormat::kProtobufBatch);
  CHECK(k.compression == "lz4");
  CHECK(k.linger == std::chrono::milliseconds(20));
  CHECK(k.max_unconfirmed_records == 50000);
  CHECK(k.position_interval == std::chrono::milliseconds(1000));
  CHECK(k.gateway_id == "gw-7");
  CHECK(k.site == "plant-a");
  CHECK(k.properties.at("security.protocol") == "SASL_SSL");
  CHECK(k.properties.at("socket.keepalive.enable") == "true");
  CHECK(k.properties.at("message.max.bytes") == "2000000");
  CHECK(c->store.cursor_retain_bytes == 512ull << 20);
  CHECK(c->store.cursor_memory_bytes == 8ull << 20);
}

TEST_CASE("without [stream.kafka] the store keeps no cursor") {
  auto c = ParseConfig("", "sluice.toml");
  REQUIRE(c.ok());
  CHECK_FALSE(c->stream.enabled);
  CHECK(c->store.cursor_retain_bytes == 0);
}

TEST_CASE("bad stream configuration names the key, and the property, with its line") {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\n"
       "[stream.kafka.properties]\n\"no.such.thing\" = \"1\"\n",
       "sluice.toml:5:19: key 'stream.kafka.properties.no.such.thing': No such configuration property"},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\n"
       "[stream.kafka.properties]\nacks = 1\n",
       "sluice.toml:5:8: key 'stream.kafka.properties.acks': must stay all"},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\n"
       "[stream.kafka.properties]\n\"compression.codec\" = \"brotli\"\n",
       "key 'stream.kafka.properties.compression.codec': "},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\nbogus = 1\n",
       "sluice.toml:4:1: key 'stream.kafka.bogus': unknown key; allowed in [stream.kafka]: enabled"},
      {"[stream.kafka]\nenabled = true\n", "key 'stream.kafka.bootstrap_servers': required"},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\ntopic = \"t.{host}\"\n",
       "sluice.toml:4:9: key 'stream.kafka.topic': unknown placeholder {host}"},
      {"[stream.kafka]\nformat = \"avro\"\n",
       "key 'stream.kafka.format': 'avro' is not a format; allowed: json, protobuf, protobuf_batch"},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\nbacklog_disk = \"1KiB\"\n",
       "key 'stream.kafka.backlog_disk': must be between one and twelve store.wal_file_size"},
      {"[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:1\"\ncompression = \"gzip\"\n",
       "key 'stream.kafka.compression': 'gzip'; allowed: zstd, lz4, none"},
      {"[stream]\nkafka = 3\n", "key 'stream.kafka'"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    auto r = ParseConfig(c.text, "sluice.toml");
    REQUIRE_FALSE(r.ok());
    CHECK_MESSAGE(Contains(r.status().message(), c.expect), r.status().message());
  }
}

}  // namespace sluice::gateway
