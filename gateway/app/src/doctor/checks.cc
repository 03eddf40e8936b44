// Checks of the box itself: io_uring, O_DIRECT, persistent memory, disk
// space and the file system, clock and its synchronisation. Each returns
// one line and never throws.
#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/timex.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "doctor/doctor.h"
#include "store/env.h"

namespace sluice::gateway::doctor {
namespace {

namespace fs = std::filesystem;

CheckResult Pass(std::string name, std::string m) { return {Level::kPass, std::move(name), std::move(m)}; }
CheckResult Warn(std::string name, std::string m) { return {Level::kWarn, std::move(name), std::move(m)}; }
CheckResult Fail(std::string name, std::string m) { return {Level::kFail, std::move(name), std::move(m)}; }

std::string Gib(std::uint64_t bytes) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f GiB", static_cast<double>(bytes) / (1ull << 30));
  return b;
}

}  // namespace

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kPass: return "pass";
    case Level::kWarn: return "warn";
    case Level::kFail: return "fail";
  }
  return "fail";
}

CheckResult CheckIoUring() {
  // The store's own probe, so that doctor and `sluice run` agree.
  std::string why;
  auto env = store::NewPosixEnv(store::IoEngine::kIoUring, &why);
  if (env.ok()) return Pass("io_uring", why.empty() ? "available" : why);
  // pwrite works everywhere; io_uring only saves CPU and latency.
  return Warn("io_uring", "unavailable: " + env.status().message() +
                              "; the store falls back to pwrite (store.io_engine = \"auto\")");
}

std::string ExistingAncestor(const std::string& dir) {
  fs::path p(dir);
  std::error_code ec;
  while (!p.empty() && !fs::exists(p, ec) && p != p.root_path()) p = p.parent_path();
  return p.empty() ? "/" : p.string();
}

CheckResult CheckODirect(const std::string& dir) {
  const std::string path = (fs::path(dir) / ".sluice-doctor-odirect").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) {
    const int err = errno;
    // tmpfs and some FUSE/network file systems refuse O_DIRECT (EINVAL).
    return Fail("o_direct", "open(O_DIRECT) in " + dir + ": " + std::strerror(err) +
                                "; put store.dir on a local ext4/xfs file system");
  }
  store::AlignedBuffer buf = store::AllocateAligned(store::kDirectAlignment);
  std::memset(buf.get(), 0x5a, store::kDirectAlignment);
  const ssize_t n = ::pwrite(fd, buf.get(), store::kDirectAlignment, 0);
  const int err = errno;
  ::close(fd);
  ::unlink(path.c_str());
  if (n != static_cast<ssize_t>(store::kDirectAlignment)) {
    return Fail("o_direct", "4 KiB aligned O_DIRECT write in " + dir + " failed: " +
                                (n < 0 ? std::strerror(err) : "short write"));
  }
  return Pass("o_direct", "4 KiB aligned write with O_DIRECT works in " + dir);
}

CheckResult CheckPersistentMemory(const std::string& dev_dir, const store::Options& store) {
  std::string devices;
  std::error_code ec;
  for (fs::directory_iterator it(dev_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.starts_with("pmem") || n.starts_with("dax")) devices += (devices.empty() ? "" : ", ") + n;
  }
  if (store.write_buffer != store::WriteBufferMode::kPmem) {
    // Absent pmem is normal: the WAL is the default write buffer.
    if (devices.empty()) return Pass("pmem", "none present; write_buffer = wal does not need it");
    return Pass("pmem", "present (" + devices + "); write_buffer = \"pmem\" could use it");
  }
  const std::string path = store.pmem_path.empty() ? store.dir + "/wal.pmem" : store.pmem_path;
  auto env = store::NewPosixEnv(store::IoEngine::kPwrite);
  if (!env.ok()) return Fail("pmem", env.status().message());
  // Map the existing ring at its size (read only in effect: nothing is
  // written); else a small probe file beside it, so that doctor (often run
  // as root) never creates the store's file with the wrong owner.
  std::string probe = path;
  std::uint64_t size = fs::file_size(path, ec);
  if (ec) {
    probe = (fs::path(ExistingAncestor(fs::path(path).parent_path().string())) /
             ".sluice-doctor-pmem").string();
    size = 4ull << 20;
  }
  auto region = (*env)->MapPersistent(probe, size);
  if (probe != path) fs::remove(probe, ec);
  if (!region.ok()) {
    return Fail("pmem", "write_buffer = pmem but " + path + " cannot be mapped: " +
                            region.status().message() + "; use write_buffer = \"wal\"");
  }
  switch ((*region)->granularity()) {
    case store::PersistGranularity::kByte:
      return Pass("pmem", path + ": byte granularity (eADR)");
    case store::PersistGranularity::kCacheLine:
      return Pass("pmem", path + ": cache-line granularity (flush + drain)");
    case store::PersistGranularity::kPage:
      break;
  }
  // The store refuses page granularity at open; say so before it does.
  return Fail("pmem", path + " is not on persistent memory (page granularity, msync); "
                      "mount a DAX file system there or use write_buffer = \"wal\"");
}

CheckResult CheckDiskSpace(const std::string& dir, std::uint64_t budget) {
  // statvfs needs an existing path: the nearest existing parent.
  const fs::path p = ExistingAncestor(dir);
  std::error_code ec;
  struct statvfs st {};
  if (::statvfs(p.c_str(), &st) != 0) {
    return Fail("disk", "statvfs(" + p.string() + "): " + std::strerror(errno));
  }
  const std::uint64_t free = static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  // Space the store already holds counts towards its budget.
  std::uint64_t used = 0;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_regular_file(ec)) used += it->file_size(ec);
  }
  const std::string seen = Gib(free) + " free on " + p.string();
  if (budget == 0) {
    return Warn("disk", seen + "; store.disk_budget = 0: the store fills the file system, "
                               "set a budget so that the watermarks can act");
  }
  if (budget > free + used) {
    return Fail("disk", seen + ", store uses " + Gib(used) + ": less than store.disk_budget " +
                            Gib(budget) + "; lower it or free space");
  }
  return Pass("disk", seen + ", store uses " + Gib(used) + ", budget " + Gib(budget) + " fits");
}

CheckResult FileSystemResult(const std::string& where, const store::Env::Space& space,
                             std::uint32_t warning_pct) {
  constexpr const char* kWhatToDo =
      "free space or enlarge the file system; sealed partitions upload and are reclaimed once "
      "a sink is reachable; see docs/config.md (store.free_space_warning)";
  if (space.read_only) {
    return Fail("filesystem", where + " is mounted read-only: the store cannot write there; "
                              "remount it read-write (a file system remounted read-only after "
                              "I/O errors needs fsck and a look at the kernel log first)");
  }
  if (space.total_bytes == 0) return Warn("filesystem", where + ": size unknown (statvfs)");
  const double pct =
      100.0 * static_cast<double>(space.free_bytes) / static_cast<double>(space.total_bytes);
  char seen[160];
  std::snprintf(seen, sizeof seen, "%.1f%% free on %s (%s of %s)", pct, where.c_str(),
                Gib(space.free_bytes).c_str(), Gib(space.total_bytes).c_str());
  if (space.free_bytes == 0) {
    return Fail("filesystem", std::string(seen) + ": appends are refused; " + kWhatToDo);
  }
  if (warning_pct > 0 && pct < warning_pct) {
    return Warn("filesystem", std::string(seen) + ", below store.free_space_warning (" +
                                  std::to_string(warning_pct) + "%); " + kWhatToDo);
  }
  return Pass("filesystem", std::string(seen) + ", writable");
}

CheckResult CheckFileSystem(const std::string& dir, std::uint32_t warning_pct) {
  const std::string where = ExistingAncestor(dir);
  // The store's own reading, so that doctor and the running store agree.
  auto env = store::NewPosixEnv(store::IoEngine::kPwrite);
  if (!env.ok()) return Fail("filesystem", env.status().message());
  auto space = (*env)->FileSystemSpace(where);
  if (!space.ok()) return Fail("filesystem", space.status().message());
  return FileSystemResult(where, *space, warning_pct);
}

CheckResult ClockSyncResult(int state, const struct timex& tx, int error) {
  constexpr const char* kWhatToDo =
      "enable time synchronisation (systemd-timesyncd: timedatectl set-ntp true; or chrony), "
      "or give the box a GPS or battery-backed RTC time source";
  if (state == -1) {
    return Warn("clock-sync", std::string("cannot read the kernel's clock state (ntp_adjtime): ") +
                                  std::strerror(error) + "; make sure the clock is synchronised: " +
                                  kWhatToDo);
  }
  if (state == TIME_ERROR || (tx.status & STA_UNSYNC) != 0) {
    return Warn("clock-sync", std::string("not synchronised (") +
                                  (state == TIME_ERROR ? "TIME_ERROR" : "STA_UNSYNC") +
                                  "): timestamps and partition windows follow a drifting clock "
                                  "that may later be stepped; " + kWhatToDo);
  }
  return Pass("clock-sync", "synchronised (estimated error " + std::to_string(tx.esterror) +
                                " us, maximum " + std::to_string(tx.maxerror) + " us)");
}

CheckResult CheckClockSync() {
  struct timex tx {};
  tx.modes = 0;  // read only: needs no privilege
  const int state = ::ntp_adjtime(&tx);
  return ClockSyncResult(state, tx, state == -1 ? errno : 0);
}

CheckResult CheckClock(std::time_t now) {
  std::tm tm{};
  gmtime_r(&now, &tm);
  const int year = tm.tm_year + 1900;
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  if (year < 2024) {
    return Fail("clock", std::string(text) + " is before 2024: the RTC was reset; partitions "
                                             "are time-based, fix NTP (timedatectl) first");
  }
  if (year >= 2100) {
    return Fail("clock", std::string(text) + " is implausibly far in the future; fix the RTC/NTP");
  }
  return Pass("clock", text);
}

CheckResult CheckEndpointAccess(const EndpointOptions& e) {
  if (!e.enabled) return Pass("endpoint", "off");
  const std::string where = e.address + ":" + std::to_string(e.port);
  std::string how;
  if (!e.password_file.empty()) how = "a user name and password from " + e.password_file;
  if (e.tls() && e.require_client_cert && !e.tls_ca_file.empty()) {
    how += (how.empty() ? "" : " and ") + std::string("a client certificate signed by a CA in ") +
           e.tls_ca_file;
  }
  if (!how.empty()) return Pass("endpoint", "on " + where + ": clients need " + how);
  if (e.loopback()) {
    return Pass("endpoint",
                "on " + where + ": loopback only, clients on this box connect without credentials");
  }
  const std::string fix =
      "set endpoint.password_file (mosquitto_passwd) or client certificates "
      "(endpoint.tls_ca_file with endpoint.require_client_cert = true)";
  if (e.allow_anonymous) {
    return Warn("endpoint", "on " + where +
                                " with endpoint.allow_anonymous = true: anyone on the network can "
                                "write data; " +
                                fix);
  }
  return Fail("endpoint", "on " + where + " without client authentication (refused at start); " +
                              fix + ", or endpoint.allow_anonymous = true");
}

}  // namespace sluice::gateway::doctor
