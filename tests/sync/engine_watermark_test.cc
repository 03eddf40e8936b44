// Completeness watermarks: the rule for T, the document, and the engine
// writing it to a directory sink (through the fault-injecting sink), late
// records, restarts. Writes are driven by WriteWatermark() so that nothing
// waits for the interval, except in the one test of the interval itself.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "engine_test_util.h"
#include "sync/watermark.h"

namespace sluice::sync {
namespace {

using namespace testing_engine;  // NOLINT: test helpers

constexpr const char* kKey = "raw/_watermarks/site=plant-a/gateway=gw-1.json";

store::PartitionInfo Part(store::PartitionState state, std::uint64_t records, std::int64_t t_min) {
  store::PartitionInfo p;
  p.state = state;
  p.records = records;
  p.t_min = t_min;
  p.t_max = t_min + 10;
  return p;
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Watermark Upstreamed(const Upstream& up) {
  const auto path = up.dir.path() / kKey;
  REQUIRE_MESSAGE(std::filesystem::exists(path), path.string() << " was not written");
  auto w = ParseWatermark(ReadText(path));
  REQUIRE_MESSAGE(w.ok(), w.status().ToString());
  return *w;
}

// Records at [w + 0 s, w + n s) of window `k` for both series, not sealed.
void AddOpenWindow(TestStore& ts, int k, int n = 10) {
  const std::int64_t w = kT0 + k * 60 * kSec;
  ts.now = w + 1 * kSec;
  store::Batch b;
  for (int i = 0; i < n; ++i) {
    b.push_back({ts.temp, w + i * kSec, 1.5 * i});
    b.push_back({ts.count, w + i * kSec, std::int64_t{i}});
  }
  REQUIRE(ts.store->Append(std::move(b)).Wait().ok());
}

void SealWindow(TestStore& ts, int k) {
  for (const auto& p : ts.store->ListPartitions(store::PartitionState::kOpen)) {
    if (p.id.window_start_ns != kT0 + k * 60 * kSec) continue;
    const Status s = ts.store->Seal(p.id);
    REQUIRE((s.ok() || s.code() == StatusCode::kInvalidArgument));
  }
}

void AwaitAllSynced(TestStore& ts, SyncEngine& engine) {
  REQUIRE(Await([&] {
    return ts.Count(store::PartitionState::kSealed) == 0 && engine.health().backlog_partitions == 0;
  }));
}

SyncEngineOptions WatermarkOptions(const TestStore& ts) {
  auto o = EngineOptions();
  o.watermark_interval = std::chrono::seconds(3600);  // written by WriteWatermark() in these tests
  o.watermark_state_file = (ts.dir.path() / "sync_watermark.json").string();
  return o;
}

TEST_CASE("T is the smallest timestamp still pending, never ahead of wall clock minus the lag, "
          "never backwards") {
  using S = store::PartitionState;
  const std::int64_t wall = 1'000'000 * kSec, lag = 60 * kSec;
  const std::int64_t none = std::numeric_limits<std::int64_t>::min();
  // Open and sealed partitions hold T back; synced, reclaimed and empty ones do not.
  CHECK(NextWatermark({Part(S::kOpen, 5, 900 * kSec), Part(S::kSealed, 3, 700 * kSec),
                       Part(S::kSynced, 9, 100 * kSec), Part(S::kReclaimed, 9, 50 * kSec),
                       Part(S::kOpen, 0, 0)},
                      none, wall, lag) == 700 * kSec);
  // Nothing pending: wall clock minus the lag.
  CHECK(NextWatermark({Part(S::kSynced, 9, 100 * kSec)}, none, wall, lag) == wall - lag);
  CHECK(NextWatermark({}, none, wall, 0) == wall);
  // Records stamped in the future do not carry T past the wall clock.
  CHECK(NextWatermark({Part(S::kOpen, 1, wall + 3600 * kSec)}, none, wall, lag) == wall - lag);
  // A late record pending below the last T: T stays.
  CHECK(NextWatermark({Part(S::kOpen, 1, 10 * kSec)}, 500 * kSec, wall, lag) == 500 * kSec);
  // A wall clock stepped back: T stays.
  CHECK(NextWatermark({}, wall, wall - 3600 * kSec, lag) == wall);
}

TEST_CASE("the watermark document round-trips, ignores unknown fields and refuses damage") {
  Watermark w;
  w.site = "plant-a";
  w.gateway_id = "gw-1";
  w.watermark_ns = kT0 + 123'456'789;
  w.records_confirmed = 1'000'000'000'000ull;
  w.objects_confirmed = 42;
  w.late_records = 7;
  w.written_at_ns = kT0 + 3600 * kSec;
  const std::string text = FormatWatermark(w);
  CHECK(text.find("\"format\": \"sluice-watermark\"") != std::string::npos);
  CHECK(text.find("\"watermark\": \"2025-11-25T20:00:00.123456789Z\"") != std::string::npos);
  CHECK(text.find("\"written_at\": \"2025-11-25T21:00:00Z\"") != std::string::npos);
  auto back = ParseWatermark(text);
  REQUIRE_MESSAGE(back.ok(), back.status().ToString());
  CHECK(*back == w);

  // A later version with a field more (and the fields in another order).
  auto later = ParseWatermark(
      R"({"version": 2, "format": "sluice-watermark", "site": "s", "gateway": "g",
          "watermark_ns": -5, "records_confirmed": 1, "objects_confirmed": 2, "late_records": 3,
          "written_at_ns": 4, "hours": "x\"y", "extra": 17})");
  REQUIRE_MESSAGE(later.ok(), later.status().ToString());
  CHECK(later->watermark_ns == -5);
  CHECK(later->late_records == 3);

  CHECK_FALSE(ParseWatermark(text + "x").ok());
  CHECK_FALSE(ParseWatermark(text.substr(0, text.size() / 2)).ok());
  std::string other = text;
  other.replace(other.find("sluice-watermark"), 16, "something-else!!");
  CHECK_FALSE(ParseWatermark(other).ok());
  std::string no_t = text;
  no_t.replace(no_t.find("\"watermark_ns\""), 14, "\"watermark_xx\"");
  CHECK_FALSE(ParseWatermark(no_t).ok());
  std::string negative_count = text;
  negative_count.replace(negative_count.find("42"), 2, "-1");
  CHECK_FALSE(ParseWatermark(negative_count).ok());
  // Found by watermark_fuzz: a site that is no key component (here not even
  // UTF-8) parsed, and then formatted to a document that did not parse back.
  std::string bad_site = text;
  const std::size_t at = bad_site.find("\"site\": \"") + 9;
  bad_site.insert(at, "\x80/");
  auto refused = ParseWatermark(bad_site);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message().find("site") != std::string::npos);
}

TEST_CASE("the watermark key sits outside the Hive layout, under the data prefix") {
  CHECK(*WatermarkKey("raw", "plant-a", "gw-1") == kKey);
  CHECK(*WatermarkKey("", "s", "g") == "_watermarks/site=s/gateway=g.json");
  CHECK_FALSE(WatermarkKey("raw", "bad/site", "gw-1").ok());
  CHECK_FALSE(WatermarkKey("/raw", "s", "g").ok());
  CHECK(FormatRfc3339(0) == "1970-01-01T00:00:00Z");
}

TEST_CASE("after confirmed uploads the engine writes T, the counts and the time upstream") {
  TestStore ts;
  for (int k = 0; k < 3; ++k) ts.AddWindow(k);
  AddOpenWindow(ts, 3);  // still open: holds T at its first record
  Upstream up;
  FakeClock clock;
  auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
  AwaitAllSynced(ts, *engine);
  REQUIRE(engine->WriteWatermark().ok());

  const Watermark w = Upstreamed(up);
  CHECK(w.site == "plant-a");
  CHECK(w.gateway_id == "gw-1");
  CHECK(w.watermark_ns == kT0 + 180 * kSec);
  CHECK(w.records_confirmed == 3 * 80);
  CHECK(w.objects_confirmed == 6);
  CHECK(w.late_records == 0);
  CHECK(w.written_at_ns > kT0 + 7200 * kSec);
  // The state file holds the same document.
  auto local = ParseWatermark(ReadText(ts.dir.path() / "sync_watermark.json"));
  REQUIRE(local.ok());
  CHECK(*local == w);

  const SyncHealth h = engine->health();
  CHECK(h.watermark_ns == w.watermark_ns);
  CHECK(h.watermark_written_ns == w.written_at_ns);
  CHECK(h.watermark_lag_ns >= w.written_at_ns - w.watermark_ns);
  CHECK(h.watermark_error.empty());

  // Nothing new: nothing written. Then the open window is sealed and
  // synced: T moves to the next pending record.
  REQUIRE(engine->WriteWatermark().ok());
  CHECK(up.faults.PutsOf(kKey) == 1);
  AddOpenWindow(ts, 4);
  SealWindow(ts, 3);
  engine->Kick();
  AwaitAllSynced(ts, *engine);
  REQUIRE(engine->WriteWatermark().ok());
  CHECK(up.faults.PutsOf(kKey) == 2);
  CHECK(Upstreamed(up).watermark_ns == kT0 + 240 * kSec);
  CHECK(Upstreamed(up).records_confirmed == 3 * 80 + 20);

  // Everything confirmed, nothing pending: T is the wall clock minus the lag.
  SealWindow(ts, 4);
  engine->Kick();
  AwaitAllSynced(ts, *engine);
  REQUIRE(engine->WriteWatermark().ok());
  const Watermark idle = Upstreamed(up);
  CHECK(idle.watermark_ns == idle.written_at_ns - 60 * kSec);
  engine->Stop();
  CheckUpstreamEqualsStore(ts, up);
}

TEST_CASE("records arriving for times before T are counted late and move no watermark backwards") {
  TestStore ts;
  ts.AddWindow(0);
  AddOpenWindow(ts, 2);
  Upstream up;
  FakeClock clock;
  auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
  AwaitAllSynced(ts, *engine);
  REQUIRE(engine->WriteWatermark().ok());
  const std::int64_t t = kT0 + 120 * kSec;
  REQUIRE(Upstreamed(up).watermark_ns == t);

  // Two records for window 0 (before T) and one at T arrive now: the store
  // puts the first two in the late partition of the current window.
  REQUIRE(ts.store->Append({{ts.temp, kT0 + 5 * kSec, 99.0},
                            {ts.count, kT0 + 6 * kSec, std::int64_t{99}},
                            {ts.temp, t, 100.0}})
              .Wait()
              .ok());
  // Pending below T: T stays where it was.
  REQUIRE(engine->WriteWatermark().ok());
  CHECK(Upstreamed(up).watermark_ns == t);
  SealWindow(ts, 2);
  engine->Kick();
  AwaitAllSynced(ts, *engine);
  REQUIRE(engine->WriteWatermark().ok());
  const Watermark w = Upstreamed(up);
  CHECK(w.late_records == 2);
  CHECK(w.watermark_ns > t);  // nothing pending any more
  CHECK(engine->health().watermark_late_records == 2);
  engine->Stop();
}

TEST_CASE("after a restart T resumes from the state file, or from upstream when that is lost, "
          "and counts go on") {
  TestStore ts;
  ts.AddWindow(0);
  AddOpenWindow(ts, 2);
  Upstream up;
  FakeClock clock;
  const auto state = ts.dir.path() / "sync_watermark.json";
  std::int64_t t = 0;
  {
    auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
    AwaitAllSynced(ts, *engine);
    REQUIRE(engine->WriteWatermark().ok());
    t = Upstreamed(up).watermark_ns;
    CHECK(t == kT0 + 120 * kSec);
  }
  // The store restarts; a record for window 0 arrives: older than T.
  ts.store.reset();
  ts.Open();
  REQUIRE(ts.store->Append({{ts.temp, kT0 + 1 * kSec, -1.0}}).Wait().ok());
  for (const auto& p : ts.store->ListPartitions(store::PartitionState::kOpen)) {
    if (p.id.late) REQUIRE(ts.store->Seal(p.id).ok());
  }
  {
    auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
    AwaitAllSynced(ts, *engine);
    REQUIRE(engine->WriteWatermark().ok());
    const Watermark w = Upstreamed(up);
    CHECK(w.watermark_ns == t);  // window 2 is still open
    CHECK(w.late_records == 1);  // the threshold came back with the state file
    CHECK(w.records_confirmed == 80 + 1);
  }

  SUBCASE("state file lost: the upstream object keeps T") {
    std::filesystem::remove(state);
  }
  SUBCASE("state file damaged: the engine starts, says so, and T comes from upstream") {
    std::ofstream(state) << "{\"format\": \"sluice-watermark\", \"vers";
  }
  // Even with all data pending from long before T, T does not regress.
  REQUIRE(ts.store->Append({{ts.temp, kT0 - 3600 * kSec, -2.0}}).Wait().ok());
  auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
  REQUIRE(engine->WriteWatermark().ok());
  const Watermark w = Upstreamed(up);
  CHECK(w.watermark_ns == t);
  CHECK(w.records_confirmed >= 80 + 1);  // upstream counts carried on
  CHECK(w.late_records >= 1);
  CHECK(ParseWatermark(ReadText(state)).ok());  // rewritten whole
}

TEST_CASE("a failed watermark write is reported, retried, and T is saved before it goes up") {
  TestStore ts;
  ts.AddWindow(0);
  Upstream up;
  FakeClock clock;
  up.faults.policy = [](int, const std::string& key, int) {
    return key == kKey ? Fault::kFail : Fault::kPass;
  };
  auto engine = MustOpen(ts, up, WatermarkOptions(ts), clock.Context());
  AwaitAllSynced(ts, *engine);
  CHECK_FALSE(engine->WriteWatermark().ok());
  SyncHealth h = engine->health();
  CHECK(h.watermark_error.find("503") != std::string::npos);
  CHECK(h.watermark_ns == 0);
  CHECK(ParseWatermark(ReadText(ts.dir.path() / "sync_watermark.json")).ok());
  CHECK_FALSE(std::filesystem::exists(up.dir.path() / kKey));

  up.faults.policy = [](int, const std::string&, int) { return Fault::kPass; };
  REQUIRE(engine->WriteWatermark().ok());
  h = engine->health();
  CHECK(h.watermark_error.empty());
  CHECK(h.watermark_ns == Upstreamed(up).watermark_ns);
}

TEST_CASE("the engine writes the watermark every watermark_interval by itself, 0 turns it off") {
  TestStore ts;
  ts.AddWindow(0);
  Upstream up;
  auto o = WatermarkOptions(ts);
  o.watermark_interval = std::chrono::seconds(1);
  {
    auto engine = MustOpen(ts, up, o);  // real clocks
    REQUIRE(Await([&] { return engine->health().watermark_ns != 0; }));
    CHECK(std::filesystem::exists(up.dir.path() / kKey));
  }
  TestStore quiet;
  quiet.AddWindow(0);
  Upstream none;
  o.watermark_interval = std::chrono::seconds(0);
  auto engine = MustOpen(quiet, none, o);
  AwaitAllSynced(quiet, *engine);
  CHECK(engine->WriteWatermark().code() == StatusCode::kUnsupported);
  engine->Stop();
  CHECK_FALSE(std::filesystem::exists(none.dir.path() / "raw" / "_watermarks"));
  CHECK(none.faults.sinks_opened == 2);  // no sink for watermarks

  o.watermark_interval = std::chrono::seconds(86'401);
  CHECK_FALSE(o.Validate().ok());
  o.watermark_interval = std::chrono::seconds(60);
  o.watermark_min_lag = std::chrono::seconds(86'401);
  CHECK_FALSE(o.Validate().ok());
}

}  // namespace
}  // namespace sluice::sync
