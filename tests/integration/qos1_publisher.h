// A QoS 1 publisher for the kill -9 tests (raw codec client, MQTT 5): numbers
// 0, 1, 2 ... as raw payloads on one topic, a window of unacknowledged
// messages, reconnecting and resending what was not acknowledged (with DUP)
// after every reconnect, as an MQTT client must. It records which numbers
// were acknowledged: the model the tests check the store (or Kafka) against.
//
// Thread-safety: Run on one thread; the accessors after it returned, except
// unacked() and acked_count(), which may be polled while it runs.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace sluice::testing {

class Qos1Publisher {
 public:
  // `window`: unacknowledged messages at most. `client_prefix` + index is the
  // MQTT client id; topic is `topic_prefix` + index. `max_rate`: new
  // messages per second at most, over the whole run (0: as fast as the
  // window allows).
  Qos1Publisher(int port, int index, std::string topic_prefix, std::string client_prefix,
                std::size_t window = 128, double max_rate = 0);

  // Publishes until `stop_new` and everything sent is acknowledged, or
  // until `give_up`.
  void Run(const std::atomic<bool>& stop_new, const std::atomic<bool>& give_up);

  const std::string& topic() const { return topic_; }
  const std::vector<std::int64_t>& acked() const { return acked_; }
  std::int64_t sent() const { return next_seq_; }
  int connects() const { return connects_; }
  std::size_t unacked() const { return unacked_count_.load(); }
  std::size_t acked_count() const { return acked_count_.load(); }

 private:
  std::uint16_t NextPid();

  const int port_;
  const std::string topic_, client_id_;
  const std::size_t window_;
  const double max_rate_;
  std::int64_t next_seq_ = 0;
  std::uint16_t pid_ = 0;
  int connects_ = 0;
  std::map<std::uint16_t, std::int64_t> unacked_;
  std::vector<std::int64_t> acked_;
  std::atomic<std::size_t> unacked_count_{0}, acked_count_{0};
};

}  // namespace sluice::testing
