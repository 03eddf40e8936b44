// The web console's files, embedded in the binary at build time
// (cmake/embed_assets.cmake), so a box with no internet serves the whole
// console itself. The admin endpoint serves them without a token: they are
// the login page and its assets and hold no data; every figure the console
// shows comes from the /v1/ API, which needs the token.
#pragma once

#include <span>
#include <string_view>

namespace sluice::gateway::console {

struct ConsoleAsset {
  std::string_view path;          // as served: "/" or "/console/<file>"
  std::string_view content_type;  // from the file's extension
  std::string_view body;
};

// Every embedded file; "/" is the console page.
std::span<const ConsoleAsset> ConsoleAssets();

// The asset served at `path`, or nullptr.
const ConsoleAsset* FindConsoleAsset(std::string_view path);

}  // namespace sluice::gateway::console
