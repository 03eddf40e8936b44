// store_bench workloads: SKAB and NAB replayed as live sensors, a synthetic
// many-series generator, and large opaque values.
#include <cstdio>
#include <cstdlib>
#include <queue>
#include <random>

#include "base/clock.h"
#include "datasets.h"
#include "store_bench.h"

namespace sluice::store_bench {
namespace {
}  // namespace

Workload Replay(const Args& a) {
  using namespace sluice::sync::testing;
  Workload w;
  w.name = "replay";
  std::vector<CsvTable> tables;
  for (const auto& f : SkabFiles()) {
    auto t = LoadCsv(f, ';', 8);
    if (t.ok() && t->timestamps_ns.size() > 1) tables.push_back(std::move(*t));
  }
  const std::string nab = (a.datasets.empty() ? DatasetsDir() : a.datasets) +
                          "/nab/machine_temperature_system_failure.csv";
  if (auto t = LoadCsv(nab, ',', 1); t.ok() && t->timestamps_ns.size() > 1) tables.push_back(std::move(*t));
  if (tables.empty()) {
    std::fprintf(stderr, "store_bench: no dataset found under %s\n", DatasetsDir().c_str());
    std::exit(2);
  }
  std::vector<std::uint32_t> base;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    base.push_back(static_cast<std::uint32_t>(w.series.size() + 1));
    for (const auto& n : tables[t].names) w.series.push_back("f" + std::to_string(t) + "/" + n);
  }
  w.what = std::to_string(tables.size()) + " files (SKAB + NAB machine_temperature), " +
           std::to_string(w.series.size()) + " series";
  // Each file is a sensor group that started at t0 and loops over its own
  // span (plus one sampling interval); the groups run side by side.
  const std::int64_t t0 = WallNs() / 1'000'000'000 * 1'000'000'000;
  struct Cursor {
    std::int64_t next;
    std::size_t table, row, lap;
  };
  auto later = [](const Cursor& x, const Cursor& y) { return x.next > y.next; };
  std::priority_queue<Cursor, std::vector<Cursor>, decltype(later)> heap(later);
  std::vector<std::int64_t> period(tables.size());
  for (std::size_t t = 0; t < tables.size(); ++t) {
    const auto& ts = tables[t].timestamps_ns;
    period[t] = ts.back() - ts.front() + (ts.back() - ts.front()) / static_cast<std::int64_t>(ts.size() - 1);
    heap.push({t0, t, 0, 0});
  }
  w.records.reserve(a.records);
  while (w.records.size() < a.records) {
    Cursor c = heap.top();
    heap.pop();
    const auto& tab = tables[c.table];
    for (std::size_t col = 0; col < tab.columns.size() && w.records.size() < a.records; ++col) {
      w.records.push_back({SeriesId{base[c.table] + static_cast<std::uint32_t>(col)}, c.next, tab.columns[col][c.row]});
    }
    if (++c.row == tab.timestamps_ns.size()) {
      c.row = 0;
      ++c.lap;
    }
    c.next = t0 + static_cast<std::int64_t>(c.lap) * period[c.table] + tab.timestamps_ns[c.row] - tab.timestamps_ns.front();
    heap.push(c);
  }
  return w;
}

Workload Synthetic(const Args& a) {
  // Up to 20 M records are held in memory; more repeat them, later in time.
  constexpr std::size_t kHeld = 20'000'000;
  Workload w;
  w.name = "synthetic";
  w.what = std::to_string(a.series) + " float64 series, 1 point per series per second";
  for (std::size_t s = 0; s < a.series; ++s) w.series.push_back("site/dev" + std::to_string(s / 16) + "/ch" + std::to_string(s % 16));
  std::mt19937_64 rng(42);
  std::normal_distribution<double> step(0.0, 0.05);
  std::vector<double> level(a.series);
  for (auto& l : level) l = 20.0 + static_cast<double>(rng() % 1000) / 10.0;
  const std::int64_t t0 = WallNs() / 1'000'000'000 * 1'000'000'000;
  const std::size_t ticks_held = std::max<std::size_t>(1, kHeld / a.series);
  const std::size_t held = a.records <= kHeld ? a.records : ticks_held * a.series;
  w.records.reserve(held);
  for (std::int64_t tick = 0; w.records.size() < held; ++tick) {
    for (std::size_t s = 0; s < a.series && w.records.size() < held; ++s) {
      level[s] += step(rng);
      w.records.push_back({SeriesId{static_cast<std::uint32_t>(s + 1)}, t0 + tick * 1'000'000'000,
                           std::round(level[s] * 100.0) / 100.0});
    }
  }
  if (a.records > held) {
    w.total = a.records;
    w.repeat_ns = static_cast<std::int64_t>(ticks_held) * 1'000'000'000;
    w.what += " (" + std::to_string(held) + " generated, repeated " +
              std::to_string(ticks_held) + " s later each time)";
  }
  return w;
}

Workload Bytes(std::size_t value_bytes, std::size_t total_bytes) {
  Workload w;
  w.name = std::to_string(value_bytes / 1024) + " KiB values";
  w.type = st::ValueType::kBytes;
  w.payload = 8 + value_bytes;
  constexpr std::size_t kSeries = 64;
  w.what = std::to_string(kSeries) + " series of random " + std::to_string(value_bytes) + "-byte values";
  for (std::size_t s = 0; s < kSeries; ++s) w.series.push_back("cam/" + std::to_string(s));
  std::mt19937_64 rng(7);
  std::string blob(value_bytes + 4096, '\0');
  for (auto& ch : blob) ch = static_cast<char>(rng());
  const std::int64_t t0 = WallNs() / 1'000'000'000 * 1'000'000'000;
  const std::size_t n = total_bytes / value_bytes;
  for (std::size_t i = 0; i < n; ++i) {
    // Distinct values without generating each: windows of one random blob.
    Record r;
    r.series = SeriesId{static_cast<std::uint32_t>(1 + i % kSeries)};
    r.timestamp_ns = t0 + static_cast<std::int64_t>(i / kSeries) * 10'000'000;
    r.value = blob.substr(rng() % 4096, value_bytes);
    w.records.push_back(std::move(r));
  }
  return w;
}

// --- Running.

}  // namespace sluice::store_bench
