#include "base/kill_point.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "base/mutex.h"

namespace sluice {
namespace {

struct Armed {
  struct Point {
    std::string name;
    unsigned permille = 0;
  };
  std::vector<Point> points;
  std::string log;
  Mutex mu;  // the generator
  std::mt19937_64 rng{std::random_device{}()};
};

// Parsed once; nullptr when disarmed. Leaked on purpose: it lives until the
// process dies, which in the armed case is the point.
Armed* Load() {
  const char* spec = std::getenv("SLUICE_KILL_POINTS");
  if (spec == nullptr || *spec == '\0') return nullptr;
  auto* armed = new Armed;
  std::string s(spec);
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    const std::string item = s.substr(pos, end - pos);
    const std::size_t eq = item.find('=');
    if (!item.empty()) {
      Armed::Point p;
      p.name = item.substr(0, eq);
      p.permille = eq == std::string::npos
                       ? 1000
                       : static_cast<unsigned>(std::strtoul(item.c_str() + eq + 1, nullptr, 10));
      armed->points.push_back(std::move(p));
    }
    pos = end + 1;
  }
  if (const char* log = std::getenv("SLUICE_KILL_POINT_LOG")) armed->log = log;
  return armed;
}

}  // namespace

void KillPoint(const char* name) {
  static Armed* const armed = Load();
  if (armed == nullptr) return;
  unsigned odds = 0;
  for (const auto& p : armed->points) {
    if (p.name == "*" || p.name == name) odds = p.permille;
  }
  if (odds == 0) return;
  {
    MutexLock lock(armed->mu);
    if (armed->rng() % 1000 >= odds) return;
  }
  if (!armed->log.empty()) {
    const int fd = ::open(armed->log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      std::string line = std::string(name) + "\n";
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  ::kill(::getpid(), SIGKILL);
}

}  // namespace sluice
