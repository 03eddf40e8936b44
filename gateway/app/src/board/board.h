// Board profiles: hardware-specific defaults read from boards/<name>.toml
// before the user's configuration (built-in defaults < profile < user keys).
// `board = "auto"` picks one from the device tree, DMI and /dev; every
// function takes the file-system root so that tests use fake sysfs trees.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace sluice::gateway::board {

// Where the installed package puts the profiles (the `board_dir` default).
inline constexpr std::string_view kInstalledBoardsDir = "/usr/share/sluice/boards";

// A detected (or named) profile and why it was chosen, for logs and status.
struct Detection {
  std::string name;    // "rpi5-nvme"
  std::string reason;  // "devicetree model 'Raspberry Pi 5 Model B Rev 1.0', NVMe nvme0n1"
};

// Looks at <root>/sys/firmware/devicetree/base/model, <root>/sys/class/dmi/id,
// <root>/sys/block and <root>/dev; never fails: "generic" is the fallback.
Detection Detect(const std::string& root);

// `board_dir` when set; else the installed directory when it exists; else
// (a binary run from the build tree) the source tree's boards/.
std::string EffectiveBoardsDir(const std::string& configured);

// The profile file for `board` ("auto", a name, or a path containing '/' or
// ending in ".toml"; a relative path is taken from `config_dir`). Empty
// `path` in the result means "no profile: built-in defaults" (auto only, when
// the profile directory lacks the file). `reason` says why.
struct Choice {
  std::string name;
  std::string path;
  std::string reason;
};
Result<Choice> Resolve(std::string_view board, const std::string& boards_dir,
                       const std::string& config_dir, const std::string& root);

}  // namespace sluice::gateway::board
