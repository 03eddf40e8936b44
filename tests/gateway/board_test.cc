// Board profiles: detection from fake sysfs trees, resolution of `board`,
// precedence (defaults < profile < user keys), errors naming the profile's
// file, line and key, and the shipped profiles all loading.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "board/board.h"
#include "gateway/app/config.h"
#include "temp_dir.h"

namespace sluice::gateway {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

TEST_CASE("detection: devicetree, pmem, DMI with NVMe, fallback") {
  testing::TempDir t("board");
  const std::string root = t.path().string();
  CHECK(board::Detect(root).name == "generic");

  // Device-tree strings end with a NUL.
  const char model[] = "Raspberry Pi 5 Model B Rev 1.0";
  Write(t.path() / "sys/firmware/devicetree/base/model", std::string(model, sizeof model));
  auto d = board::Detect(root);
  CHECK(d.name == "arm64-emmc-gateway");  // no NVMe yet: the SD card
  fs::create_directories(t.path() / "sys/block/nvme0n1");
  d = board::Detect(root);
  CHECK(d.name == "rpi5-nvme");
  CHECK(d.reason == "devicetree model 'Raspberry Pi 5 Model B Rev 1.0', NVMe nvme0n1");

  const char orin[] = "NVIDIA Jetson AGX Orin Developer Kit";
  Write(t.path() / "sys/firmware/devicetree/base/model", std::string(orin, sizeof orin));
  CHECK(board::Detect(root).name == "jetson-orin");
  fs::remove_all(t.path() / "sys/firmware");

  Write(t.path() / "sys/class/dmi/id/sys_vendor", "Advantech\n");
  Write(t.path() / "sys/class/dmi/id/product_name", "UNO-2484G\n");
  d = board::Detect(root);
  CHECK(d.name == "x86-64-ipc-nvme");
  CHECK(Contains(d.reason, "DMI 'Advantech UNO-2484G'"));

  Write(t.path() / "dev/pmem0", "");
  d = board::Detect(root);
  CHECK(d.name == "x86-64-server-pmem");
  CHECK(d.reason == "persistent memory /dev/pmem0");
}

TEST_CASE("an unknown devicetree board on eMMC gets the eMMC profile") {
  testing::TempDir t("board");
  Write(t.path() / "sys/firmware/devicetree/base/model", "Acme Gateway 3\n");
  fs::create_directories(t.path() / "sys/block/mmcblk0");
  CHECK(board::Detect(t.path().string()).name == "arm64-emmc-gateway");
}

TEST_CASE("precedence: built-in defaults < profile < user keys, reason recorded") {
  testing::TempDir t("board");
  Write(t.path() / "sys/firmware/devicetree/base/model", "Raspberry Pi 5 Model B Rev 1.0");
  fs::create_directories(t.path() / "sys/block/nvme0n1");
  Write(t.path() / "boards/rpi5-nvme.toml",
        "[store]\nblock_size = \"2MiB\"\nopen_blocks_bytes = \"128MiB\"\n[sync]\nzstd_level = 7\n");
  const std::string user = "board_dir = \"" + (t.path() / "boards").string() +
                           "\"\n[store]\nopen_blocks_bytes = \"96MiB\"\n";
  auto c = ParseConfig(user, "user.toml", ParseContext{t.path().string()});
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->board.profile == "rpi5-nvme");
  CHECK(Contains(c->board.reason, "devicetree model 'Raspberry Pi 5 Model B Rev 1.0'"));
  CHECK(c->store.block_size == (2u << 20));             // profile
  CHECK(c->store.open_blocks_bytes == (96u << 20));     // user wins
  CHECK(c->sync.engine.writer.zstd_level == 7);         // profile
  CHECK(c->store.segment_size == (256ull << 20));       // built-in default
}

TEST_CASE("a named profile, a path, and their errors") {
  testing::TempDir t("board");
  Write(t.path() / "boards/small.toml", "[store]\nblock_size = \"64KiB\"\n");
  Write(t.path() / "etc/mine.toml", "[pipeline]\nshards = 3\n");
  const std::string dir = "board_dir = \"" + (t.path() / "boards").string() + "\"\n";

  auto c = ParseConfig(dir + "board = \"small\"\n", "u.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.block_size == (64u << 10));
  CHECK(c->board.reason == "named in the configuration");

  // A relative path is taken from the configuration file's directory.
  c = ParseConfig("board = \"mine.toml\"\n", (t.path() / "etc/sluice.toml").string());
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->pipeline.shards == 3);

  c = ParseConfig(dir + "board = \"smal\"\n", "u.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(Contains(c.status().message(), "u.toml:2:9: key 'board': no profile 'smal'"));
  CHECK(Contains(c.status().message(), "available: small"));

  // Errors inside a profile name the profile file, its line and the key.
  Write(t.path() / "boards/bad.toml", "[store]\n\nblock_size = \"3KiB\"\n");
  c = ParseConfig(dir + "board = \"bad\"\n", "u.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(Contains(c.status().message(), "bad.toml:3:"));
  CHECK(Contains(c.status().message(), "key 'store.block_size'"));

  Write(t.path() / "boards/typo.toml", "[store]\nblok_size = 1\n");
  c = ParseConfig(dir + "board = \"typo\"\n", "u.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(Contains(c.status().message(), "typo.toml:2:1: key 'store.blok_size': unknown key"));

  Write(t.path() / "boards/ident.toml", "[gateway]\nid = \"x\"\n");
  c = ParseConfig(dir + "board = \"ident\"\n", "u.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(Contains(c.status().message(), "not allowed in a board profile"));
}

TEST_CASE("auto with no profile file falls back to built-in defaults") {
  testing::TempDir t("board");
  auto c = ParseConfig("board_dir = \"" + t.path().string() + "/none\"\n", "u.toml",
                       ParseContext{t.path().string()});
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->board.profile == "generic");
  CHECK(c->board.profile_path.empty());
  CHECK(Contains(c->board.reason, "built-in defaults"));
}

TEST_CASE("every shipped profile loads and keeps the store's bounds") {
  for (const auto& e : fs::directory_iterator(SLUICE_SOURCE_DIR "/boards")) {
    if (e.path().extension() != ".toml") continue;
    CAPTURE(e.path().string());
    auto c = ParseConfig("board = \"" + e.path().string() + "\"\n", "u.toml");
    CHECK_MESSAGE(c.ok(), c.status().ToString());
  }
  // The fallback changes nothing: its values are the built-in defaults.
  auto generic = ParseConfig("board = \"" SLUICE_SOURCE_DIR "/boards/generic.toml\"\n", "u.toml");
  auto none = ParseConfig("board_dir = \"/nonexistent\"\n", "u.toml", ParseContext{"/nonexistent"});
  REQUIRE(generic.ok());
  REQUIRE(none.ok());
  CHECK(generic->store.block_size == none->store.block_size);
  CHECK(generic->store.open_blocks_bytes == none->store.open_blocks_bytes);
  CHECK(generic->pipeline.shards == none->pipeline.shards);
}

}  // namespace
}  // namespace sluice::gateway
