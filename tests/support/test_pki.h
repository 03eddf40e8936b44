// Throwaway certificates for TLS tests, made with the openssl command.
#pragma once

#include <filesystem>
#include <string>

namespace sluice::testing {

// PEM file paths inside the directory MakeTestPki was given.
struct TestPki {
  std::string ca;                       // a self-signed CA (CN=test-ca)
  std::string server_cert, server_key;  // CN=127.0.0.1, SAN IP:127.0.0.1, signed by ca
  std::string client_cert, client_key;  // CN=sensor-1, signed by ca
};

// Makes a CA, a server certificate for 127.0.0.1 and a client certificate
// in `dir` (which must exist), valid for two days. Fails the test (REQUIRE)
// when openssl cannot.
TestPki MakeTestPki(const std::filesystem::path& dir);

}  // namespace sluice::testing
