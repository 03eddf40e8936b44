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

namespace sluice::store {

// The registry in memory: names packed in chunks, units interned, and a
// hash table of ids; checked against what it was given, before and after
// a reopen that rebuilds all of it from series.log.
TEST_CASE("100,000 series are found by name and by id, before and after a reopen") {
  sluice::testing::TempDir dir("sluice-registry");
  auto env = NewPosixEnv(IoEngine::kPwrite);
  REQUIRE(env.ok());
  constexpr std::size_t kSeries = 100'000;
  // Names of every length up to the limit, sharing long prefixes, as tag
  // paths do; units from a small set, and none.
  const auto name_of = [](std::size_t i) {
    std::string n = "plant/line-" + std::to_string(i % 97) + "/tag-" + std::to_string(i);
    if (i % 1000 == 7) n.append(kMaxSeriesNameBytes - n.size(), 'x');
    return n;
  };
  const auto unit_of = [](std::size_t i) -> std::string {
    static const char* kUnits[] = {"", "degC", "bar", "rpm"};
    return kUnits[i % 4];
  };
  const auto type_of = [](std::size_t i) { return static_cast<ValueType>(1 + i % 4); };
  const auto check_all = [&](const Registry& r) {
    REQUIRE(r.size() == kSeries);
    for (std::size_t i = 0; i < kSeries; ++i) {
      const std::string name = name_of(i);
      const auto ref = r.Lookup(name);
      REQUIRE_MESSAGE(ref.has_value(), name);
      CHECK(ref->id.value == i + 1);
      CHECK(ref->type == type_of(i));
      if (i % 997 == 0) {
        const auto info = r.Get(ref->id);
        REQUIRE(info.has_value());
        CHECK(info->name == name);
        CHECK(info->unit == unit_of(i));
        CHECK(r.Find(name)->id == ref->id);
      }
    }
    CHECK_FALSE(r.Lookup("plant/line-1/tag-100000").has_value());
    CHECK_FALSE(r.Lookup("").has_value());
    CHECK_FALSE(r.Get(SeriesId{kSeries + 1}).has_value());
    const auto all = r.List();
    REQUIRE(all.size() == kSeries);
    CHECK(all[12345].name == name_of(12345));
    CHECK(all[12345].unit == unit_of(12345));
  };
  {
    RegistryRecovery rec;
    auto r = Registry::Open(env->get(), dir.path(), &rec);
    REQUIRE(r.ok());
    // The first 10 one at a time, the rest in batches of 10,000 that each
    // name some series twice and some already registered.
    for (std::size_t i = 0; i < 10; ++i) {
      auto id = (*r)->Register(name_of(i), type_of(i), unit_of(i));
      REQUIRE(id.ok());
      CHECK(id->value == i + 1);
    }
    for (std::size_t first = 10; first < kSeries; first += 10'000) {
      const std::size_t last = std::min(kSeries, first + 10'000);
      // Each of the batch's series, then one twice in the batch and one
      // registered before.
      std::vector<std::size_t> of;
      for (std::size_t i = first; i < last; ++i) of.push_back(i);
      of.push_back(first);
      of.push_back(first - 1);
      std::vector<std::string> names, units;
      for (const std::size_t i : of) {
        names.push_back(name_of(i));
        units.push_back(unit_of(i));
      }
      std::vector<SeriesSpec> specs;
      for (std::size_t k = 0; k < of.size(); ++k) {
        specs.push_back({names[k], type_of(of[k]), units[k]});
      }
      const auto ids = (*r)->RegisterBatch(specs);
      for (std::size_t k = 0; k < last - first; ++k) {
        REQUIRE(ids[k].ok());
        CHECK(ids[k]->value == first + k + 1);
      }
      CHECK(ids[last - first]->value == first + 1);
      CHECK(ids[last - first + 1]->value == first);
    }
    // A known name with another type or unit is refused, naming both.
    const ValueType other = type_of(5) == ValueType::kBool ? ValueType::kInt64 : ValueType::kBool;
    auto clash = (*r)->Register(name_of(5), other, "");
    REQUIRE_FALSE(clash.ok());
    CHECK(clash.status().message().find(name_of(5)) != std::string::npos);
    auto unit_clash = (*r)->Register(name_of(5), type_of(5), "Pa");
    REQUIRE_FALSE(unit_clash.ok());
    CHECK(unit_clash.status().message().find("[Pa]") != std::string::npos);
    check_all(**r);
  }
  RegistryRecovery rec;
  auto again = Registry::Open(env->get(), dir.path(), &rec);
  REQUIRE(again.ok());
  CHECK(rec.entries == kSeries);
  check_all(**again);
}

}  // namespace sluice::store
