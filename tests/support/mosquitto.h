// A private Mosquitto broker for one test: its own config, loopback only, a
// free port, its own persistence folder. Start() returns once the broker
// accepts TCP connections; the destructor stops it.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <memory>
#include <string>

#include "base/status.h"

namespace sluice::testing {

struct MosquittoOptions {
  bool persistence = false;     // keep sessions and retained messages across Restart()
  // Written right after the helper's `listener` line, so that it configures
  // that listener: cafile, certfile, keyfile and require_certificate make it
  // a TLS listener (then connect with ssl://, see uri()).
  std::string listener_config;
  // false: every client must authenticate (give a password_file in
  // extra_config, or require_certificate with use_identity_as_username).
  bool allow_anonymous = true;
  std::string extra_config;     // appended verbatim to mosquitto.conf
};

class MosquittoBroker {
 public:
  // `dir` holds the config, log and persistence files; it must outlive the broker.
  static Result<std::unique_ptr<MosquittoBroker>> Start(const std::filesystem::path& dir,
                                                        MosquittoOptions options = {});
  ~MosquittoBroker();
  MosquittoBroker(const MosquittoBroker&) = delete;
  MosquittoBroker& operator=(const MosquittoBroker&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1"; }
  // "tcp://127.0.0.1:<port>"; `scheme` "ssl" for a TLS listener.
  std::string uri(const std::string& scheme = "tcp") const {
    return scheme + "://127.0.0.1:" + std::to_string(port_);
  }
  const std::filesystem::path& log_file() const { return log_; }

  // Stops the broker (SIGTERM, then SIGKILL after 5 s). Idempotent.
  Status Stop();
  // Stops and starts again on the same port with the same files.
  Status Restart();

 private:
  MosquittoBroker(std::filesystem::path dir, MosquittoOptions options)
      : dir_(std::move(dir)), options_(std::move(options)) {}
  Status Launch();

  std::filesystem::path dir_;
  std::filesystem::path log_;
  MosquittoOptions options_;
  int port_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
Result<int> PickFreePort();

// Waits until something accepts TCP connections on 127.0.0.1:port, or
// `pid` (when > 0) exits, or `timeout_ms` passes.
Status WaitForTcp(int port, pid_t pid, int timeout_ms);

}  // namespace sluice::testing
