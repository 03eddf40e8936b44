// The S3 endpoint that scripts/test provides to integration tests.
#pragma once

#include <string>

namespace sluice::testing {

struct S3Env {
  std::string endpoint, access_key, secret_key, region;
};

// Reads SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}. When any is
// missing it prints a loud message naming `test` and exits the process (one
// test case per process under ctest): 77 (skipped), or 1 when
// SLUICE_TEST_REQUIRE_SERVICES=1.
S3Env RequireS3Env(const char* test);

}  // namespace sluice::testing
