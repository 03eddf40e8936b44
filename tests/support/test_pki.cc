#include "test_pki.h"

#include <doctest/doctest.h>

#include <cstdlib>

namespace sluice::testing {

TestPki MakeTestPki(const std::filesystem::path& dir) {
  const std::string d = dir.string();
  const std::string cmd =
      "cd " + d +
      " && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca "
      "-keyout ca.key -out ca.pem 2>/dev/null && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr "
      "2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\\n' > san.ext && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
      "-extfile san.ext -out server.pem 2>/dev/null && "
      "openssl req -newkey rsa:2048 -nodes -subj /CN=sensor-1 -keyout client.key -out client.csr "
      "2>/dev/null && openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
      "-days 2 -out client.pem 2>/dev/null";
  REQUIRE_MESSAGE(std::system(cmd.c_str()) == 0, "openssl could not make the test certificates");
  return {d + "/ca.pem", d + "/server.pem", d + "/server.key", d + "/client.pem",
          d + "/client.key"};
}

}  // namespace sluice::testing
