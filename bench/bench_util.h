// What the MQTT benchmarks (ingest_bench, listener_bench) share: child
// processes (`sluice run`, paho_count_sub), their CPU time and peak RSS from
// /proc, Sluice's admin /metrics, and the 100-byte JSON payload the
// publishers (tools/mqtt_load) send. Benchmark code: a failure throws
// Failure, which unwinds so that children and temp folders go too.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "base/clock.h"
#include "mqtt_load/mqtt_load.h"

namespace sluice::bench {

constexpr std::int64_t kReadyNs = 30'000'000'000;  // a started process must be ready by then


struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};
[[noreturn]] void Die(const std::string& why);

// A child process; its stdout to a pipe (read_fd) or to a log file.
// Destroying it stops it.
struct Child {
  pid_t pid = -1;
  int read_fd = -1;
  std::string buffered;

  Child() = default;
  Child(Child&& o) noexcept;
  Child& operator=(Child&&) = delete;
  ~Child() { Stop(); }

  // The next line of its stdout, waiting at most until `deadline_ns`; empty on timeout or EOF.
  std::string ReadLine(std::int64_t deadline_ns);
  // SIGTERM, awaited through a pidfd; SIGKILL after 30 s. Idempotent.
  void Stop();
};

// Starts args[0] (a path) with args. `log` empty: stdout to a pipe
// (Child::ReadLine); else stdout and stderr to that file.
Child Spawn(const std::vector<std::string>& args, const std::string& log);

// utime + stime of `pid` (all its threads) in seconds; 0 if it is gone.
double CpuSeconds(pid_t pid);
// VmHWM of `pid` in MiB.
double PeakRssMiB(pid_t pid);
// A /proc/<pid>/status field in kB ("VmRSS", "RssAnon", ...) in MiB; 0 if absent.
double StatusMiB(pid_t pid, const std::string& field);

// Samples the resident memory of a `sluice run` every 50 ms while it
// lives, and the DRAM its open blocks hold (/metrics,
// sluice_store_open_blocks_memory_bytes) at the same moment: the issue's
// RSS target excludes open blocks, whose bound is configured.
class MemorySampler {
 public:
  MemorySampler(pid_t pid, int admin_port);
  ~MemorySampler();  // stops sampling
  void Stop();
  double peak_rss_mib() const;                // of the samples
  double peak_rss_less_open_blocks_mib() const;
  double open_blocks_at_peak_mib() const;     // at the sample of the line above

 private:
  struct State;
  std::unique_ptr<State> s_;
};
// Microseconds during which some task on this machine waited for a CPU
// ("some total" of /proc/pressure/cpu, the kernel's pressure stall
// information); -1 where the kernel does not provide it.
double CpuPressureUs();
// A child of this process whose /proc/<pid>/comm is `comm`; -1 if none.
pid_t FindChild(const std::string& comm);

// GET http://127.0.0.1:port/path; the body, or empty.
std::string HttpGet(int port, const std::string& path);
// The value of an unlabelled Prometheus sample; -1 when absent.
double Metric(const std::string& text, const std::string& name);

// `sluice run` (at `bin`) with `toml` written to <dir>/sluice.toml, logging
// to <dir>/sluice.log. Returns once `ready(its /metrics text)` holds; dies
// with `not_ready` and the log when it does not within kReadyNs or the
// process exits.
Child StartSluice(const std::string& bin, const std::filesystem::path& dir,
                  const std::string& toml, int admin_port,
                  const std::function<bool(const std::string&)>& ready,
                  const std::string& not_ready);

struct Stored {
  double messages = 0;  // sluice_mqtt_messages_total
  double records = 0;   // sluice_records_stored_total
  std::int64_t done_ns = 0;  // when the wait ended (the last change, when incomplete)
  bool complete = false;
  std::string metrics;  // the last /metrics text
};
// Polls Sluice's /metrics every 10 ms until at least `messages` are in and
// `records` durably stored, or the stored count has not moved for `idle_ns`.
Stored WaitStored(int admin_port, double messages, double records, std::int64_t idle_ns);

// JSON of exactly 100 bytes with kJsonFields numbers:
// {"ts":<13 digits>,"m0":<14 chars>,...,"m3":<14 chars>} on topic
// bench/dev-<d>/telemetry. Device d is published on connection
// d mod connections (like the simulator), devices in turn.
constexpr std::uint32_t kJsonFields = 4;
mqtt_load::MessageGenerator JsonGenerator(std::uint32_t devices, std::uint32_t connections);

// "a,b,c" -> {"a", "b", "c"}.
std::vector<std::string> Split(const std::string& s, char separator = ',');
// x with `decimals` decimals.
std::string Fixed(double x, int decimals);

}  // namespace sluice::bench
