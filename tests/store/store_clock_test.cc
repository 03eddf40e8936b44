// A wall clock that jumps, by an hour or a year, forward and back, across
// restarts: partitions keep sealing, records land where docs/design.md says,
// and every jump is counted.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "crash_rig.h"
#include "store_context.h"

namespace sluice::store::crash {
namespace {

constexpr std::int64_t kHour = 3600 * kSecond;
constexpr std::int64_t kYear = 365 * 24 * kHour;


// A rig whose monotonic clock the test moves too: elapsed time is both
// clocks moving together, a jump is the wall clock moving alone.
struct ClockRig : Rig {
  ClockRig() { ctx.monotonic_ns = [this] { return mono.load(); }; }
  void Elapse(std::int64_t ns) {
    now += ns;
    mono += ns;
  }
  std::atomic<std::int64_t> mono{1'000 * kSecond};
};

// "Receive" timestamps: each record stamped with the wall clock, as the
// gateway does with timestamp = "receive".
void AppendAtNow(Store& store, ClockRig& rig, int records) {
  for (int i = 0; i < records; ++i) {
    const std::int64_t ts = rig.now.load() + i * 1'000'000;
    const std::uint32_t s = 1 + static_cast<std::uint32_t>(i % 4);
    rig.model.attempted.insert({s, ts});
    if (store.Append({{SeriesId{s}, ts, ValueOf(s, ts)}}).Wait().ok()) {
      rig.model.acked.insert({s, ts});
    }
  }
}

std::size_t OpenPartitions(const Store& store) {
  return store.ListPartitions(PartitionState::kOpen).size();
}

std::uint64_t LateRecords(const Store& store) {
  std::uint64_t n = 0;
  for (const auto& p : store.ListPartitions(std::nullopt)) n += p.id.late ? p.records : 0;
  return n;
}

}  // namespace

TEST_CASE("a clock once a year ahead: after a restart with the true clock, partitions seal within "
          "window plus grace and nothing is held for a year") {
  ClockRig rig;
  const std::int64_t truth = rig.now.load();
  rig.now = truth + kYear;
  {
    auto store = rig.Open();
    RegisterAll(*store, 4);
    AppendAtNow(*store, rig, 1000);
    rig.env.SetWriteError(StatusCode::kIoError);  // killed: the log holds them
  }
  REQUIRE(rig.env.DropUnsyncedData().ok());
  rig.env.ClearFaults();
  rig.now = truth;  // the true clock, after a restart
  auto store = rig.Open();
  AppendAtNow(*store, rig, 1000);
  // Records stamped now go to now's window, not to late partitions of a
  // window a year ahead.
  CHECK(LateRecords(*store) == 0);
  const auto window = std::chrono::nanoseconds(rig.options.partition_window).count();
  const auto grace = std::chrono::nanoseconds(rig.options.late_grace).count();
  rig.Elapse(window + grace + kSecond);
  // The window a year ahead took no record for a window plus grace: sealed
  // too, so that it can be synced. (The maintenance thread looks every
  // 200 ms; it must see the quiet begin before it can measure it.)
  std::this_thread::sleep_for(std::chrono::milliseconds(450));
  rig.Elapse(window + grace + kSecond);
  CHECK(Eventually([&] { return OpenPartitions(*store) == 0; }));
  for (const auto& p : store->ListPartitions(PartitionState::kSealed)) {
    CHECK(store->MarkSynced(p.id).ok());
  }
  Verify(*store, rig.model, 4);
  CHECK(rig.model.acked.size() == 2000);
}

TEST_CASE("jumps of an hour and a year, forward and back, are counted, and sealing goes on "
          "after each") {
  ClockRig rig;
  auto store = rig.Open();
  RegisterAll(*store, 4);
  const auto window = std::chrono::nanoseconds(rig.options.partition_window).count();
  const auto grace = std::chrono::nanoseconds(rig.options.late_grace).count();
  const std::int64_t jumps[] = {kHour, -kHour, kYear, -kYear, -kHour, kHour};
  std::uint64_t forward = 0, backward = 0;
  for (const std::int64_t jump : jumps) {
    CAPTURE(jump / kSecond);
    AppendAtNow(*store, rig, 200);
    // Let the maintenance thread see the clock before the step.
    const auto before = store->stats();
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    rig.now += jump;
    (jump > 0 ? forward : backward) += 1;
    CHECK(Eventually([&] {
      const auto s = store->stats();
      return s.clock_jumps_forward == forward && s.clock_jumps_backward == backward;
    }));
    CHECK(store->stats().last_clock_jump_ns / kSecond == jump / kSecond);
    (void)before;
    AppendAtNow(*store, rig, 200);
    // Whatever the step, within two windows plus grace of quiet every
    // partition seals.
    rig.Elapse(window + grace + kSecond);
    std::this_thread::sleep_for(std::chrono::milliseconds(450));
    rig.Elapse(window + grace + kSecond);
    CHECK(Eventually([&] { return OpenPartitions(*store) == 0; }));
  }
  REQUIRE(store->Close().ok());
  auto again = rig.Open();
  Verify(*again, rig.model, 4);
  CHECK(rig.model.acked.size() == 6 * 400);
}

TEST_CASE("arrival times stay monotonic through sub-second wobble of the wall clock") {
  ClockRig rig;
  auto store = rig.Open();
  RegisterAll(*store, 4);
  AppendAtNow(*store, rig, 10);
  rig.now -= 500'000'000;  // an NTP slew or a small step back
  AppendAtNow(*store, rig, 10);
  const auto s = store->stats();
  CHECK(s.clock_jumps_backward == 0);
  CHECK(LateRecords(*store) == 0);
  Verify(*store, rig.model, 4);
}

}  // namespace sluice::store::crash
