// Helpers for the MQTT integration tests: config text, external publishers,
// bounded waits, reading a series back from a closed store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <sys/types.h>

#include "gateway/app/config.h"
#include "store/store.h"

namespace sluice::testing {

// A configuration: the store in `store_dir`, one broker at `uri`, and
// `extra` TOML appended (rules, [pipeline] ...).
std::string GatewayToml(const std::string& store_dir, const std::string& uri,
                        const std::string& extra);
gateway::Config ParseOrDie(const std::string& toml);

// Polls `cond` every millisecond until it holds or `limit` passes. For
// state with no notification to wait on (another process, the broker).
bool Eventually(const std::function<bool()>& cond,
                std::chrono::milliseconds limit = std::chrono::seconds(20));

// Runs a shell command; its exit code.
int Shell(const std::string& command);

// mosquitto_pub -h 127.0.0.1 -p port <args>.
int MosquittoPub(int port, const std::string& args);

// Python paho-mqtt publishing `count` numbered QoS 1 messages ("0", "1",
// ...) on `topic`; writes the acknowledged numbers to `acked_file`.
std::string PythonPublisherCommand(int port, const std::string& topic, int count, double rate,
                                   const std::string& acked_file);

std::vector<std::int64_t> ReadNumbers(const std::string& file);

// Every float64 value of `series` in `store`, in time order; empty if the
// series is unknown.
std::vector<double> StoredDoubles(store::Store& store, const std::string& series);

// Starts `args` (argv[0] a path) with stdout and stderr appended to `log`.
pid_t SpawnLogged(const std::vector<std::string>& args, const std::string& log);

// Starts `args` `kills` times, each time SIGKILLing it after a random
// moment in [min_ms, max_ms] (the point of a kill test, not a wait for an
// event), and checks that each run died by the signal. `before_each(k)`
// runs before the k-th start.
void KillAtRandomMoments(const std::vector<std::string>& args, const std::string& log, int kills,
                         int min_ms, int max_ms,
                         const std::function<void(int)>& before_each = {});

class Qos1Publisher;

// True once no publisher of `pubs` has a message unacknowledged, within
// `limit`.
bool AllAcknowledged(const std::vector<std::unique_ptr<Qos1Publisher>>& pubs,
                     std::chrono::milliseconds limit);

// An integer from the environment, or `fallback` when unset.
int EnvInt(const char* name, int fallback);

// SpawnLogged with `extra_env` ("NAME=value" entries) added to this
// process's environment (an entry replaces a variable of the same name).
pid_t SpawnLoggedWithEnv(const std::vector<std::string>& args, const std::string& log,
                         const std::vector<std::string>& extra_env);

// One HTTP/1.0 GET to 127.0.0.1:port (2 s timeouts). status 0 when nothing
// answered (refused, timed out, not HTTP).
struct HttpReply {
  int status = 0;
  std::string body;
};
HttpReply AdminGet(int port, const std::string& path);

}  // namespace sluice::testing
