#include "registry.h"

#include <doctest/doctest.h>

#include "temp_dir.h"

namespace sluice::store {

TEST_CASE("a registry image round-trips and ids are dense from 1") {
  std::string image = EncodeLogHeader(kRegistryFormat);
  image += EncodeLogEntry(EncodeRegistryEntry({SeriesId{1}, "plant/a/temp", ValueType::kFloat64, "degC"}));
  image += EncodeLogEntry(EncodeRegistryEntry({SeriesId{2}, "plant/a/run", ValueType::kBool, ""}));
  RegistryRecovery rec;
  auto series = ParseRegistry(image, rec);
  REQUIRE(series.size() == 2);
  CHECK(series[0].name == "plant/a/temp");
  CHECK(series[0].unit == "degC");
  CHECK(series[1].type == ValueType::kBool);
  CHECK(rec.discarded_bytes == 0);
  CHECK_FALSE(rec.header_corrupt);
}

TEST_CASE("a torn last entry is discarded and counted, earlier ones kept") {
  std::string image = EncodeLogHeader(kRegistryFormat);
  image += EncodeLogEntry(EncodeRegistryEntry({SeriesId{1}, "a", ValueType::kInt64, ""}));
  const std::string second = EncodeLogEntry(EncodeRegistryEntry({SeriesId{2}, "b", ValueType::kInt64, ""}));
  for (std::size_t cut = 1; cut < second.size(); ++cut) {
    RegistryRecovery rec;
    auto series = ParseRegistry(image + second.substr(0, cut), rec);
    CHECK(series.size() == 1);
    CHECK(rec.discarded_bytes == cut);
  }
}

TEST_CASE("an entry whose id breaks the dense sequence ends the valid prefix") {
  std::string image = EncodeLogHeader(kRegistryFormat);
  image += EncodeLogEntry(EncodeRegistryEntry({SeriesId{1}, "a", ValueType::kInt64, ""}));
  image += EncodeLogEntry(EncodeRegistryEntry({SeriesId{3}, "c", ValueType::kInt64, ""}));
  RegistryRecovery rec;
  CHECK(ParseRegistry(image, rec).size() == 1);
  CHECK(rec.discarded_bytes > 0);
}

TEST_CASE("a wrong header marks the whole image unreadable") {
  RegistryRecovery rec;
  CHECK(ParseRegistry("not a registry at all", rec).empty());
  CHECK(rec.header_corrupt);
}

}  // namespace sluice::store
