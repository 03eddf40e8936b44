// Which profile file a `board` setting means. Reading it is the config
// loader's job (config.cc), so profile keys get the same checks and messages.
#include <algorithm>
#include <filesystem>
#include <system_error>
#include <vector>

#include "board/board.h"

namespace sluice::gateway::board {
namespace {

namespace fs = std::filesystem;

bool IsPath(std::string_view board) {
  return board.find('/') != std::string_view::npos || board.ends_with(".toml");
}

bool IsName(std::string_view board) {
  return !board.empty() && board.size() <= 64 &&
         std::all_of(board.begin(), board.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
         });
}

// "a, b, c": profile names in `dir`, so that a typo shows the choices.
std::string Available(const std::string& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".toml") names.push_back(it->path().stem().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none (directory missing or empty)" : out;
}

}  // namespace

Result<Choice> Resolve(std::string_view board, const std::string& boards_dir,
                       const std::string& config_dir, const std::string& root) {
  std::error_code ec;
  if (board == "auto") {
    Detection d = Detect(root);
    const std::string path = (fs::path(boards_dir) / (d.name + ".toml")).string();
    if (fs::is_regular_file(path, ec)) return Choice{d.name, path, d.reason};
    // Auto must never stop a gateway: a missing profile means defaults.
    return Choice{d.name, "", d.reason + "; no " + path + ", built-in defaults"};
  }
  if (IsPath(board)) {
    fs::path p(board);
    if (p.is_relative() && !config_dir.empty()) p = fs::path(config_dir) / p;
    if (!fs::is_regular_file(p, ec)) return NotFound("profile file " + p.string() + " not found");
    return Choice{p.stem().string(), p.string(), "named by path in the configuration"};
  }
  if (!IsName(board)) {
    return InvalidArgument("'" + std::string(board) +
                           "' is not a profile name ([A-Za-z0-9._-]), a path or \"auto\"");
  }
  const std::string path = (fs::path(boards_dir) / (std::string(board) + ".toml")).string();
  if (!fs::is_regular_file(path, ec)) {
    return NotFound("no profile '" + std::string(board) + "' in " + boards_dir +
                    "; available: " + Available(boards_dir));
  }
  return Choice{std::string(board), path, "named in the configuration"};
}

}  // namespace sluice::gateway::board
