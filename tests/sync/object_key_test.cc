#include "sync/object_key.h"

#include <doctest/doctest.h>

namespace sluice::sync {

TEST_CASE("an object key is Hive-style and sorts by time") {
  ObjectKeyParts p;
  p.prefix = "sluice/raw";
  p.site = "plant-a";
  p.gateway_id = "edge-01";
  p.window_start_ns = 1'764'100'800'000'000'000;  // 2025-11-25T20:00:00Z
  p.shard = 3;
  p.seq = 42;
  auto key = BuildObjectKey(p);
  REQUIRE(key.ok());
  CHECK(*key ==
        "sluice/raw/site=plant-a/gateway=edge-01/date=2025-11-25/hour=20/"
        "20251125T200000Z-0003-0000000042.slp");
}

TEST_CASE("a key without prefix starts at site=") {
  ObjectKeyParts p;
  p.site = "s";
  p.gateway_id = "g";
  p.window_start_ns = 0;
  auto key = BuildObjectKey(p);
  REQUIRE(key.ok());
  CHECK(*key == "site=s/gateway=g/date=1970-01-01/hour=00/19700101T000000Z-0000-0000000000.slp");
}

TEST_CASE("components that could escape the layout are refused with a reason") {
  ObjectKeyParts p;
  p.site = "plant/a";
  p.gateway_id = "g";
  auto key = BuildObjectKey(p);
  REQUIRE_FALSE(key.ok());
  CHECK(key.status().message().find("site 'plant/a'") != std::string::npos);

  p.site = "a";
  p.gateway_id = "..";
  CHECK_FALSE(BuildObjectKey(p).ok());
  p.gateway_id = "g";
  p.prefix = "/abs";
  CHECK_FALSE(BuildObjectKey(p).ok());
  p.prefix = "a//b";
  CHECK_FALSE(BuildObjectKey(p).ok());
  p.prefix = "";
  p.window_start_ns = -1;
  CHECK_FALSE(BuildObjectKey(p).ok());
}

}  // namespace sluice::sync
