// Damaged partition objects: every flipped byte and every truncation is
// reported as Corruption (naming where), and nothing crashes.
#include <doctest/doctest.h>

#include <random>

#include "sync/partition.h"

namespace sluice::sync {
namespace {

using store::SeriesId;
using store::ValueType;

std::string SmallObject() {
  PartitionWriter w(PartitionIdentity{"gw", "site", 0, 0, 0, false});
  REQUIRE(w.AddSeries({SeriesId{1}, "f", ValueType::kFloat64, "V"}, {{"k", "v"}}).ok());
  REQUIRE(w.AddSeries({SeriesId{2}, "i", ValueType::kInt64, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{3}, "b", ValueType::kBool, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{4}, "s", ValueType::kBytes, ""}).ok());
  for (int i = 0; i < 300; ++i) {
    std::int64_t t = 1'000'000'000LL * i;
    REQUIRE(w.Append({SeriesId{1}, t, 20.0 + (i % 17) * 0.25}).ok());
    REQUIRE(w.Append({SeriesId{2}, t, std::int64_t{i * i}}).ok());
    REQUIRE(w.Append({SeriesId{3}, t, i % 5 == 0}).ok());
    REQUIRE(w.Append({SeriesId{4}, t, std::string(i % 7, 'x')}).ok());
  }
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  return *bytes;
}

// Open, then read every series; the first failure, or OK.
Status ReadEverything(std::string bytes) {
  auto r = PartitionReader::Open(std::move(bytes));
  if (!r.ok()) return r.status();
  for (std::size_t i = 0; i < r->series_count(); ++i) {
    auto recs = r->ReadRecords(i);
    if (!recs.ok()) return recs.status();
  }
  return Status::Ok();
}

TEST_CASE("every single flipped byte is detected") {
  const std::string good = SmallObject();
  REQUIRE(ReadEverything(good).ok());
  std::size_t detected = 0;
  for (std::size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    Status s = ReadEverything(bad);
    if (!s.ok()) {
      CHECK(s.code() == StatusCode::kCorruption);
      ++detected;
    } else {
      FAIL_CHECK("flip at offset " << i << " went unnoticed");
    }
  }
  CHECK(detected == good.size());
}

TEST_CASE("every truncation is detected") {
  const std::string good = SmallObject();
  for (std::size_t n = 0; n < good.size(); ++n) {
    Status s = ReadEverything(good.substr(0, n));
    CHECK_MESSAGE(s.code() == StatusCode::kCorruption, "truncated to " << n);
  }
}

TEST_CASE("a damaged chunk names its series and offset") {
  std::string bad = SmallObject();
  auto r0 = PartitionReader::Open(bad);
  REQUIRE(r0.ok());
  const ChunkRef& c = r0->series(1).values;
  REQUIRE(c.length > 0);
  bad[c.offset + c.length / 2] ^= 1;
  auto r = PartitionReader::Open(bad);
  REQUIRE(r.ok());  // chunks are checked when read
  CHECK(r->ReadRecords(0).ok());
  auto recs = r->ReadRecords(1);
  REQUIRE(!recs.ok());
  CHECK(recs.status().code() == StatusCode::kCorruption);
  CHECK(recs.status().message().find("series 'i'") != std::string::npos);
  CHECK(recs.status().message().find("offset " + std::to_string(c.offset)) != std::string::npos);
  CHECK(r->VerifyChecksums().code() == StatusCode::kCorruption);
}

TEST_CASE("random garbage and random damage never crash") {
  const std::string good = SmallObject();
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 8);
    for (int f = 0; f < flips; ++f) bad[rng() % bad.size()] = static_cast<char>(rng());
    CHECK(!ReadEverything(bad).ok());
  }
  for (int round = 0; round < 200; ++round) {
    std::string junk(rng() % 256, '\0');
    for (char& ch : junk) ch = static_cast<char>(rng());
    CHECK(!ReadEverything(junk).ok());
  }
}

}  // namespace
}  // namespace sluice::sync
