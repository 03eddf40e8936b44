// The baseline of ingest_bench: a plain Eclipse Paho MQTT C++ async
// subscriber that only counts messages. Nothing is decoded or stored; the
// message callback bumps a counter.
//
//   paho_count_sub --uri tcp://127.0.0.1:1883 --topic 'bench/#' [--topic ...]
//                  --qos 1 --count 200000 [--receive-maximum 64] [--idle-ms 5000]
//
// Prints "ready" once subscribed, then "done <count> <first_ns> <last_ns>"
// (steady clock, CLOCK_MONOTONIC, of the first and last message) when
// `count` messages arrived or none came for `idle-ms`; then waits for
// SIGTERM or SIGINT so that the caller can read /proc/<pid> first.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <mqtt/async_client.h>

namespace {

std::int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int Usage() {
  std::fprintf(stderr,
               "usage: paho_count_sub --uri URI --topic FILTER [--topic ...] --qos Q --count N "
               "[--receive-maximum N] [--idle-ms MS] [--client-id ID]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string uri = "tcp://127.0.0.1:1883", client_id = "paho-count-sub";
  std::vector<std::string> topics;
  int qos = 1, receive_maximum = 64;
  std::uint64_t count = 0;
  long idle_ms = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--uri") uri = v;
    else if (k == "--topic") topics.push_back(v);
    else if (k == "--qos") qos = std::atoi(v.c_str());
    else if (k == "--count") count = std::strtoull(v.c_str(), nullptr, 10);
    else if (k == "--receive-maximum") receive_maximum = std::atoi(v.c_str());
    else if (k == "--idle-ms") idle_ms = std::atol(v.c_str());
    else if (k == "--client-id") client_id = v;
    else return Usage();
  }
  if (topics.empty() || count == 0 || argc % 2 == 0) return Usage();

  // Stop signals go to one waiting thread only (blocked before Paho starts its own).
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::int64_t> first_ns{0}, last_ns{0};
  bool stopping = false;
  std::thread signals([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    std::lock_guard lock(mu);
    stopping = true;
    cv.notify_all();
  });

  try {
    mqtt::async_client client(uri, client_id, mqtt::create_options(MQTTVERSION_5));
    client.set_message_callback([&](mqtt::const_message_ptr) {
      const std::int64_t now = NowNs();
      if (received.fetch_add(1, std::memory_order_relaxed) == 0) first_ns.store(now);
      last_ns.store(now, std::memory_order_relaxed);
      if (received.load(std::memory_order_relaxed) == count) {
        std::lock_guard lock(mu);
        cv.notify_all();
      }
    });
    mqtt::properties props;
    props.add(mqtt::property(mqtt::property::RECEIVE_MAXIMUM, receive_maximum));
    auto opts = mqtt::connect_options_builder()
                    .mqtt_version(MQTTVERSION_5)
                    .clean_start(true)
                    .properties(props)
                    .finalize();
    client.connect(opts)->wait();
    for (const auto& t : topics) client.subscribe(t, qos)->wait();
    std::printf("ready\n");
    std::fflush(stdout);

    std::unique_lock lock(mu);
    std::int64_t idle_from = NowNs();
    for (;;) {
      if (stopping || received.load() >= count) break;
      const std::uint64_t before = received.load();
      cv.wait_for(lock, std::chrono::milliseconds(idle_ms));
      const std::int64_t now = NowNs();
      if (received.load() != before) {
        idle_from = now;
      } else if (now - idle_from >= idle_ms * 1'000'000) {
        break;  // nothing more is coming (QoS 0 messages dropped by the broker)
      }
    }
    std::printf("done %llu %lld %lld\n", static_cast<unsigned long long>(received.load()),
                static_cast<long long>(first_ns.load()), static_cast<long long>(last_ns.load()));
    std::fflush(stdout);
    cv.wait(lock, [&] { return stopping; });
    lock.unlock();
    client.disconnect()->wait_for(std::chrono::seconds(2));
  } catch (const mqtt::exception& e) {
    std::fprintf(stderr, "paho_count_sub: %s\n", e.what());
    kill(getpid(), SIGTERM);  // releases the signal thread
    signals.join();
    return 1;
  }
  signals.join();
  return 0;
}
