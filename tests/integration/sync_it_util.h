// What the upstream-sync integration tests share (sync_backlog_test,
// round_trip_test, sync_wan_test): a bucket of their own on the shared RGW,
// an independent view of it through boto3, a QoS 1 publisher that waits for
// each PUBACK (sent by the endpoint only once the records are durable), and
// bounded polling.
#pragma once

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gateway/codec/mqtt_codec.h"
#include "raw_mqtt_client.h"
#include "s3_env.h"
#include "shell.h"

namespace sluice::testing::sync_it {

using namespace std::chrono_literals;

// Runs a shell command; its stdout, or fails the test with the output.
inline std::string Run(const std::string& cmd) { return ShellOutput(cmd); }

// Polls `done` every 2 ms until it holds or `limit` passes.
inline bool Await(const std::function<bool()>& done, std::chrono::milliseconds limit = 30s) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

inline const std::string kCheck =
    "/usr/bin/python3 " SLUICE_SOURCE_DIR "/tests/integration/s3_sink_check.py ";

// boto3, reading SLUICE_TEST_S3_*:
//   list BUCKET          one "<key> <size>" line per object, then "pending <n>"
//                        (multipart uploads started, never completed or aborted)
//   download BUCKET DIR  every data object to DIR/<key> (not the gateways'
//                        _watermarks/ objects); prints the count
constexpr const char* kBucketTool = R"(import os, sys, boto3
from botocore.config import Config
e = {v: os.environ["SLUICE_TEST_S3_" + v] for v in ("ENDPOINT", "ACCESS_KEY", "SECRET_KEY", "REGION")}
s3 = boto3.client("s3", endpoint_url=e["ENDPOINT"], aws_access_key_id=e["ACCESS_KEY"],
                  aws_secret_access_key=e["SECRET_KEY"], region_name=e["REGION"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
def objects(b):
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=b):
        for o in page.get("Contents", []):
            yield o
cmd, b = sys.argv[1], sys.argv[2]
if cmd == "list":
    for o in objects(b):
        print(o["Key"], o["Size"])
    print("pending", len(s3.list_multipart_uploads(Bucket=b).get("Uploads", [])))
elif cmd == "download":
    # Many small objects: 16 at a time (one GET from Ceph RGW can take tens of ms).
    from concurrent.futures import ThreadPoolExecutor
    keys = [o["Key"] for o in objects(b)
            if not (o["Key"].startswith("_watermarks/") or "/_watermarks/" in o["Key"])]
    def fetch(key):
        path = os.path.join(sys.argv[3], key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        s3.download_file(b, key, path)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(fetch, keys))
    print(len(keys))
)";

// A bucket for one test, removed with its contents afterwards.
class Bucket {
 public:
  explicit Bucket(const std::string& prefix, const std::filesystem::path& scratch) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s-%08x", prefix.c_str(), std::random_device{}());
    name_ = buf;
    tool_ = (scratch / "bucket_tool.py").string();
    std::ofstream(tool_) << kBucketTool;
    Run(kCheck + "mkbucket " + name_);
  }
  ~Bucket() { (void)std::system((kCheck + "rmbucket " + name_ + " >/dev/null 2>&1").c_str()); }
  Bucket(const Bucket&) = delete;
  Bucket& operator=(const Bucket&) = delete;

  const std::string& name() const { return name_; }

  // Data objects, and apart from them the completeness watermarks (keys with
  // a _watermarks/ segment, written by the engine every sync.watermark_interval).
  struct Listing {
    std::map<std::string, std::uint64_t> sizes;  // data key -> bytes
    std::size_t lines = 0;                       // data keys listed (a duplicate would show)
    std::map<std::string, std::uint64_t> watermarks;
    int pending_uploads = -1;
  };
  Listing List() const {
    Listing l;
    std::istringstream in(Run("/usr/bin/python3 " + tool_ + " list " + name_));
    for (std::string key, size; in >> key >> size;) {
      if (key == "pending") {
        l.pending_uploads = std::stoi(size);
      } else if (key.starts_with("_watermarks/") || key.find("/_watermarks/") != std::string::npos) {
        l.watermarks[key] = std::stoull(size);
      } else {
        l.sizes[key] = std::stoull(size);
        ++l.lines;
      }
    }
    return l;
  }
  // Every object into `dir`; the count.
  std::size_t Download(const std::filesystem::path& dir) const {
    return std::stoul(Run("/usr/bin/python3 " + tool_ + " download " + name_ + " " + dir.string()));
  }

 private:
  std::string name_, tool_;
};

// The S3 keys in a credentials file of mode 0600 (the sink refuses others).
inline std::string WriteCredentials(const std::filesystem::path& dir, const S3Env& env) {
  const std::string path = (dir / "s3-credentials").string();
  std::ofstream(path) << "[default]\naws_access_key_id = " << env.access_key
                      << "\naws_secret_access_key = " << env.secret_key << "\n";
  ::chmod(path.c_str(), 0600);
  return path;
}

// MQTT 5 QoS 1 over the native endpoint. Publish() returns once the PUBACK
// came back with success: the records are durable in the store then.
class Publisher {
 public:
  Publisher(int port, std::string_view client_id) : id_(client_id) {
    auto c = RawMqttClient::Open(port);
    REQUIRE_MESSAGE(c.ok(), c.status().ToString());
    client_ = std::move(*c);
    auto ack = client_.Handshake(MakeConnect(id_));
    REQUIRE_MESSAGE(ack.ok(), ack.status().ToString());
    REQUIRE(ack->reason == gateway::mqtt::ReasonCode::kSuccess);
  }

  void Publish(const std::string& topic, const std::string& payload) {
    namespace mqtt = gateway::mqtt;
    next_id_ = static_cast<std::uint16_t>(next_id_ % 65535 + 1);
    REQUIRE(client_.Publish(mqtt::ProtocolVersion::kV5, topic, payload, 1, next_id_).ok());
    auto p = client_.Read(20s);
    REQUIRE_MESSAGE(p.ok(), p.status().ToString());
    REQUIRE(p->header.type == mqtt::PacketType::kPuback);
    mqtt::AckPacket ack;
    REQUIRE(mqtt::DecodeAck(mqtt::ProtocolVersion::kV5, mqtt::PacketType::kPuback,
                            p->header.flags, p->bytes(), ack)
                .ok());
    REQUIRE(ack.packet_id == next_id_);
    REQUIRE_MESSAGE(ack.reason == mqtt::ReasonCode::kSuccess,
                    "PUBACK reason " << static_cast<int>(ack.reason) << " for " << topic);
    ++acked_;
  }
  std::uint64_t acked() const { return acked_; }

 private:
  std::string id_;  // MakeConnect views it
  RawMqttClient client_;
  std::uint16_t next_id_ = 0;
  std::uint64_t acked_ = 0;
};

}  // namespace sluice::testing::sync_it
