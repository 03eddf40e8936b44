#include "sensor_sim/replay.h"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "temp_dir.h"

namespace sluice::sensor_sim {
namespace {

std::string WriteFile(const testing::TempDir& dir, const std::string& name,
                      const std::string& text) {
  const auto path = (dir.path() / name).string();
  std::ofstream(path) << text;
  return path;
}

std::int64_t Ms(const std::string& text) {
  auto t = ParseDateTimeMs(text);
  REQUIRE(t.ok());
  return *t;
}

// A clock the test moves by hand: every point due by `now` is taken, in
// order, each one at most `now` and strictly after the previous one.
struct Driven {
  std::vector<ReplayPoint> points;
  std::vector<std::size_t> due_per_step;
};
Driven Drive(ReplaySchedule& s, std::int64_t from_ms, std::int64_t step_ms, int steps) {
  Driven d;
  for (int i = 0; i < steps; ++i) {
    const std::int64_t now = from_ms + i * step_ms;
    auto due = s.Due(now);
    for (const auto& p : due) {
      CHECK(p.ts_ms <= now);
      if (!d.points.empty()) CHECK(p.ts_ms > d.points.back().ts_ms);
      d.points.push_back(p);
    }
    d.due_per_step.push_back(due.size());
  }
  return d;
}

constexpr std::int64_t kStart = 1'700'000'000'000;  // the wall clock when replay starts

}  // namespace

TEST_CASE("file timestamps read as UTC milliseconds, with 'T', a fraction and 'Z' accepted") {
  CHECK(Ms("1970-01-01 00:00:00") == 0);
  CHECK(Ms("2013-12-02 21:15:00") == 1'386'018'900'000);
  CHECK(Ms("2020-02-29T13:30:47.25Z") == Ms("2020-02-29 13:30:47") + 250);
  CHECK_FALSE(ParseDateTimeMs("2013-12-02").ok());
  CHECK_FALSE(ParseDateTimeMs("73.96732207").ok());
  CHECK_FALSE(ParseDateTimeMs("2013-13-02 21:15:00").ok());
  CHECK_FALSE(ParseDateTimeMs("2013-12-02 21:15:00+01:00").ok());
}

TEST_CASE("a NAB file gives its time column and one channel, a step back in time is skipped") {
  testing::TempDir dir;
  const auto path = WriteFile(dir, "nab.csv",
                              "timestamp,value\n"
                              "2014-01-07 02:50:00,93.39737409\n"
                              "2014-01-07 02:55:00,92.85599879\n"
                              "2014-01-07 02:00:00,94.13972336\n"
                              "2014-01-07 02:55:00,94.0\n"
                              "2014-01-07 03:00:00,94.11196982\n");
  auto d = LoadReplayData(path);
  REQUIRE(d.ok());
  CHECK(d->time_column == "timestamp");
  CHECK(d->channels == std::vector<std::string>{"value"});
  CHECK(d->rows() == 3);
  CHECK(d->skipped_rows == 2);
  CHECK(d->values[0] == std::vector<double>{93.39737409, 92.85599879, 94.11196982});
  CHECK(d->median_spacing_ms == 300'000);

  auto later = LoadReplayData(path, 4);
  REQUIRE(later.ok());
  CHECK(later->rows() == 1);
  CHECK(later->times_ms[0] == Ms("2014-01-07 03:00:00"));
}

TEST_CASE("a SKAB file: semicolon-separated, header names made topic levels, columns chosen") {
  testing::TempDir dir;
  const auto path = WriteFile(dir, "skab.csv",
                              "datetime;Accelerometer1RMS;Volume Flow RateRMS;anomaly\r\n"
                              "2020-03-09 10:14:33;0.0265;32.0;0.0\r\n"
                              "2020-03-09 10:14:34;0.0262;32.5;1.0\r\n");
  auto all = LoadReplayData(path);
  REQUIRE(all.ok());
  CHECK(all->time_column == "datetime");
  CHECK(all->channels ==
        std::vector<std::string>{"Accelerometer1RMS", "Volume_Flow_RateRMS", "anomaly"});
  CHECK(all->median_spacing_ms == 1000);

  auto two = LoadReplayData(path, 0, {"Volume Flow RateRMS", "Accelerometer1RMS"});
  REQUIRE(two.ok());
  CHECK(two->channels == std::vector<std::string>{"Volume_Flow_RateRMS", "Accelerometer1RMS"});
  CHECK(two->values[0] == std::vector<double>{32.0, 32.5});

  auto unknown = LoadReplayData(path, 0, {"Pressure"});
  CHECK(unknown.status().message().find("no numeric column 'Pressure'") != std::string::npos);
}

TEST_CASE("files without a time column, with ragged rows or no rows are refused with where") {
  testing::TempDir dir;
  CHECK(LoadReplayData(WriteFile(dir, "a.csv", "a,b\n1,2\n"))
            .status()
            .message()
            .find("no column reads as YYYY-MM-DD HH:MM:SS") != std::string::npos);
  CHECK(LoadReplayData(WriteFile(dir, "b.csv", "t,v\n2020-01-01 00:00:00,1\n2020-01-01 00:00:01\n"))
            .status()
            .message()
            .find("b.csv:3: 1 cells, the header has 2") != std::string::npos);
  CHECK_FALSE(LoadReplayData(WriteFile(dir, "c.csv", "t,v\n")).ok());
  CHECK_FALSE(LoadReplayData((dir.path() / "missing.csv").string()).ok());
}

TEST_CASE("5-minute rows at speedup 3000 are due every 100 ms from now, one at a time, in order") {
  std::vector<std::int64_t> times;
  for (int i = 0; i < 50; ++i) times.push_back(Ms("2013-12-02 21:15:00") + i * 300'000);
  ReplaySchedule s(times, 300'000, 3000, kStart);
  CHECK(s.RowsPerSecond() == doctest::Approx(10.0));

  CHECK(s.Due(kStart - 1).empty());
  const Driven d = Drive(s, kStart, 100, 50);  // 5 s of wall time in 100 ms steps
  REQUIRE(d.points.size() == 50);
  for (std::size_t i = 0; i < d.points.size(); ++i) {
    CHECK(d.points[i].row == i);
    CHECK(d.points[i].ts_ms == kStart + static_cast<std::int64_t>(i) * 100);
    CHECK(d.due_per_step[i] == 1);
  }
}

TEST_CASE("gaps in the file stay gaps, compressed, a clock that jumps gets every row due") {
  const std::int64_t t0 = Ms("2013-10-14 19:00:00");
  // Hourly, then a 32-hour gap, at speedup 36000: 100 ms steps, then 3.2 s.
  ReplaySchedule s({t0, t0 + 3'600'000, t0 + 7'200'000, t0 + 7'200'000 + 32 * 3'600'000}, 3'600'000,
                   36000, kStart);
  const auto due = s.Due(kStart + 10'000);
  REQUIRE(due.size() >= 4);
  CHECK(due[0].ts_ms == kStart);
  CHECK(due[1].ts_ms == kStart + 100);
  CHECK(due[2].ts_ms == kStart + 200);
  CHECK(due[3].ts_ms == kStart + 3'400);
  // A second pass follows one typical step (1 h: 100 ms) after the last row.
  CHECK(due[4].pass == 1);
  CHECK(due[4].row == 0);
  CHECK(due[4].ts_ms == kStart + 3'500);
  CHECK(due[5].ts_ms == kStart + 3'600);
}

TEST_CASE("passes repeat the file with timestamps still increasing at the same rate") {
  std::vector<std::int64_t> times;
  for (int i = 0; i < 7; ++i) times.push_back(Ms("2020-02-08 13:30:47") + i * 1000);
  ReplaySchedule s(times, 1000, 10, kStart);   // 1 s rows at speedup 10: 10 rows/s
  const Driven d = Drive(s, kStart, 50, 200);  // 10 s of wall time in 50 ms steps
  REQUIRE(d.points.size() == 100);
  for (std::size_t i = 0; i < d.points.size(); ++i) {
    CHECK(d.points[i].row == i % 7);
    CHECK(d.points[i].pass == i / 7);
    CHECK(d.points[i].ts_ms == kStart + static_cast<std::int64_t>(i) * 100);
  }
}

TEST_CASE("compression below a millisecond keeps timestamps strictly increasing") {
  // 1 s rows at speedup 4000 would all land on the start millisecond.
  ReplaySchedule s({0, 1000, 2000, 3000, 4000}, 1000, 4000, kStart);
  const auto due = s.Due(kStart + 4);
  REQUIRE(due.size() == 5);
  for (std::size_t i = 0; i < due.size(); ++i) {
    CHECK(due[i].ts_ms == kStart + static_cast<std::int64_t>(i));
  }
  CHECK(s.Next().ts_ms == kStart + 5);
}

TEST_CASE("a replayed point is one JSON message per channel, the value reading back exactly") {
  ReplayData d;
  d.channels = {"value", "Volume_Flow_RateRMS"};
  d.times_ms = {0, 1};
  d.values = {{74.93588199999998, 1e-7}, {std::nan(""), 32.0}};
  auto m = ReplayMessage("real", "nab-machine", d, 0, 0, kStart);
  CHECK(m.first == "real/nab-machine/value");
  CHECK(m.second == "{\"ts\":1700000000000,\"value\":74.93588199999998}");
  CHECK(std::strtod("74.93588199999998", nullptr) == 74.93588199999998);
  CHECK(ReplayMessage("real", "s", d, 0, 1, 5).second == "{\"ts\":5,\"value\":1e-07}");
  CHECK(ReplayMessage("real", "s", d, 1, 0, 5).second == "{\"ts\":5,\"value\":null}");
  CHECK(ReplayMessage("real", "s", d, 1, 1, 5).first == "real/s/Volume_Flow_RateRMS");
}

TEST_CASE("the shipped NAB sample replays at 10 rows per second with its own spacing") {
  const std::string dir = std::string(SLUICE_SOURCE_DIR) + "/data/samples/nab/";
  auto machine = LoadReplayData(dir + "machine_temperature_system_failure.csv");
  REQUIRE(machine.ok());
  CHECK(machine->rows() == 2500);
  CHECK(machine->skipped_rows == 0);
  CHECK(machine->median_spacing_ms == 300'000);
  auto ambient = LoadReplayData(dir + "ambient_temperature_system_failure.csv");
  REQUIRE(ambient.ok());
  CHECK(ambient->rows() == 2000);
  CHECK(ambient->median_spacing_ms == 3'600'000);

  ReplaySchedule m(machine->times_ms, machine->median_spacing_ms, 3000, kStart);
  ReplaySchedule a(ambient->times_ms, ambient->median_spacing_ms, 36000, kStart);
  CHECK(m.RowsPerSecond() == doctest::Approx(10.0));
  CHECK(a.RowsPerSecond() == doctest::Approx(10.0));
  const Driven dm = Drive(m, kStart, 1000, 60);  // a minute, one look per second
  CHECK(dm.points.size() == 591);                // rows 0..590: 590 steps of 100 ms
  for (std::size_t n : dm.due_per_step) CHECK(n >= 1);
  CHECK(dm.points.back().ts_ms == kStart + 59'000);
}

}  // namespace sluice::sensor_sim
