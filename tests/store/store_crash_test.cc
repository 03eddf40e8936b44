// Crash safety of the whole store, checked against a model of what was
// acknowledged: power cuts at random bytes (writes torn as a prefix or by
// sectors) and a full disk. Damaged files: store_corruption_test.cc.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>

#include "crash_rig.h"

namespace sluice::store::crash {

TEST_CASE("a power cut at a random byte never loses an acknowledged record") {
  std::mt19937_64 rng(20261125);
  for (int round = 0; round < 12; ++round) {
    CAPTURE(round);
    Rig rig(round % 2 ? IoEngine::kAuto : IoEngine::kPwrite);
    Model& model = rig.model;
    constexpr std::uint32_t kSeries = 12;

    // Several lives of the store, each ended by a cut at a random byte.
    for (int life = 0; life < 3; ++life) {
      auto store = rig.Open();
      Verify(*store, model, kSeries);
      for (std::uint32_t s = 1; s <= kSeries; ++s) {
        auto id = store->RegisterSeries("s" + std::to_string(s), ValueType::kFloat64, "");
        if (!id.ok()) break;  // a cut may hit a registration
        CHECK(id->value == s);
      }
      // Every third life ends with the write in flight torn by sectors
      // (any subset of them reached the disk), the others with a prefix.
      const std::uint64_t budget = rng() % (3 << 20);
      rig.env.FailAfterBytes(budget, StatusCode::kIoError, (round + life) % 3 == 2 ? rng() | 1 : 0);
      std::vector<Ticket> tickets;
      for (int b = 0; b < 400; ++b) {
        Batch batch;
        std::vector<Key> keys;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 40); i < n; ++i) {
          const auto s = static_cast<std::uint32_t>(1 + rng() % kSeries);
          // Mostly current, some late, all unique per series.
          std::int64_t ts = rig.now.load() - static_cast<std::int64_t>(rng() % (90 * kSecond));
          ts = ts / 1000 * 1000 + (life * 400 + b) % 1000;
          const Key key{s, ts};
          if (model.attempted.count(key) || std::find(keys.begin(), keys.end(), key) != keys.end()) {
            continue;
          }
          batch.push_back({SeriesId{s}, ts, ValueOf(s, ts)});
          keys.push_back(key);
        }
        if (batch.empty()) continue;
        {
          std::lock_guard lock(model.mu);
          model.attempted.insert(keys.begin(), keys.end());
        }
        tickets.push_back(store->Append(std::move(batch), [&model, keys](const Status& st) {
          if (!st.ok()) return;
          std::lock_guard lock(model.mu);
          model.acked.insert(keys.begin(), keys.end());
        }));
        rig.now += kSecond / 4;
      }
      for (auto& t : tickets) (void)t.Wait();
      (void)store->Close();
      store.reset();
      REQUIRE(rig.env.DropUnsyncedData().ok());
      rig.env.ClearFaults();
    }
    auto store = rig.Open();
    Verify(*store, model, kSeries);
    MESSAGE("round " << round << ": " << model.acked.size() << " acknowledged of "
                     << model.attempted.size() << ", blocks " << store->stats().blocks_written);
  }
}

namespace {

// Batch `life` of series registrations: 300 names of mixed types and units.
std::vector<std::string> BatchNames(int life) {
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) {
    names.push_back("line-" + std::to_string(life) + "/tag-" + std::to_string(i) +
                    std::string(static_cast<std::size_t>(i % 7), 'x'));
  }
  return names;
}
ValueType BatchType(int i) { return static_cast<ValueType>(1 + i % 4); }

std::vector<SeriesSpec> Specs(const std::vector<std::string>& names) {
  std::vector<SeriesSpec> specs;
  for (std::size_t i = 0; i < names.size(); ++i) {
    specs.push_back({names[i], BatchType(static_cast<int>(i)), i % 3 ? "" : "degC"});
  }
  return specs;
}

}  // namespace

TEST_CASE("a batch of series registrations torn anywhere keeps a prefix of it in order or none") {
  std::mt19937_64 rng(20261206);
  for (int round = 0; round < 40; ++round) {
    CAPTURE(round);
    Rig rig(IoEngine::kPwrite);
    std::vector<std::string> expected;  // every registered name, in id order
    {
      auto store = rig.Open();
      for (int s = 1; s <= 5; ++s) {
        REQUIRE(store->RegisterSeries("known/" + std::to_string(s), ValueType::kInt64, "").ok());
        expected.push_back("known/" + std::to_string(s));
      }
      const auto names = BatchNames(round);
      // Cut anywhere in the batch's bytes (about 12 KiB), torn as a prefix
      // or, every third round, as any subset of its sectors.
      rig.env.FailAfterBytes(rng() % (14 << 10), StatusCode::kIoError, round % 3 == 2 ? rng() | 1 : 0);
      const auto ids = store->RegisterSeriesBatch(Specs(names));
      const bool acked = ids.front().ok();
      for (const auto& id : ids) CHECK(id.ok() == acked);  // all or none acknowledged
      (void)store->Close();
      store.reset();
      REQUIRE(rig.env.DropUnsyncedData().ok());
      rig.env.ClearFaults();
      auto again = rig.Open();
      const auto list = again->ListSeries();
      REQUIRE(list.size() >= expected.size());
      const std::size_t kept = list.size() - expected.size();
      CHECK(kept <= names.size());
      if (acked) CHECK(kept == names.size());
      for (std::size_t i = 0; i < list.size(); ++i) {
        CHECK(list[i].id.value == i + 1);
        if (i < expected.size()) {
          CHECK(list[i].name == expected[i]);
        } else {
          const std::size_t k = i - expected.size();
          CHECK(list[i].name == names[k]);
          CHECK(list[i].type == BatchType(static_cast<int>(k)));
        }
      }
      // The store goes on from there: a new name gets the next id.
      auto next = again->RegisterSeries("after/" + std::to_string(round), ValueType::kFloat64, "");
      REQUIRE(next.ok());
      CHECK(next->value == list.size() + 1);
    }
  }
}

TEST_CASE("a batch registration that fails registers none of it and the next one gets its ids") {
  Rig rig(IoEngine::kPwrite);
  auto store = rig.Open();
  REQUIRE(store->RegisterSeries("known/1", ValueType::kInt64, "").ok());
  const auto first = BatchNames(1);
  rig.env.FailAfterBytes(5000, StatusCode::kIoError);
  auto failed = store->RegisterSeriesBatch(Specs(first));
  for (const auto& id : failed) {
    REQUIRE_FALSE(id.ok());
    CHECK(id.status().message().find("registering 300 series") != std::string::npos);
  }
  CHECK_FALSE(store->FindSeries(first[0]).has_value());
  rig.env.ClearFaults();
  // Known names in a batch keep their ids; conflicts fail alone.
  const std::vector<SeriesSpec> second{{"known/1", ValueType::kInt64, ""},
                                       {"new/a", ValueType::kFloat64, "bar"},
                                       {"known/1", ValueType::kBool, ""},
                                       {"new/a", ValueType::kFloat64, "bar"},
                                       {"", ValueType::kFloat64, ""},
                                       {"new/b", ValueType::kBytes, ""}};
  auto ids = store->RegisterSeriesBatch(second);
  REQUIRE(ids.size() == second.size());
  CHECK(ids[0]->value == 1);
  CHECK(ids[1]->value == 2);
  CHECK(ids[2].status().message().find("registered as int64") != std::string::npos);
  CHECK(ids[3]->value == 2);
  CHECK_FALSE(ids[4].ok());
  CHECK(ids[5]->value == 3);
  REQUIRE(store->Close().ok());
  store.reset();
  auto again = rig.Open();
  const auto list = again->ListSeries();
  // Nothing of the failed batch comes back.
  REQUIRE(list.size() == 3);
  CHECK(list[1].name == "new/a");
  CHECK(list[1].unit == "bar");
  CHECK(list[2].name == "new/b");
}

TEST_CASE("a batch whose sync failed leaves no whole entries for a later batch to resurrect") {
  Rig rig(IoEngine::kPwrite);
  auto store = rig.Open();
  REQUIRE(store->RegisterSeries("known/1", ValueType::kInt64, "").ok());
  const auto first = BatchNames(1);
  // The write lands whole, its sync fails (calls: write, then sync).
  rig.env.FailCall(FaultInjectionEnv::CallFault::kIoErrorAt, 2, FileKind::kMetadata);
  auto failed = store->RegisterSeriesBatch(Specs(first));
  REQUIRE_FALSE(failed.front().ok());
  rig.env.ClearFaults();
  // Two names of exactly the sizes of the failed batch's first two: without
  // the zeroing, its third entry would follow them, whole, with the next id.
  std::vector<std::string> second{first[0], first[1]};
  for (auto& n : second) n[0] = 'L';
  std::vector<SeriesSpec> specs = Specs(second);
  for (const auto& id : store->RegisterSeriesBatch(specs)) REQUIRE(id.ok());
  REQUIRE(store->Close().ok());
  store.reset();
  const auto list = rig.Open()->ListSeries();
  REQUIRE(list.size() == 3);
  CHECK(list[1].name == second[0]);
  CHECK(list[2].name == second[1]);
}

TEST_CASE("a full disk fails appends with NoSpace, corrupts nothing, and they succeed again later") {
  Rig rig;
  Model& model = rig.model;
  {
    auto store = rig.Open();
    auto id = store->RegisterSeries("s1", ValueType::kFloat64, "");
    REQUIRE(id.ok());
    auto append = [&](std::int64_t ts) {
      Status st = store->Append({{*id, ts, ValueOf(1, ts)}}).Wait();
      model.attempted.insert({1, ts});
      if (st.ok()) model.acked.insert({1, ts});
      return st;
    };
    const std::int64_t t0 = rig.now;
    for (int i = 0; i < 100; ++i) REQUIRE(append(t0 + i).ok());
    rig.env.SetWriteError(StatusCode::kNoSpace);
    Status full = append(t0 + 1000);
    CHECK(full.code() == StatusCode::kNoSpace);
    rig.env.ClearFaults();
    for (int i = 0; i < 100; ++i) CHECK(append(t0 + 2000 + i).ok());
    Verify(*store, model, 1);
  }
  auto store = rig.Open();
  Verify(*store, model, 1);
  CHECK(model.acked.size() == 200);
}

}  // namespace sluice::store::crash
