#include "base/secret_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace sluice {

Status CheckSecretFileMode(const struct stat& st, const std::string& what, const std::string& path) {
  if (!S_ISREG(st.st_mode)) return InvalidArgument(what + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return InvalidArgument(what + " has mode " + mode +
                           ": group and others must have no access (chmod 600 " + path + ")");
  }
  return Status::Ok();
}

Status CheckSecretFileIfPresent(const std::string& path, const std::string& what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Status::Ok();
  return CheckSecretFileMode(st, what, path);
}

Result<std::string> ReadSecretFile(const std::string& path, const std::string& what,
                                   std::size_t max_bytes, const std::string& too_large) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  // A secret the configuration names but that cannot be opened is a
  // configuration error, whatever the errno.
  if (fd < 0) return InvalidArgument(what + ": " + std::strerror(errno));
  struct stat st {};
  std::string text;
  Status status;
  if (::fstat(fd, &st) != 0) {
    status = ErrnoStatus("stat " + what, errno);
  } else if (status = CheckSecretFileMode(st, what, path); !status.ok()) {
  } else if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    status = InvalidArgument(what + " is larger than " + std::to_string(max_bytes) + " bytes" +
                             too_large);
  } else {
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t n = ::read(fd, text.data() + done, text.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        status = n < 0 ? ErrnoStatus("read " + what, errno) : IoError("read " + what + ": file shrank");
        break;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  ::close(fd);
  if (!status.ok()) return status;
  return text;
}

}  // namespace sluice
