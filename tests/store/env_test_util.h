// Helpers shared by env_test.cc (the real file system) and
// fault_env_test.cc (the fault-injecting Env on top of it).
#pragma once

#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "store/env.h"

namespace sluice::store::env_test {

inline std::vector<std::byte> Bytes(const std::string& s) {
  std::vector<std::byte> out(s.size());
  std::memcpy(out.data(), s.data(), s.size());
  return out;
}

inline std::string Text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

inline std::unique_ptr<Env> MakeEnv(IoEngine engine, std::string* why = nullptr) {
  auto env = NewPosixEnv(engine, why);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  return std::move(*env);
}

}  // namespace sluice::store::env_test
