// Runs a shell command for a test and hands back what it printed.
#pragma once

#include <string>

namespace sluice::testing {

// Runs `command` with /bin/sh; its standard output. Fails the test (REQUIRE)
// with the command and its output when it exits non-zero.
std::string ShellOutput(const std::string& command);

}  // namespace sluice::testing
