// Any bytes given as a registry file give a valid prefix of entries, with the
// rest counted as discarded; nothing crashes.
#include <cstddef>
#include <cstdint>
#include <string>

#include "registry.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view image(reinterpret_cast<const char*>(data), size);
  sluice::store::RegistryRecovery rec;
  auto series = sluice::store::ParseRegistry(image, rec);
  SLUICE_CHECK(rec.discarded_bytes <= size);
  for (std::size_t i = 0; i < series.size(); ++i) {
    SLUICE_CHECK(series[i].id.value == i + 1);
    SLUICE_CHECK(!series[i].name.empty());
  }
  return 0;
}
