// Any byte string given to the configuration loader yields a Config or an
// InvalidArgument naming a position; it never crashes or throws.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "gateway/app/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = sluice::gateway::ParseConfig(text, "fuzz.toml");
  if (!config.ok()) {
    SLUICE_CHECK(config.status().code() == sluice::StatusCode::kInvalidArgument);
    SLUICE_CHECK(config.status().message().starts_with("fuzz.toml:"));
  }
  return 0;
}
