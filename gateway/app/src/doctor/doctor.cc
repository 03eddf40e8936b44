// RunDoctor: every check in the order an operator fixes things (the box,
// then the disk, then the network), one line each, and the exit code.
#include <cstdio>
#include <ctime>
#include <vector>

#include "doctor/doctor.h"

namespace sluice::gateway::doctor {

int RunDoctor(const Config& config) {
  // Short enough that a dead broker does not stall the report.
  constexpr int kConnectTimeoutMs = 3000;
  const std::string& dir = config.store.dir;
  // Before the first start the store's directory may not exist yet: probe
  // the file system it will live on.
  const std::string probe = ExistingAncestor(dir);
  std::vector<CheckResult> results;
  results.push_back({Level::kPass, "board",
                     config.board.profile + (config.board.profile_path.empty()
                                                 ? " (built-in defaults)"
                                                 : " from " + config.board.profile_path) +
                         ": " + config.board.reason});
  results.push_back(CheckClock(std::time(nullptr)));
  results.push_back(CheckClockSync());
  results.push_back(CheckIoUring());
  results.push_back(CheckODirect(probe));
  const bool o_direct = results.back().level == Level::kPass;
  results.push_back(CheckPersistentMemory("/dev", config.store));
  results.push_back(CheckDiskSpace(dir, config.store.disk_budget));
  results.push_back(CheckFileSystem(dir, config.store.free_space_warning));
  // Probes write to the store's file system only when it accepts O_DIRECT;
  // otherwise their numbers would describe the page cache.
  if (o_direct) {
    results.push_back(CheckSyncLatency(probe));
    results.push_back(CheckWriteBandwidth(probe));
  }
  results.push_back(CheckEndpointAccess(config.endpoint));
  for (auto& r : CheckBrokers(config.mqtt, kConnectTimeoutMs)) results.push_back(std::move(r));
  for (auto& r : CheckUpstream(config.sync, kConnectTimeoutMs)) results.push_back(std::move(r));

  Level worst = Level::kPass;
  for (const auto& r : results) {
    std::printf("%-4s  %-13s %s\n", std::string(LevelName(r.level)).c_str(), r.name.c_str(),
                r.message.c_str());
    if (r.level > worst) worst = r.level;
  }
  std::fflush(stdout);
  return static_cast<int>(worst);
}

}  // namespace sluice::gateway::doctor
