// Helpers for the sync engine tests: a test clock, a store on it, and a
// fault-injecting sink around a real directory sink.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "sync/engine.h"
#include "temp_dir.h"

namespace sluice::sync::testing_engine {

using sluice::testing::TempDir;

constexpr std::int64_t kMs = 1'000'000;
constexpr std::int64_t kSec = 1'000 * kMs;
constexpr std::int64_t kT0 = 1'764'100'800 * kSec;  // a window boundary

// Awaits a condition (never a fixed sleep); false after 30 s.
inline bool Await(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

// A monotonic test clock; the engine's sleeps move it forward at once.
struct FakeClock {
  std::atomic<std::int64_t> now{1'000 * kSec};
  std::mutex rng_mu;
  std::mt19937_64 rng{7};

  SyncEngineContext Context() {
    SyncEngineContext c;
    c.now_ns = [this] { return now.load(); };
    c.wall_ns = [this] { return kT0 + 7200 * kSec + now.load(); };
    c.sleep_until = [this](std::int64_t t) {
      std::int64_t cur = now.load();
      while (cur < t && !now.compare_exchange_weak(cur, t)) {
      }
    };
    c.random = [this] {
      std::lock_guard lock(rng_mu);
      return rng();
    };
    return c;
  }
};

// A store with 60 s windows, 2 shards and no grace, on a test clock.
struct TestStore {
  TempDir dir{"sluice-engine"};
  std::atomic<std::int64_t> now{kT0};
  std::unique_ptr<store::Store> store;
  store::SeriesId temp, count;

  TestStore() { Open(); }

  void Open() {
    store::Options o;
    o.dir = (dir.path() / "store").string();
    o.partition_window = std::chrono::seconds(60);
    o.partition_shards = 2;
    o.late_grace = std::chrono::seconds(0);
    store::StoreContext ctx;
    ctx.now_ns = [this] { return now.load(); };
    auto s = store::Store::Open(o, ctx);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    store = std::move(*s);
    temp = *store->RegisterSeries("plant/l1/temp", store::ValueType::kFloat64, "degC");
    count = *store->RegisterSeries("plant/l1/count", store::ValueType::kInt64, "");
  }

  // Records in window `k` for both series (one per shard), then seals them.
  void AddWindow(int k, int n = 40) {
    const std::int64_t w = kT0 + k * 60 * kSec;
    now = w + 1 * kSec;
    store::Batch b;
    for (int i = 0; i < n; ++i) {
      b.push_back({temp, w + i * kSec, 20.0 + k + i * 0.125});
      b.push_back({count, w + i * kSec, std::int64_t{k} * 1000 + i});
    }
    REQUIRE(store->Append(std::move(b)).Wait().ok());
    for (const auto& p : store->ListPartitions(store::PartitionState::kOpen)) {
      if (p.id.window_start_ns != w) continue;
      const Status s = store->Seal(p.id);
      REQUIRE((s.ok() || s.code() == StatusCode::kInvalidArgument));  // sealed by maintenance
    }
  }

  std::size_t Count(store::PartitionState s) const { return store->ListPartitions(s).size(); }
};

inline SyncEngineOptions EngineOptions() {
  SyncEngineOptions o;
  o.gateway_id = "gw-1";
  o.site = "plant-a";
  o.key_prefix = "raw";
  o.partition_window = std::chrono::seconds(60);
  o.poll_interval = std::chrono::milliseconds(10);
  o.retry_base = std::chrono::milliseconds(100);
  o.retry_cap = std::chrono::milliseconds(2000);
  return o;
}

// What the fault sink does with one Put.
enum class Fault { kPass, kFail, kFailAfterWrite, kHangThenFail, kPauseAfterWrite, kGate };

// Shared by every FaultSink a factory makes: the policy, and what happened.
struct Faults {
  std::mutex mu;
  std::condition_variable cv;
  // Decides each Put: (sink instance, key, index of this call).
  std::function<Fault(int, const std::string&, int)> policy = [](int, const std::string&, int) {
    return Fault::kPass;
  };
  Status fail_status = Unavailable("injected: 503 SlowDown");
  bool released = false;          // ends kHang*/kPause*
  std::map<int, int> permits;     // kGate: Puts an instance may still start
  struct Call {
    int instance;
    std::string key;
    std::int64_t at_ns;
  };
  std::vector<Call> calls;
  std::map<int, std::string> held;  // instance -> key, while stopped in the sink
  std::set<std::string> in_put;
  bool concurrent_same_key = false;
  int sinks_opened = 0;
  ClockFn clock = [] { return std::int64_t{0}; };
  std::function<void(const std::string&)> after_write;  // runs while a kPauseAfterWrite holds

  void Release() {
    std::lock_guard lock(mu);
    released = true;
    cv.notify_all();
  }
  void Permit(int instance, int n = 1) {
    std::lock_guard lock(mu);
    permits[instance] += n;
    cv.notify_all();
  }
  int PutsOf(const std::string& key) {
    std::lock_guard lock(mu);
    return static_cast<int>(std::count_if(calls.begin(), calls.end(),
                                          [&](const Call& c) { return c.key == key; }));
  }
  // REQUIRES: mu held (from a policy).
  int PutsOfLocked(const std::string& key) const {
    return static_cast<int>(std::count_if(calls.begin(), calls.end(),
                                          [&](const Call& c) { return c.key == key; }));
  }
  std::string Held(int instance) {
    std::lock_guard lock(mu);
    auto it = held.find(instance);
    return it == held.end() ? "" : it->second;
  }
};

class FaultSink final : public Sink {
 public:
  FaultSink(std::unique_ptr<Sink> inner, Faults* f, int instance)
      : inner_(std::move(inner)), f_(f), instance_(instance) {}

  Result<PutResult> Put(const PutRequest& r) override {
    Fault fault;
    {
      std::lock_guard lock(f_->mu);
      const int index = static_cast<int>(f_->calls.size());
      f_->calls.push_back({instance_, r.key, f_->clock()});
      f_->concurrent_same_key |= !f_->in_put.insert(r.key).second;
      fault = f_->policy(instance_, r.key, index);
    }
    Result<PutResult> result = Unavailable("unset");
    std::unique_lock lock(f_->mu);
    const auto hold = [&](auto until) {
      f_->held[instance_] = r.key;
      f_->cv.wait(lock, until);
      f_->held.erase(instance_);
    };
    switch (fault) {
      case Fault::kFail:
        result = f_->fail_status;
        break;
      case Fault::kHangThenFail:
        hold([&] { return f_->released; });
        result = Unavailable("injected: transfer stalled");
        break;
      case Fault::kGate:
        hold([&] { return f_->permits[instance_] > 0; });
        --f_->permits[instance_];
        [[fallthrough]];
      case Fault::kPass:
      case Fault::kFailAfterWrite:
      case Fault::kPauseAfterWrite:
        lock.unlock();
        result = inner_->Put(r);
        lock.lock();
        if (fault == Fault::kFailAfterWrite && result.ok()) result = f_->fail_status;
        if (fault == Fault::kPauseAfterWrite) {
          if (f_->after_write) f_->after_write(r.key);
          hold([&] { return f_->released; });
        }
        break;
    }
    f_->in_put.erase(r.key);
    return result;
  }
  Result<ObjectInfo> Head(std::string_view key) override { return inner_->Head(key); }
  Result<std::vector<std::byte>> Get(std::string_view key) override { return inner_->Get(key); }
  std::string Describe() const override { return "fault:" + inner_->Describe(); }

 private:
  std::unique_ptr<Sink> inner_;
  Faults* f_;
  int instance_;
};

struct Upstream {
  TempDir dir{"sluice-engine-sink"};
  Faults faults;

  std::unique_ptr<Sink> Dir() const {
    DirSinkOptions o;
    o.root = dir.path().string();
    o.sync = false;  // scratch space
    auto sink = OpenDirSink(o);
    REQUIRE_MESSAGE(sink.ok(), sink.status().ToString());
    return std::move(*sink);
  }
  SyncEngine::SinkFactory Factory() {
    return [this]() -> Result<std::unique_ptr<Sink>> {
      std::lock_guard lock(faults.mu);
      return std::unique_ptr<Sink>(std::make_unique<FaultSink>(Dir(), &faults, faults.sinks_opened++));
    };
  }
  std::size_t Objects() const {
    std::size_t n = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir.path())) {
      n += e.path().extension() == ".slp";
    }
    return n;
  }
};

inline std::unique_ptr<SyncEngine> MustOpen(TestStore& ts, Upstream& up, SyncEngineOptions o,
                                     SyncEngineContext ctx = {}) {
  auto e = SyncEngine::Open(ts.store.get(), up.Factory(), std::move(o), std::move(ctx));
  REQUIRE_MESSAGE(e.ok(), e.status().ToString());
  return std::move(*e);
}

// Every synced partition is upstream under its key and decodes to exactly
// the store's records.
inline void CheckUpstreamEqualsStore(TestStore& ts, Upstream& up) {
  auto sink = up.Dir();
  const auto synced = ts.store->ListPartitions(store::PartitionState::kSynced);
  CHECK(up.Objects() == synced.size());
  for (const auto& p : synced) {
    auto key = SyncObjectKey(EngineOptions(), p.id);
    REQUIRE(key.ok());
    auto got = sink->Get(*key);
    REQUIRE_MESSAGE(got.ok(), *key << ": " << got.status().ToString());
    auto reader = PartitionReader::Open(
        std::string(reinterpret_cast<const char*>(got->data()), got->size()));
    REQUIRE_MESSAGE(reader.ok(), reader.status().ToString());
    std::vector<std::string> upstream, local;
    const auto show = [](const store::Record& r) {
      return std::to_string(r.series.value) + "@" + std::to_string(r.timestamp_ns) + "=" +
             std::visit([](const auto& v) {
               if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) return v;
               else return std::to_string(v);
             }, r.value);
    };
    for (std::size_t i = 0; i < reader->series_count(); ++i) {
      auto recs = reader->ReadRecords(i);
      REQUIRE(recs.ok());
      for (const auto& r : *recs) upstream.push_back(show(r));
    }
    REQUIRE(ts.store->ReadPartition(p.id, [&](const store::Record& r) {
                 local.push_back(show(r));
                 return true;
               }).ok());
    CHECK(!local.empty());
    // Upstream holds each series sorted by time, exact duplicates dropped.
    for (auto* v : {&upstream, &local}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    CHECK(upstream == local);
  }
}

}  // namespace sluice::sync::testing_engine
