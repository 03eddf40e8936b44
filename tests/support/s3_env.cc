#include "s3_env.h"

#include <cstdio>
#include <cstdlib>

namespace sluice::testing {

S3Env RequireS3Env(const char* test) {
  S3Env e;
  std::string missing;
  const auto get = [&](const char* name, std::string* out) {
    const char* v = std::getenv(name);
    if (v == nullptr || *v == '\0') missing += std::string(missing.empty() ? "" : ", ") + name;
    else *out = v;
  };
  get("SLUICE_TEST_S3_ENDPOINT", &e.endpoint);
  get("SLUICE_TEST_S3_ACCESS_KEY", &e.access_key);
  get("SLUICE_TEST_S3_SECRET_KEY", &e.secret_key);
  get("SLUICE_TEST_S3_REGION", &e.region);
  if (!missing.empty()) {
    const char* req = std::getenv("SLUICE_TEST_REQUIRE_SERVICES");
    const bool required = req != nullptr && std::string(req) == "1";
    std::printf("%s\n%s: %s: %s not set\n"
                "  start a gateway: scripts/rgw start DIR && eval \"$(scripts/rgw env DIR)\"\n%s\n",
                std::string(72, '*').c_str(), required ? "FAILED" : "SKIPPED", test,
                missing.c_str(), std::string(72, '*').c_str());
    std::fflush(stdout);
    std::exit(required ? 1 : 77);
  }
  return e;
}

}  // namespace sluice::testing
