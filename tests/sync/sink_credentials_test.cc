// S3 credentials: file format, mode rule, and no secret in any message.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>

#include "s3_credentials.h"
#include "temp_dir.h"

namespace sluice::sync::detail {
namespace {

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

TEST_CASE("a credentials file with a [default] section and comments parses") {
  auto c = ParseCredentials(
      "# Sluice upstream\n[default]\naws_access_key_id = AKIDEXAMPLE\r\n"
      "; secret below\naws_secret_access_key=" + std::string(kSecret) + "\n\n", "f");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->access_key_id == "AKIDEXAMPLE");
  CHECK(c->secret_access_key == kSecret);
}

TEST_CASE("malformed credentials files are refused with the line, never the value") {
  auto check = [](const std::string& text, std::string_view want) {
    auto c = ParseCredentials(text, "/etc/sluice/s3.credentials");
    REQUIRE_FALSE(c.ok());
    INFO(c.status().ToString());
    CHECK(c.status().code() == StatusCode::kInvalidArgument);
    CHECK(c.status().message().find(want) != std::string::npos);
    CHECK(c.status().message().find(kSecret) == std::string::npos);
  };
  check("aws_access_key_id = A\n", "aws_secret_access_key missing");
  check(std::string("aws_secret_access_key = ") + kSecret + "\n", "aws_access_key_id missing");
  check(std::string("aws_access_key_id = A\nsecret ") + kSecret + "\n", "s3.credentials:2");
  check(std::string("aws_access_key_id = A\nregion = ") + kSecret + "\n", "unknown key 'region'");
  check(std::string("aws_access_key_id = A\naws_access_key_id = ") + kSecret + "\n", "given twice");
  check(std::string("[prod]\naws_secret_access_key = ") + kSecret + "\n", "[default]");
  check(std::string("aws_access_key_id = A\naws_secret_access_key = a ") + kSecret + "\n",
        "s3.credentials:2");
}

TEST_CASE("a credentials file readable by group or others is refused with its path and mode") {
  testing::TempDir dir("sluice-creds");
  const std::string path = (dir.path() / "s3.credentials").string();
  std::ofstream(path) << "aws_access_key_id = A\naws_secret_access_key = " << kSecret << "\n";
  for (mode_t mode : {0644, 0640, 0604, 0620}) {
    ::chmod(path.c_str(), mode);
    auto c = LoadCredentialsFile(path);
    REQUIRE_FALSE(c.ok());
    char want[8];
    std::snprintf(want, sizeof want, "%04o", static_cast<unsigned>(mode));
    INFO(c.status().ToString());
    CHECK(c.status().message().find(path) != std::string::npos);
    CHECK(c.status().message().find(want) != std::string::npos);
    CHECK(c.status().message().find(kSecret) == std::string::npos);
  }
  ::chmod(path.c_str(), 0600);
  auto c = LoadCredentialsFile(path);
  REQUIRE(c.ok());
  CHECK(c->secret_access_key == kSecret);
  ::chmod(path.c_str(), 0400);
  CHECK(LoadCredentialsFile(path).ok());
}

TEST_CASE("a missing credentials file names the path") {
  auto c = LoadCredentialsFile("/nonexistent/s3.credentials");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().message().find("/nonexistent/s3.credentials") != std::string::npos);
}

TEST_CASE("credentials come from the environment when both variables are set") {
  ::setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
  CHECK_FALSE(LoadCredentialsFromEnv().ok());
  ::setenv("AWS_SECRET_ACCESS_KEY", kSecret, 1);
  auto c = LoadCredentialsFromEnv();
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIDENV");
  ::unsetenv("AWS_ACCESS_KEY_ID");
  ::unsetenv("AWS_SECRET_ACCESS_KEY");
}

}  // namespace
}  // namespace sluice::sync::detail
