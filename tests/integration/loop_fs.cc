#include "loop_fs.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace sluice::testing {
namespace {

// Runs `command` with its output appended to `log`; true on exit code 0.
bool Run(const std::string& command, const std::filesystem::path& log) {
  const int rc = std::system((command + " >>" + log.string() + " 2>&1").c_str());
  return rc != -1 && WIFEXITED(rc) && WEXITSTATUS(rc) == 0;
}

std::string ReadAll(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

[[noreturn]] void Skip(const char* test, const std::string& why) {
  const char* req = std::getenv("SLUICE_TEST_REQUIRE_SERVICES");
  const bool required = req != nullptr && std::string(req) == "1";
  const std::string stars(72, '*');
  std::printf("%s\n%s: %s: cannot make a loop-mounted ext4 file system (needs root and a free "
              "loop device):\n%s\n%s\n",
              stars.c_str(), required ? "FAILED" : "SKIPPED", test, why.c_str(), stars.c_str());
  std::fflush(stdout);
  std::exit(required ? 1 : 77);
}

}  // namespace

std::unique_ptr<LoopFs> LoopFs::MountOrSkip(const std::filesystem::path& dir, int size_mib,
                                            const char* test) {
  std::error_code ec;
  std::filesystem::create_directories(dir / "mnt", ec);
  if (ec) Skip(test, "mkdir " + (dir / "mnt").string() + ": " + ec.message());
  const auto image = dir / "fs.img";
  const auto log = dir / "mount.log";
  if (geteuid() != 0) Skip(test, "not running as root (euid " + std::to_string(geteuid()) + ")");
  if (!Run("truncate -s " + std::to_string(size_mib) + "M " + image.string(), log) ||
      !Run("mkfs.ext4 -q -F -m 0 " + image.string(), log)) {
    Skip(test, "mkfs.ext4 failed: " + ReadAll(log));
  }
  if (!Run("mount -o loop " + image.string() + " " + (dir / "mnt").string(), log)) {
    std::filesystem::remove(image, ec);
    Skip(test, "mount -o loop failed: " + ReadAll(log));
  }
  return std::unique_ptr<LoopFs>(new LoopFs(image, dir / "mnt"));
}

LoopFs::~LoopFs() {
  // A process that still has a file open there (a sluice the test could not
  // stop) keeps it busy for a moment; a lazy unmount is the last resort.
  const auto log = image_.parent_path() / "mount.log";
  bool unmounted = false;
  for (int i = 0; i < 50 && !unmounted; ++i) {
    unmounted = Run("umount " + mnt_.string(), log);
    if (!unmounted) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!unmounted && !Run("umount -l " + mnt_.string(), log)) {
    std::fprintf(stderr, "LoopFs: could not unmount %s: %s\n", mnt_.c_str(),
                 ReadAll(log).c_str());
  }
  std::error_code ec;
  std::filesystem::remove(image_, ec);
}

std::uint64_t LoopFs::free_bytes() const {
  struct statvfs s{};
  if (statvfs(mnt_.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize;
}

std::uint64_t LoopFs::total_bytes() const {
  struct statvfs s{};
  if (statvfs(mnt_.c_str(), &s) != 0) return 0;
  return static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize;
}

Status LoopFs::Ballast(const std::filesystem::path& file, std::uint64_t bytes) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("open " + file.string() + ": " + std::strerror(errno));
  const int rc = posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  const bool synced = rc == 0 && ::fsync(fd) == 0;
  ::close(fd);
  if (rc != 0) return IoError("fallocate " + file.string() + ": " + std::strerror(rc));
  if (!synced) return IoError("fsync " + file.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

Result<std::uint64_t> LoopFs::FillUp(const std::filesystem::path& file) {
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IoError("open " + file.string() + ": " + std::strerror(errno));
  off_t size = ::lseek(fd, 0, SEEK_END);
  const off_t start = size;
  for (const off_t step : {off_t{1} << 20, off_t{4096}}) {
    while (::fallocate(fd, 0, size, step) == 0) size += step;
    if (errno != ENOSPC) {
      const int e = errno;
      ::close(fd);
      return IoError("fallocate " + file.string() + ": " + std::strerror(e));
    }
  }
  ::fsync(fd);
  ::close(fd);
  return static_cast<std::uint64_t>(size - start);
}

}  // namespace sluice::testing
