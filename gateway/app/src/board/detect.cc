// Board detection: the device tree names ARM boards exactly; x86 boxes are
// told apart by what matters to the store (persistent memory, NVMe), since
// DMI strings of industrial PCs are too varied to list.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "board/board.h"

namespace sluice::gateway::board {
namespace {

namespace fs = std::filesystem;

// First line of a sysfs file without trailing NULs (device-tree strings end
// with one) and whitespace; empty when unreadable.
std::string ReadAttr(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  std::string v = s.str();
  v = v.substr(0, v.find('\n'));
  while (!v.empty() && (v.back() == '\0' || v.back() == ' ' || v.back() == '\r')) v.pop_back();
  return v;
}

// The first entry of `dir` whose name starts with `prefix`, or "".
std::string FirstEntry(const fs::path& dir, std::string_view prefix) {
  std::error_code ec;
  std::string best;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string n = it->path().filename().string();
    if (n.starts_with(prefix) && (best.empty() || n < best)) best = n;
  }
  return best;
}

}  // namespace

Detection Detect(const std::string& root) {
  const fs::path r(root.empty() ? "/" : root);
  const std::string nvme = FirstEntry(r / "sys/block", "nvme");
  const std::string mmc = FirstEntry(r / "sys/block", "mmcblk");
  const std::string model = ReadAttr(r / "sys/firmware/devicetree/base/model");
  if (!model.empty()) {
    const std::string dt = "devicetree model '" + model + "'";
    if (model.find("Raspberry Pi 5") != std::string::npos) {
      // A Pi 5 without the NVMe HAT writes to its SD card: endurance first.
      if (!nvme.empty()) return {"rpi5-nvme", dt + ", NVMe " + nvme};
      return {"arm64-emmc-gateway", dt + ", no NVMe (SD card)"};
    }
    if (model.find("Jetson") != std::string::npos && model.find("Orin") != std::string::npos) {
      return {"jetson-orin", dt};
    }
    if (nvme.empty() && !mmc.empty()) return {"arm64-emmc-gateway", dt + ", eMMC/SD " + mmc};
  }
  const std::string pmem = FirstEntry(r / "dev", "pmem");
  const std::string dax = pmem.empty() ? FirstEntry(r / "dev", "dax") : "";
  if (!pmem.empty() || !dax.empty()) {
    return {"x86-64-server-pmem", "persistent memory /dev/" + (pmem.empty() ? dax : pmem)};
  }
  const std::string vendor = ReadAttr(r / "sys/class/dmi/id/sys_vendor");
  const std::string product = ReadAttr(r / "sys/class/dmi/id/product_name");
  if ((!vendor.empty() || !product.empty()) && !nvme.empty()) {
    return {"x86-64-ipc-nvme", "DMI '" + vendor + " " + product + "', NVMe " + nvme};
  }
  std::string why = "no known devicetree model";
  if (!model.empty()) why = "devicetree model '" + model + "' not known";
  return {"generic", why + ", no persistent memory, no DMI board with NVMe"};
}

std::string EffectiveBoardsDir(const std::string& configured) {
  if (!configured.empty()) return configured;
  std::error_code ec;
  const std::string installed(kInstalledBoardsDir);
  if (fs::is_directory(installed, ec)) return installed;
#ifdef SLUICE_SOURCE_BOARDS_DIR
  // Only binaries built in a source tree know it; there it is the right one.
  if (fs::is_directory(SLUICE_SOURCE_BOARDS_DIR, ec)) return SLUICE_SOURCE_BOARDS_DIR;
#endif
  return installed;
}

}  // namespace sluice::gateway::board
