// Secret files (admin token, broker passwords, S3 credentials): refused when
// group or others may access them, as ssh refuses such a private key, since
// every local user could read the secret. Messages name the file and say
// how to fix it.
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>

#include "base/status.h"

namespace sluice {

// `st` describes the file `what` (for instance "token file /etc/x"), found
// at `path`: InvalidArgument unless it is a regular file that only its
// owner may access.
Status CheckSecretFileMode(const struct stat& st, const std::string& what, const std::string& path);

// For configuration checks: the same on `path`, but a file this process
// cannot stat (missing yet, or a check run by another user) passes; it is
// reported when it is read.
Status CheckSecretFileIfPresent(const std::string& path, const std::string& what);

// Reads the whole file through one descriptor, checking the mode of what it
// reads (no window for a swap). InvalidArgument when it cannot be opened or
// is larger than `max_bytes` (the message then ends in `too_large`, for
// instance ": it should hold one token").
Result<std::string> ReadSecretFile(const std::string& path, const std::string& what,
                                   std::size_t max_bytes, const std::string& too_large = "");

}  // namespace sluice
