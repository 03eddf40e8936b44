#include "gateway/app/config.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "temp_dir.h"

namespace sluice::gateway {
namespace {

std::string ErrorOf(std::string_view toml) {
  auto c = ParseConfig(toml, "test.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kInvalidArgument);
  return c.status().message();
}

bool Contains(const std::string& s, std::string_view part) {
  return s.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("a complete configuration is read into the options") {
  auto c = ParseConfig(R"(
[gateway]
id = "edge-01"
site = "plant-a"

[log]
level = "debug"

[store]
dir = "/srv/sluice/store"
)",
                       "test.toml");
  REQUIRE(c.ok());
  CHECK(c->gateway.id == "edge-01");
  CHECK(c->gateway.site == "plant-a");
  CHECK(c->log.level == LogLevel::kDebug);
  CHECK(c->store.dir == "/srv/sluice/store");
}

TEST_CASE("an empty file gives the documented defaults") {
  auto c = ParseConfig("", "empty.toml");
  REQUIRE(c.ok());
  CHECK_FALSE(c->gateway.id.empty());  // the host name
  CHECK(c->gateway.site == "default");
  CHECK(c->log.level == LogLevel::kInfo);
  CHECK(c->store.dir == "/var/lib/sluice/store");
}

TEST_CASE("an unknown key is refused with file, line, key and the allowed keys") {
  auto m = ErrorOf("[store]\ndir = \"/x\"\ndirr = \"/y\"\n");
  CHECK(Contains(m, "test.toml:3:"));
  CHECK(Contains(m, "'store.dirr'"));
  CHECK(Contains(m, "allowed in [store]: dir"));
}

TEST_CASE("an unknown section is refused and the sections are listed") {
  auto m = ErrorOf("\n[stor]\ndir = \"/x\"\n");
  CHECK(Contains(m, "test.toml:2:"));
  CHECK(Contains(m, "'stor'"));
  CHECK(Contains(m, "gateway, log, store"));
}

TEST_CASE("a value of the wrong type names the key and both types") {
  auto m = ErrorOf("[gateway]\nid = 7\n");
  CHECK(Contains(m, "test.toml:2:"));
  CHECK(Contains(m, "'gateway.id'"));
  CHECK(Contains(m, "expected a string, got an integer"));
}

TEST_CASE("an enum value outside its set lists what is allowed") {
  auto m = ErrorOf("[log]\nlevel = \"loud\"\n");
  CHECK(Contains(m, "'log.level'"));
  CHECK(Contains(m, "allowed: trace, debug, info, warn, error"));
}

TEST_CASE("a syntax error names the file and line") {
  auto m = ErrorOf("[gateway]\nid = \"unterminated\n");
  CHECK(Contains(m, "test.toml:2:"));
}

TEST_CASE("a module bound violation is reported against its key and line") {
  auto m = ErrorOf("[log]\nlevel = \"info\"\n[store]\ndir = \"relative/path\"\n");
  CHECK(Contains(m, "test.toml:4:"));
  CHECK(Contains(m, "'store.dir'"));
  CHECK(Contains(m, "absolute"));
}

TEST_CASE("ids that would break upstream object keys are refused") {
  auto m = ErrorOf("[gateway]\nsite = \"plant a\"\n");
  CHECK(Contains(m, "'gateway.site'"));
}

TEST_CASE("a missing file is NotFound and names the path") {
  auto c = LoadConfigFile("/nonexistent/sluice.toml");
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kNotFound);
  CHECK(Contains(c.status().message(), "/nonexistent/sluice.toml"));
}

TEST_CASE("docs/config.md documents exactly the keys the loader accepts, with their types") {
  std::ifstream in(SLUICE_SOURCE_DIR "/docs/config.md");
  REQUIRE(in);
  // Table rows look like: | `store.dir` | string | default | meaning |
  std::set<std::pair<std::string, std::string>> documented, accepted;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.starts_with("| `")) continue;
    const auto key_end = line.find('`', 3);
    const auto type_begin = line.find('|', key_end) + 1;
    const auto type_end = line.find('|', type_begin);
    REQUIRE(type_end != std::string::npos);
    std::string type = line.substr(type_begin, type_end - type_begin);
    type.erase(0, type.find_first_not_of(' '));
    type.erase(type.find_last_not_of(' ') + 1);
    documented.insert({line.substr(3, key_end - 3), type});
  }
  for (const auto& k : ConfigKeys()) accepted.insert({std::string(k.key), std::string(k.type)});
  for (const auto& k : accepted) {
    CHECK_MESSAGE(documented.count(k), "in code, not documented: " << k.first << " (" << k.second << ")");
  }
  for (const auto& k : documented) {
    CHECK_MESSAGE(accepted.count(k), "documented, not in code: " << k.first << " (" << k.second << ")");
  }
}

}  // namespace sluice::gateway

namespace sluice::gateway {

TEST_CASE("sizes and durations take units, and the store bounds apply") {
  auto c = ParseConfig(R"(
[store]
io_engine = "pwrite"
wal_file_size = "128MiB"
wal_max_commit_delay = "500us"
wal_max_group_bytes = 262144
max_value_bytes = "4KiB"
)",
                       "t.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.io_engine == store::IoEngine::kPwrite);
  CHECK(c->store.wal_file_size == 128ull << 20);
  CHECK(c->store.wal_max_commit_delay == std::chrono::microseconds(500));
  CHECK(c->store.wal_max_group_bytes == 262144);
  CHECK(c->store.max_value_bytes == 4096);

  auto bad_unit = ParseConfig("[store]\nwal_file_size = \"64MB\"\n", "t.toml");
  REQUIRE_FALSE(bad_unit.ok());
  CHECK(bad_unit.status().message().find("B, KiB, MiB, GiB") != std::string::npos);

  auto no_unit = ParseConfig("[store]\nwal_max_commit_delay = 5\n", "t.toml");
  REQUIRE_FALSE(no_unit.ok());
  CHECK(no_unit.status().message().find("duration") != std::string::npos);

  auto too_slow = ParseConfig("[store]\nwal_max_commit_delay = \"2s\"\n", "t.toml");
  REQUIRE_FALSE(too_slow.ok());
  CHECK(too_slow.status().message().find("t.toml:2:") != std::string::npos);
  CHECK(too_slow.status().message().find("'store.wal_max_commit_delay'") != std::string::npos);
}

TEST_CASE("the free-space warning and the reserve map onto the store, within their bounds") {
  auto defaults = ParseConfig("", "t.toml");
  REQUIRE(defaults.ok());
  CHECK(defaults->store.free_space_warning == 5);
  CHECK(defaults->store.reserve == 1ull << 20);

  auto c = ParseConfig("[store]\nfree_space_warning = 10\nreserve = \"8MiB\"\n", "t.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.free_space_warning == 10);
  CHECK(c->store.reserve == 8ull << 20);
  auto off = ParseConfig("[store]\nfree_space_warning = 0\nreserve = 0\n", "t.toml");
  REQUIRE_MESSAGE(off.ok(), off.status().ToString());
  CHECK(off->store.free_space_warning == 0);
  CHECK(off->store.reserve == 0);

  auto pct = ErrorOf("[store]\nfree_space_warning = 51\n");
  CHECK(Contains(pct, "test.toml:2:"));
  CHECK(Contains(pct, "'store.free_space_warning'"));
  CHECK(Contains(pct, "outside [0, 50]"));
  CHECK(Contains(ErrorOf("[store]\nfree_space_warning = \"5%\"\n"), "expected an integer"));

  auto reserve = ErrorOf("[log]\nlevel = \"info\"\n[store]\nreserve = \"65MiB\"\n");
  CHECK(Contains(reserve, "test.toml:4:"));
  CHECK(Contains(reserve, "'store.reserve'"));
  CHECK(Contains(ErrorOf("[store]\nreserve = \"1MB\"\n"), "B, KiB, MiB, GiB"));
}

TEST_CASE("late_grace defaults to at most the partition window the user set") {
  auto c = ParseConfig("[store]\ndir = \"/x\"\npartition_window = \"60s\"\n", "spb.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.partition_window == std::chrono::seconds(60));
  CHECK(c->store.late_grace == std::chrono::seconds(60));
  auto wide = ParseConfig("[store]\ndir = \"/x\"\npartition_window = \"1800s\"\n", "w.toml");
  REQUIRE(wide.ok());
  CHECK(wide->store.late_grace == std::chrono::seconds(300));
}

TEST_CASE("a late_grace the user set beyond the window names both keys, where, and the fix") {
  auto c = ParseConfig("[store]\ndir = \"/x\"\npartition_window = \"60s\"\nlate_grace = \"300s\"\n",
                       "g.toml");
  REQUIRE_FALSE(c.ok());
  const std::string m = c.status().message();
  CHECK_MESSAGE(m.find("g.toml:4") != std::string::npos, m);
  CHECK_MESSAGE(m.find("store.late_grace") != std::string::npos, m);
  CHECK_MESSAGE(m.find("store.partition_window (60 s, set at g.toml:3") != std::string::npos, m);
  CHECK_MESSAGE(m.find("lower store.late_grace or widen store.partition_window") !=
                    std::string::npos,
                m);
}

}  // namespace sluice::gateway

namespace sluice::gateway {

TEST_CASE("an endpoint on a network address without authentication is refused, naming the fix") {
  const auto m = ErrorOf("[endpoint]\nenabled = true\naddress = \"0.0.0.0\"\n");
  CHECK(Contains(m, "test.toml:3:"));
  CHECK(Contains(m, "'endpoint.address'"));
  CHECK(Contains(m, "no client authentication"));
  CHECK(Contains(m, "endpoint.password_file"));
  CHECK(Contains(m, "endpoint.require_client_cert = true"));
  CHECK(Contains(m, "endpoint.allow_anonymous = true"));
  CHECK(Contains(ErrorOf("[endpoint]\nenabled = true\naddress = \"::\"\n"), "'endpoint.address'"));
  CHECK(Contains(ErrorOf("[endpoint]\nenabled = true\naddress = \"192.168.1.20\"\n"),
                 "'endpoint.address'"));
}

TEST_CASE("an endpoint on loopback, with authentication or with allow_anonymous is accepted") {
  const char* accepted[] = {
      "[endpoint]\nenabled = true\n",  // 127.0.0.1 by default
      "[endpoint]\nenabled = true\naddress = \"127.0.0.2\"\n",
      "[endpoint]\nenabled = true\naddress = \"::1\"\n",
      "[endpoint]\nenabled = true\naddress = \"0.0.0.0\"\npassword_file = \"/etc/sluice/p\"\n",
      ("[endpoint]\nenabled = true\naddress = \"0.0.0.0\"\ntls_cert_file = \"/c\"\n"
       "tls_key_file = \"/k\"\ntls_ca_file = \"/ca\"\nrequire_client_cert = true\n"),
      "[endpoint]\nenabled = true\naddress = \"0.0.0.0\"\nallow_anonymous = true\n",
      // Off, it listens nowhere.
      "[endpoint]\nenabled = false\naddress = \"0.0.0.0\"\n",
  };
  for (const char* text : accepted) {
    CAPTURE(text);
    auto c = ParseConfig(text, "test.toml");
    CHECK_MESSAGE(c.ok(), c.status().ToString());
  }
  auto c = ParseConfig("[endpoint]\nallow_anonymous = true\n", "test.toml");
  REQUIRE(c.ok());
  CHECK(c->endpoint.allow_anonymous);
  CHECK_FALSE(Config{}.endpoint.allow_anonymous);
}

TEST_CASE("client certificates that are asked for but not required do not authenticate") {
  const auto m = ErrorOf(
      "[endpoint]\nenabled = true\naddress = \"0.0.0.0\"\ntls_cert_file = \"/c\"\n"
      "tls_key_file = \"/k\"\ntls_ca_file = \"/ca\"\n");
  CHECK(Contains(m, "'endpoint.address'"));
}

}  // namespace sluice::gateway

namespace sluice::gateway {

// Regression: a board profile's wal_max_group_bytes (1 MiB) used to be refused
// at the profile's line when the user lowered wal_file_size below 4 MiB, an
// error pointing into a file the user never edited.
TEST_CASE("profile values that depend on a key the user set are derived from it") {
  testing::TempDir t("profile-derive");
  std::filesystem::create_directories(t.path() / "boards");
  {
    std::ofstream(t.path() / "boards/p.toml")
        << "[store]\nwal_max_group_bytes = \"1MiB\"\nopen_blocks_bytes = \"16MiB\"\n"
           "segment_size = \"32MiB\"\n";
  }
  const std::string head = "board_dir = \"" + (t.path() / "boards").string() +
                           "\"\nboard = \"p\"\n[store]\ndir = \"/x\"\n";
  auto c = ParseConfig(head + "wal_file_size = \"3MiB\"\nblock_size = \"16MiB\"\n", "u.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.wal_max_group_bytes == (3ull << 20) / 4);
  CHECK(c->store.open_blocks_bytes == (32ull << 20));
  CHECK(c->store.segment_size == (64ull << 20));
  c = ParseConfig(head + "block_size = \"32MiB\"\n", "u.toml");  // still checked itself
  REQUIRE_FALSE(c.ok());
  CHECK(Contains(c.status().message(), "u.toml:5:"));

  // Without a profile, the built-in defaults yield the same way.
  c = ParseConfig("[store]\ndir = \"/x\"\nwal_file_size = \"1MiB\"\n", "u.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->store.wal_max_group_bytes == 256u << 10);
  c = ParseConfig("[store]\ndir = \"/x\"\nwal_file_size = \"3MiB\"\n"
                  "[stream.kafka]\nenabled = true\nbootstrap_servers = \"k:9092\"\n",
                  "u.toml");
  REQUIRE_MESSAGE(c.ok(), c.status().ToString());
  CHECK(c->stream.backlog_disk_bytes == 36ull << 20);

  // Both set by the user and in conflict: the error is the user's, and names
  // the key the bound comes from.
  c = ParseConfig("[store]\ndir = \"/x\"\nwal_file_size = \"3MiB\"\nwal_max_group_bytes = \"1MiB\"\n",
                  "u.toml");
  REQUIRE_FALSE(c.ok());
  const std::string m = c.status().message();
  CHECK_MESSAGE(Contains(m, "u.toml:4:"), m);
  CHECK_MESSAGE(Contains(m, "'store.wal_max_group_bytes'"), m);
  CHECK_MESSAGE(Contains(m, "a quarter of wal_file_size"), m);
}

}  // namespace sluice::gateway
