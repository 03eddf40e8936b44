#include "shell.h"

#include <doctest/doctest.h>

#include <cstdio>

namespace sluice::testing {

std::string ShellOutput(const std::string& command) {
  FILE* p = ::popen(command.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "popen: " << command);
  std::string out;
  char buf[4096];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  const int rc = ::pclose(p);
  INFO("command: " << command << "\noutput: " << out);
  REQUIRE(rc == 0);
  return out;
}

}  // namespace sluice::testing
