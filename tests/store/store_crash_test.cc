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
