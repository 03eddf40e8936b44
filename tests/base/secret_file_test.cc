// Secret files: only regular files their owner alone may access are read;
// every refusal names the file and says how to fix it.
#include "base/secret_file.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "temp_dir.h"

namespace sluice {
namespace {

std::string Write(const testing::TempDir& dir, const std::string& name, const std::string& text,
                  mode_t mode) {
  const std::string path = (dir.path() / name).string();
  std::ofstream(path, std::ios::trunc) << text;
  REQUIRE(::chmod(path.c_str(), mode) == 0);
  return path;
}

TEST_CASE("a secret file readable by group or others is refused with its mode and the fix") {
  testing::TempDir dir("sluice-secret");
  for (mode_t mode : {0644, 0640, 0604, 0620, 0602}) {
    const std::string path = Write(dir, "token", "s3cr3t", mode);
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode));
    CAPTURE(text);
    auto read = ReadSecretFile(path, "token file " + path, 100);
    REQUIRE_FALSE(read.ok());
    CHECK(read.status().code() == StatusCode::kInvalidArgument);
    CHECK(read.status().message() == "token file " + path + " has mode " + text +
                                         ": group and others must have no access (chmod 600 " +
                                         path + ")");
    CHECK_FALSE(CheckSecretFileIfPresent(path, "token file " + path).ok());
  }
}

TEST_CASE("an owner-only secret file is read whole") {
  testing::TempDir dir("sluice-secret");
  const std::string text(5000, 'k');
  const std::string path = Write(dir, "key", text, 0600);
  auto read = ReadSecretFile(path, "key file", 5000);
  REQUIRE(read.ok());
  CHECK(*read == text);
  CHECK(CheckSecretFileIfPresent(path, "key file").ok());
  CHECK(ReadSecretFile(Write(dir, "ro", "x", 0400), "read-only key", 10).ok());
}

TEST_CASE("too large, missing and non-regular secret files are refused clearly") {
  testing::TempDir dir("sluice-secret");
  const std::string big = Write(dir, "big", std::string(101, 'x'), 0600);
  auto read = ReadSecretFile(big, "token file " + big, 100, ": it should hold one token");
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().message() ==
        "token file " + big + " is larger than 100 bytes: it should hold one token");

  const std::string absent = (dir.path() / "absent").string();
  read = ReadSecretFile(absent, "token file " + absent, 100);
  REQUIRE_FALSE(read.ok());
  CHECK(read.status().code() == StatusCode::kInvalidArgument);
  CHECK(read.status().message().find(absent) != std::string::npos);
  // A configuration check lets a file that does not exist yet pass.
  CHECK(CheckSecretFileIfPresent(absent, "token file").ok());

  const std::string sub = (dir.path() / "sub").string();
  REQUIRE(::mkdir(sub.c_str(), 0700) == 0);
  const Status s = CheckSecretFileIfPresent(sub, "password file " + sub);
  CHECK(s.message() == "password file " + sub + " is not a regular file");
}

}  // namespace
}  // namespace sluice
