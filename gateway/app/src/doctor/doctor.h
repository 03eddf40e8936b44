// `sluice doctor`: checks of the box against a configuration, each a small
// function returning one pass / warn / fail line, so that an operator learns
// what is wrong before data is at risk. Paths and hosts are parameters, so
// tests run the checks against temp dirs and closed ports.
#pragma once

#include <sys/timex.h>

#include <cstdint>
#include <ctime>
#include <string>
#include <vector>

#include "gateway/app/config.h"
#include "store/env.h"

namespace sluice::gateway::doctor {

enum class Level { kPass = 0, kWarn = 1, kFail = 2 };

struct CheckResult {
  Level level = Level::kPass;
  std::string name;     // "io_uring"
  std::string message;  // what was seen, and what to do about a problem
};

// Each check names itself; none throws, none needs root.
CheckResult CheckIoUring();
// `dir` or its nearest existing parent: probes never create the store's
// directory (doctor often runs as root; the service as its own user).
std::string ExistingAncestor(const std::string& dir);
// Writes one aligned 4 KiB block with O_DIRECT in `dir` (which must exist).
CheckResult CheckODirect(const std::string& dir);
// /dev/pmem*, /dev/dax* under `dev_dir`; with write_buffer = pmem, maps
// `pmem_path` through the store's Env and reports the granularity.
CheckResult CheckPersistentMemory(const std::string& dev_dir, const store::Options& store);
// Free space of the file system holding `dir` against `budget` (0: none).
CheckResult CheckDiskSpace(const std::string& dir, std::uint64_t budget);
// The file system holding `dir` (or its nearest existing parent), as the
// store sees it (Env::FileSystemSpace): mounted read-only or without free
// space fails; free space under `warning_pct` percent
// (store.free_space_warning; 0: off) warns. Either says what to do.
CheckResult CheckFileSystem(const std::string& dir, std::uint32_t warning_pct);
// The judgement of CheckFileSystem on a reading of `where`, for tests.
CheckResult FileSystemResult(const std::string& where, const store::Env::Space& space,
                             std::uint32_t warning_pct);
// `writes` x 4 KiB writes, each followed by fdatasync: p50 and p99.
CheckResult CheckSyncLatency(const std::string& dir, int writes = 20);
// `bytes` of sequential O_DIRECT writes (then one fdatasync): MiB/s.
CheckResult CheckWriteBandwidth(const std::string& dir, std::uint64_t bytes = 64ull << 20);
// TCP connect to host:port within `timeout_ms`.
CheckResult CheckTcp(const std::string& name, const std::string& host, int port, int timeout_ms);
// Every [[mqtt.broker]] uri: TCP reachability (authorisation is the
// gateway's first CONNECT; it is not repeated here).
std::vector<CheckResult> CheckBrokers(const MqttOptions& mqtt, int timeout_ms);
// Who may publish to the native endpoint: a warning while
// endpoint.allow_anonymous opens a non-loopback address to anyone, a
// failure for such an address with no authentication at all (the loader
// refuses it), else a pass saying how clients are authenticated.
CheckResult CheckEndpointAccess(const EndpointOptions& endpoint);
// sync.s3.endpoint reachable; with credentials, a Head of a probe key.
std::vector<CheckResult> CheckUpstream(const SyncConfig& sync, int timeout_ms);
// Year 2024 or later (no box runs Sluice earlier: a reset RTC) and before
// 2100 (object keys carry 4-digit years; later means a broken RTC).
CheckResult CheckClock(std::time_t now);
// Whether the kernel considers the clock synchronised (ntp_adjtime, read
// only): not when it answers TIME_ERROR or sets STA_UNSYNC. A warning, not
// a failure: the box works, but timestamps and partition windows follow a
// clock that drifts and may later be stepped (which the store counts).
CheckResult CheckClockSync();
// The judgement of CheckClockSync on ntp_adjtime's answer `state` (-1 with
// `error` = errno when the call failed) and `tx`, for tests.
CheckResult ClockSyncResult(int state, const struct timex& tx, int error);

// "host", port from "tcp://host:1883", "ssl://[::1]:8883", "http://h:7480",
// "https://h" (scheme default ports). False when unparsable.
bool SplitHostPort(const std::string& uri, std::string& host, int& port);

// Runs every check for `config`, prints one line each to stdout and returns
// the exit code: 0 all pass, 1 a warning, 2 a failure.
int RunDoctor(const Config& config);

std::string_view LevelName(Level level);

}  // namespace sluice::gateway::doctor
