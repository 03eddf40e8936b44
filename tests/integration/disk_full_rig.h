// The moving parts of disk_full_kill_test: QoS 1 publishers of numbered
// 4 KiB messages, each keeping the model of what was acknowledged to it, and
// one `sluice run` at a time, started with its kill points armed or not,
// killed, stopped, and watched for exits of its own.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "gateway/codec/mqtt_codec.h"

namespace sluice::testing {

// Message `seq` of publisher `index`: 24 bytes "p<index>-<seq, 20 digits>-"
// then filler up to kMessageBytes. 24 bytes are 32 base64 characters, so
// the id is also readable at the head of `sluice export`'s base64 value.
inline constexpr std::size_t kMessageBytes = 4096;
inline constexpr std::size_t kMessageIdBytes = 24;
std::string MessagePayload(int index, std::int64_t seq);
// (index, seq) from a payload or its first kMessageIdBytes; nullopt when
// it is not one of ours.
std::optional<std::pair<int, std::int64_t>> ParseMessageId(std::string_view payload);
// The first `bytes` bytes encoded by standard, padded base64 `text`.
std::string Base64Prefix(std::string_view text, std::size_t bytes);

struct PublisherOptions {
  int port = 0;
  int index = 0;  // 0..9: the id and the topic full/p<index>
  gateway::mqtt::ProtocolVersion version = gateway::mqtt::ProtocolVersion::kV5;
  std::size_t window = 128;  // QoS 1 messages unacknowledged at most
  double rate = 0;           // new messages per second; 0: as fast as acknowledged
};

// One QoS 1 publisher on its own thread: new messages while `credit` (shared
// by all publishers, one per new message) lasts, a window of unacknowledged
// ones, and after each reconnect a resend (DUP) of every one not
// acknowledged. A negative acknowledgement (the store refused) sends the
// message again under a new packet id: every message is eventually acked.
class Publisher {
 public:
  Publisher(PublisherOptions options, std::atomic<std::int64_t>& credit)
      : options_(options), credit_(credit) {}
  ~Publisher();
  void Start();
  // Stop taking new messages; return once every sent one is acknowledged.
  void StopNew() { stop_new_ = true; }
  // Stop now, acknowledged or not; joins the thread.
  void GiveUp();

  // Any time.
  std::uint64_t acked_count() const { return acked_count_.load(); }
  std::int64_t sent() const { return sent_.load(); }
  std::size_t unacked() const { return unacked_count_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  int connects() const { return connects_.load(); }
  // After GiveUp() only: the model, every acknowledged seq.
  const std::vector<std::int64_t>& acked() const { return acked_; }

 private:
  void Run();
  std::uint16_t NextPid();
  bool TakeNew();

  const PublisherOptions options_;
  std::atomic<std::int64_t>& credit_;
  std::atomic<bool> stop_new_{false}, give_up_{false};
  std::atomic<std::uint64_t> acked_count_{0}, refused_{0};
  std::atomic<std::int64_t> sent_{0};
  std::atomic<std::size_t> unacked_count_{0};
  std::atomic<int> connects_{0};
  std::chrono::steady_clock::time_point started_;
  std::uint16_t pid_ = 0;
  std::map<std::uint16_t, std::int64_t> unacked_;  // packet id -> seq
  std::vector<std::int64_t> acked_;
  std::thread thread_;
};

enum class KillPoints : std::uint8_t { kArmed, kDisarmed };

// One `sluice run` at a time. Kill points (base/kill_point.h) are armed
// with `kill_spec` ("name=odds,..."), except that a point not hit yet in
// this test is armed at 1000 (certain): every point is forced at least once
// as soon as the code reaches it.
class SluiceProcess {
 public:
  SluiceProcess(std::string config_file, std::string log, std::string kill_log,
                std::string kill_spec);
  ~SluiceProcess();  // kills a sluice still running
  SluiceProcess(const SluiceProcess&) = delete;
  SluiceProcess& operator=(const SluiceProcess&) = delete;

  void Start(KillPoints points);
  bool running() const { return pid_ > 0; }
  std::chrono::milliseconds uptime() const;
  // True once it has exited by itself (reaped; see exit_was_kill_point()).
  bool Exited();
  // SIGKILL and reap; nothing when it has exited already.
  void Kill();
  // SIGTERM; the wait status (SIGKILL after `limit`).
  int Terminate(std::chrono::seconds limit);

  // About the last exit by itself.
  bool exit_was_kill_point() const { return exit_was_kill_point_; }
  std::string DescribeExit() const;
  // The last `lines` lines this run wrote to the log.
  std::string LogOfThisRun(std::size_t lines = 25) const;

  // Kill point name -> times it fired, from the kill log.
  std::map<std::string, int> KillPointHits() const;
  std::string KillPointEnv() const;

  int starts() const { return starts_; }
  int kills() const { return kills_; }            // SIGKILL by the test
  int point_kills() const { return point_kills_; }  // SIGKILL by a kill point
  int own_exits() const { return own_exits_; }    // any other exit while not asked

 private:
  const std::string config_file_, log_, kill_log_, kill_spec_;
  pid_t pid_ = -1;
  std::chrono::steady_clock::time_point started_;
  std::uintmax_t log_offset_ = 0;
  int status_ = 0;
  bool exit_was_kill_point_ = false;
  int kill_log_lines_at_start_ = 0;
  int starts_ = 0, kills_ = 0, point_kills_ = 0, own_exits_ = 0;
};

}  // namespace sluice::testing
