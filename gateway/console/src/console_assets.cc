#include "gateway/console/console_assets.h"

namespace sluice::gateway::console {

const ConsoleAsset* FindConsoleAsset(std::string_view path) {
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace sluice::gateway::console
