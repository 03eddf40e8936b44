// Any text given as the endpoint's password file is parsed into users or
// refused with an error naming the source and line; a parsed file answers
// Check() without crashing.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "password_file.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto f = sluice::gateway::endpoint::PasswordFile::Parse(text, "fuzz");
  if (!f.ok()) {
    SLUICE_CHECK(f.status().message().starts_with("fuzz:"));
    return 0;
  }
  const auto colon = text.find(':');
  const std::string_view user = text.substr(0, colon == std::string_view::npos ? 0 : colon);
  (void)f->Check(user, "password");
  return 0;
}
