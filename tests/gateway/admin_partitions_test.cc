// /v1/partitions: the store's partitions newest first, by state, paged, with
// the upload state the sync engine reports (a stand-in engine here, so
// that each state is there on purpose), and through a running gateway.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "admin_test_util.h"
#include "base/clock.h"
#include "gateway/admin/admin_util.h"
#include "gateway/admin/partitions_api.h"
#include "sync/export.h"

namespace sluice::gateway {
namespace {

using testing::AppFixture;
using testing::Get;

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kHour = 3600 * kSecond;

// Answers UploadStates with what the test put there.
class FakeEngine final : public sync::SyncEngine {
 public:
  std::map<store::PartitionId, sync::PartitionUpload> uploads;
  void Kick() override {}
  sync::SyncHealth health() const override { return {}; }
  std::map<store::PartitionId, sync::PartitionUpload> UploadStates() const override {
    return uploads;
  }
  Status WriteWatermark() override { return Status::Ok(); }
  void Stop() override {}
};

AdminResponse Serve(const store::Store& s, const sync::SyncEngine* e, const std::string& target) {
  auto r = admin::ParseTarget(target);
  REQUIRE(r.ok());
  return admin::ServePartitions(s, e, kHour, *r);
}

bool Has(const AdminResponse& r, const std::string& s) {
  return r.body.find(s) != std::string::npos;
}

// The JSON object of the partition `id` in `body`, up to its upload object.
std::string EntryOf(const std::string& body, const store::PartitionId& id) {
  const auto at = body.find("{\"id\":\"" + admin::PartitionIdText(id) + "\"");
  if (at == std::string::npos) return "";
  return body.substr(at, body.find("}}", at) + 2 - at);
}

// A gateway whose store holds one partition in each state, a late one and
// a few more open ones: records of 32 series (8 shards) now, and of one
// series three hours ago (which goes to a late partition).
struct Fixture {
  AppFixture f;
  std::vector<store::PartitionInfo> before;  // as listed, after the state changes
  store::PartitionId sealed, synced, reclaimed, open;

  Fixture() {
    const std::int64_t now = WallNs();
    for (int i = 0; i < 32; ++i) f.Put("m/" + std::to_string(i), {{now, 1.0 * i}});
    f.Put("m/0", {{now - 3 * kHour, -1.0}});
    auto all = f.app->store().ListPartitions(store::PartitionState::kOpen);
    std::vector<store::PartitionInfo> regular;
    for (const auto& p : all) {
      if (!p.id.late) regular.push_back(p);
    }
    REQUIRE(regular.size() >= 4);
    sealed = regular[0].id;
    synced = regular[1].id;
    reclaimed = regular[2].id;
    open = regular[3].id;
    store::Store& s = f.app->store();
    REQUIRE(s.Seal(sealed).ok());
    REQUIRE(s.Seal(synced).ok());
    REQUIRE(s.MarkSynced(synced).ok());
    REQUIRE(s.Seal(reclaimed).ok());
    REQUIRE(s.MarkSynced(reclaimed).ok());
    REQUIRE(s.Reclaim(reclaimed).ok());
    before = s.ListPartitions();
  }
};

}  // namespace

TEST_CASE("partition ids read back, one spelling each") {
  const store::PartitionId a{1767225600LL * kSecond, 3, false};
  CHECK(admin::PartitionIdText(a) == "1767225600000000000-3-0");
  CHECK(admin::ParsePartitionId("1767225600000000000-3-0") == a);
  const store::PartitionId late{-3600 * kSecond, 0, true};
  CHECK(admin::PartitionIdText(late) == "-3600000000000-0-1");
  CHECK(admin::ParsePartitionId("-3600000000000-0-1") == late);
  for (const char* bad : {"", "1-2", "1-2-3", "x-0-0", "1-+2-0", "01-2-0", "1--2-0", "1-2-0-",
                          "1-99999999999-0", "-0-0"}) {
    CAPTURE(bad);
    CHECK_FALSE(admin::ParsePartitionId(bad));
  }
}

TEST_CASE("partitions are listed newest first with their states, counts and sizes") {
  Fixture x;
  const auto r = Serve(x.f.app->store(), nullptr, "/v1/partitions");
  REQUIRE(r.status == 200);
  std::map<store::PartitionState, int> counts;
  for (const auto& p : x.before) ++counts[p.state];
  CHECK(Has(r, "{\"total\":" + std::to_string(x.before.size()) +
                   ",\"counts\":{\"open\":" + std::to_string(counts[store::PartitionState::kOpen]) +
                   ",\"sealed\":1," + "\"synced\":1,\"reclaimed\":1},\"partitions\":[{\"id\":"));
  CHECK(Has(r, "\"next_after\":null}"));

  // Every partition, newest (greatest id) first, each with its fields.
  std::vector<store::PartitionInfo> want = x.before;
  std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return b.id < a.id; });
  std::size_t last_at = 0;
  for (const auto& p : want) {
    CAPTURE(admin::PartitionIdText(p.id));
    const auto at = r.body.find("{\"id\":\"" + admin::PartitionIdText(p.id) + "\"");
    REQUIRE(at != std::string::npos);
    CHECK(at >= last_at);
    last_at = at;
    const std::string e = EntryOf(r.body, p.id);
    CHECK(e == "{\"id\":\"" + admin::PartitionIdText(p.id) + "\",\"window_start_ns\":" +
                   std::to_string(p.id.window_start_ns) + ",\"window_start\":" +
                   admin::JsonString(sync::FormatRfc3339Nanos(p.id.window_start_ns)) +
                   ",\"window_ns\":" + std::to_string(kHour) + ",\"shard\":" +
                   std::to_string(p.id.shard) + ",\"late\":" + (p.id.late ? "true" : "false") +
                   ",\"state\":\"" + store::PartitionStateName(p.state) + "\",\"records\":" +
                   std::to_string(p.records) + ",\"blocks\":" + std::to_string(p.blocks) +
                   ",\"bytes\":" + std::to_string(p.block_bytes) + ",\"t_min_ns\":" +
                   std::to_string(p.t_min) + ",\"t_max_ns\":" + std::to_string(p.t_max) +
                   R"(,"upload":{"state":"none","attempts":0,"last_error":""}})");
  }
  CHECK(std::any_of(want.begin(), want.end(), [](const auto& p) { return p.id.late; }));
  CHECK(EntryOf(r.body, x.synced).find(R"("state":"synced","records":)") != std::string::npos);
  CHECK(EntryOf(r.body, x.sealed).find(R"("blocks":1,)") != std::string::npos);  // written at seal
}

TEST_CASE("partitions filter by state and page with next_after, never repeating or missing one") {
  Fixture x;
  const store::Store& s = x.f.app->store();
  const auto sealed = Serve(s, nullptr, "/v1/partitions?state=sealed");
  CHECK(Has(sealed, R"({"total":1,"counts":{)"));
  CHECK(Has(sealed, "\"partitions\":[{\"id\":\"" + admin::PartitionIdText(x.sealed) + "\""));
  CHECK(Has(Serve(s, nullptr, "/v1/partitions?state=reclaimed"), R"("state":"reclaimed")"));

  std::vector<store::PartitionId> want;
  for (const auto& p : x.before) {
    if (p.state == store::PartitionState::kOpen) want.push_back(p.id);
  }
  std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) { return b < a; });
  std::vector<store::PartitionId> seen;
  std::string after;
  for (int page = 0; page < 100; ++page) {
    const auto r = Serve(
        s, nullptr, "/v1/partitions?state=open&limit=2" + (after.empty() ? "" : "&after=" + after));
    REQUIRE(r.status == 200);
    CHECK(Has(r, "{\"total\":" + std::to_string(want.size()) + ","));
    for (const auto& id : want) {
      if (!EntryOf(r.body, id).empty()) seen.push_back(id);
    }
    const auto next = r.body.find("\"next_after\":\"");
    if (next == std::string::npos) {
      CHECK(Has(r, "\"next_after\":null}"));
      break;
    }
    after = r.body.substr(next + 14, r.body.find('"', next + 14) - next - 14);
  }
  CHECK(seen == want);

  const auto bad_state = Serve(s, nullptr, "/v1/partitions?state=done");
  CHECK(bad_state.status == 400);
  CHECK(Has(bad_state,
            "state: 'done' is not a partition state; allowed: open, sealed, synced, "
            "reclaimed"));
  CHECK(Serve(s, nullptr, "/v1/partitions?after=yesterday").status == 400);
  CHECK(Has(Serve(s, nullptr, "/v1/partitions?limit=0"), "limit: 0 is outside 1 .. 10000"));
  CHECK(Has(Serve(s, nullptr, "/v1/partitions?sate=open"), "unknown parameter 'sate'"));
  CHECK(Serve(s, nullptr, "/v1/partitions/x").status == 404);
}

TEST_CASE("each partition's upload state comes from the sync engine") {
  Fixture x;
  FakeEngine engine;
  engine.uploads[x.sealed] = {sync::UploadState::kParked, 3,
                              "PermissionDenied: s3: 403 AccessDenied"};
  const auto r = Serve(x.f.app->store(), &engine, "/v1/partitions");
  CHECK(
      EntryOf(r.body, x.sealed)
          .ends_with(
              R"("upload":{"state":"parked","attempts":3,"last_error":"PermissionDenied: s3: 403 AccessDenied"}})"));
  CHECK(EntryOf(r.body, x.open)
            .ends_with(R"("upload":{"state":"not sealed","attempts":0,"last_error":""}})"));
  CHECK(EntryOf(r.body, x.synced)
            .ends_with(R"("upload":{"state":"uploaded","attempts":0,"last_error":""}})"));
  CHECK(EntryOf(r.body, x.reclaimed)
            .ends_with(R"("upload":{"state":"uploaded",)"
                       R"("attempts":0,"last_error":""}})"));

  engine.uploads[x.sealed] = {sync::UploadState::kUploading, 4, "Unavailable: timeout"};
  CHECK(
      EntryOf(Serve(x.f.app->store(), &engine, "/v1/partitions").body, x.sealed)
          .ends_with(
              R"("upload":{"state":"uploading","attempts":4,"last_error":"Unavailable: timeout"}})"));
  // Sealed since the engine last looked: waiting, no attempt yet.
  engine.uploads.clear();
  CHECK(EntryOf(Serve(x.f.app->store(), &engine, "/v1/partitions").body, x.sealed)
            .ends_with(R"("upload":{"state":"waiting","attempts":0,"last_error":""}})"));
}

TEST_CASE("a running gateway serves /v1/partitions, with uploads from its own sync engine") {
  SUBCASE("without a sink every upload state is none") {
    Fixture x;
    const auto r = Get(x.f.port(), "/v1/partitions?state=sealed");
    CHECK(r.status == 200);
    CHECK(r.Has(R"("upload":{"state":"none","attempts":0,"last_error":""})"));
  }
  SUBCASE("with a directory sink a sealed partition becomes uploaded") {
    sluice::testing::TempDir sink("sluice-admin-sink");
    AppFixture f("",
                 "[sync]\nsink = \"dir\"\n[sync.dir]\nroot = \"" + sink.path().string() + "\"\n");
    f.Put("m/1", {{WallNs(), 1.0}});
    const auto open = f.app->store().ListPartitions(store::PartitionState::kOpen);
    REQUIRE_FALSE(open.empty());
    const std::string id = admin::PartitionIdText(open.front().id);
    CHECK(Get(f.port(), "/v1/partitions").Has(R"("upload":{"state":"not sealed")"));
    REQUIRE(f.app->store().Seal(open.front().id).ok());
    // The engine polls every second: bounded wait for its upload.
    bool uploaded = false;
    for (int i = 0; i < 300 && !uploaded; ++i) {
      const auto r = Get(f.port(), "/v1/partitions?state=synced");
      uploaded = r.Has("\"id\":\"" + id + "\"") && r.Has(R"("upload":{"state":"uploaded")");
      if (!uploaded) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(uploaded);
  }
}

}  // namespace sluice::gateway
