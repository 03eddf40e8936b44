// store_bench: durable appends into the store, against RocksDB (WAL on,
// sync=true, the same batches, so that it group-commits too) and against
// fio's sequential O_DIRECT write bandwidth on the same file system. Ends
// with a verdict per target of the store issue.
//
//   store_bench [--dir DIR] [--records N] [--threads T] [--batch B]
//               [--inflight K] [--series N] [--block-size BYTES]
//               [--datasets DIR] [--only RUN,...] [--no-rocksdb] [--no-fio]
//               [--no-pmem]
//
// Workloads (payload: 8 bytes of timestamp plus the value's bytes):
//   replay     SKAB (8 sensor columns per file) and NAB machine_temperature
//              as live sensors: each file loops over its own time span from
//              a common start, all merged in time order, until N records.
//   synthetic  --series float64 series (default 100,000), one point per
//              series per second, random walks with 2 decimals.
//   bytes      4 KiB and 16 KiB opaque values, random (incompressible).
// The store's clock follows the data (the greatest timestamp appended), as
// it would with live sensors, so that partitions seal as windows pass.
//
// Runs (names for --only):
//   wal, pmem    replay, T writer threads, K batches of B in flight each
//   rocksdb      replay, T threads with one batch in flight each (Write is
//                synchronous), and 16 threads (its group commit at its best)
//   one-writer   replay, wal, one thread, batches of 1000, 32 in flight
//   latency      replay, one thread, one batch of B in flight at a time: wal,
//                pmem, pmem with single-record batches; and the machine's
//                thread wake-up latency, which bounds any hand-off
//   synthetic    synthetic, wal, T threads; DRAM per point at many series
//   bytes        4 KiB and 16 KiB values, wal, T threads, against fio
//   registry     --series new series registered in batches of 100,000 (one
//                sync each), against one at a time (a sync each) for the
//                first 2,000 of them in another store
//
// "dev B/B" is what /proc/self/io counts as written to storage per payload
// byte; the breakdown below the table comes from counting what the store
// hands to its Env, by file kind.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store_bench.h"

namespace sluice::store_bench {

void Fail(const std::string& what, const sluice::Status& s) {
  std::fprintf(stderr, "store_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

std::uint64_t WriteBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  std::uint64_t v = 0;
  while (in >> key >> v) {
    if (key == "write_bytes:") return v;
  }
  return 0;
}

namespace {

std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

void PrintHeader() {
  std::printf("%-24s %11s %8s %9s %9s %9s %8s %9s %9s %8s %8s\n", "run", "records/s", "MB/s",
              "p50 us", "p99 us", "p99.9 us", "dev B/B", "DRAM B/pt", "reopen ms", "ack ms",
              "index ms");
}

void Print(const Result& r, bool show_submit = false) {
  const double payload = static_cast<double>(r.records * r.payload);
  std::printf("%-24s %11.0f %8.1f %9.1f %9.1f %9.1f %8.2f %9.2f %9.1f %8.1f %8.1f\n",
              r.name.c_str(), r.Rate(), r.MBps(), Percentile(r.latencies_us, 50),
              Percentile(r.latencies_us, 99), Percentile(r.latencies_us, 99.9),
              static_cast<double>(r.device_bytes) / payload,
              static_cast<double>(r.dram_bytes) / static_cast<double>(r.records), r.reopen_ms,
              r.first_ack_ms, r.index_ms);
  if (show_submit) {
    std::printf("%-24s %11s %8s %9.1f %9.1f %9.1f   (of which inside Append: check, encode, queue)\n",
                "  in Append", "", "", Percentile(r.submit_us, 50), Percentile(r.submit_us, 99),
                Percentile(r.submit_us, 99.9));
  }
  std::fflush(stdout);
}

// Where a run's bytes went, per payload byte; and the steady state, where
// log files are recycled (no preallocation) and segments are reserved, not
// written, before their blocks (any zeros a segment does get are counted).
double Breakdown(const Result& r) {
  const double p = static_cast<double>(r.records * r.payload);
  const auto per = [p](std::uint64_t v) { return static_cast<double>(v) / p; };
  const double steady = per(r.io.wal + r.io.segment + r.io.meta + r.io.segment_zeros);
  std::printf("  %-22s log %.3f + blocks %.3f + metadata %.3f + preallocation zeros: log %.3f, "
              "segments %.3f = %.3f (kernel counted %.3f); %llu commit groups of %.0f B, "
              "%llu blocks of %.0f B; steady state %.3f%s\n",
              r.name.c_str(), per(r.io.wal), per(r.io.segment), per(r.io.meta), per(r.io.wal_zeros),
              per(r.io.segment_zeros),
              per(r.io.wal + r.io.segment + r.io.meta + r.io.wal_zeros + r.io.segment_zeros),
              per(r.device_bytes), static_cast<unsigned long long>(r.groups),
              r.groups ? static_cast<double>(r.io.wal) / static_cast<double>(r.groups) : 0.0,
              static_cast<unsigned long long>(r.blocks),
              r.blocks ? static_cast<double>(r.block_bytes) / static_cast<double>(r.blocks) : 0.0,
              steady, r.io.pmem ? (", pmem " + std::to_string(per(r.io.pmem)).substr(0, 5)).c_str() : "");
  if (r.read_partitions > 0) {
    std::printf("  %-22s read back for sync: %llu records of %llu partitions in %.1f ms "
                "(%.2f M records/s)\n",
                "", static_cast<unsigned long long>(r.read_records),
                static_cast<unsigned long long>(r.read_partitions), r.read_ms,
                static_cast<double>(r.read_records) / r.read_ms / 1e3);
  }
  return steady;
}

struct Verdict {
  std::string target;
  double value = 0, goal = 0;
  bool higher_is_better = true;
  std::string unit, note;
  bool measured = true;
};

void PrintVerdict(const Verdict& v) {
  if (!v.measured) {
    std::printf("  %-46s not measured (%s)\n", v.target.c_str(), v.note.c_str());
    return;
  }
  const bool met = v.higher_is_better ? v.value >= v.goal : v.value <= v.goal;
  const double off = v.higher_is_better ? (v.goal - v.value) / v.goal : (v.value - v.goal) / v.goal;
  char how[96];
  if (met) {
    std::snprintf(how, sizeof how, "met");
  } else {
    std::snprintf(how, sizeof how, "MISSED by %.0f%%", off * 100);
  }
  std::printf("  %-46s %10.3g %-6s (target %s %g) %s%s%s\n", v.target.c_str(), v.value, v.unit.c_str(),
              v.higher_is_better ? ">=" : "<=", v.goal, how, v.note.empty() ? "" : ": ",
              v.note.c_str());
}

}  // namespace

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (k == "--dir") a.dir = val();
    else if (k == "--records") a.records = std::stoull(val());
    else if (k == "--threads") a.threads = std::stoi(val());
    else if (k == "--batch") a.batch = std::stoi(val());
    else if (k == "--inflight") a.inflight = std::stoi(val());
    else if (k == "--series") a.series = std::stoull(val());
    else if (k == "--block-size") a.block_size = std::stoull(val());
    else if (k == "--datasets") a.datasets = val();
    else if (k == "--only") {
      const std::string list = val();
      for (std::size_t p = 0; p <= list.size();) {
        const std::size_t q = std::min(list.find(',', p), list.size());
        if (q > p) a.only.push_back(list.substr(p, q - p));
        p = q + 1;
      }
    }
    else if (k == "--no-rocksdb") a.rocksdb = false;
    else if (k == "--no-fio") a.fio = false;
    else if (k == "--no-pmem") a.pmem = false;
    else {
      std::fprintf(stderr,
                   "usage: store_bench [--dir DIR] [--records N] [--threads T] [--batch B]"
                   " [--inflight K] [--series N] [--block-size BYTES] [--datasets DIR] [--only RUN,...]"
                   " [--no-rocksdb] [--no-fio] [--no-pmem]\n"
                   "runs: wal pmem rocksdb one-writer latency synthetic bytes\n");
      return 2;
    }
  }
  fs::create_directories(a.dir);
  const std::string load_start = LoadAverage();
  // The replay is held in memory whole: built only for the runs that use it.
  const bool replay_runs = a.Wants("wal") || a.Wants("pmem") || a.Wants("rocksdb") ||
                           a.Wants("one-writer") || a.Wants("latency");
  const Workload replay = replay_runs ? Replay(a) : Workload{};
  std::printf("store_bench: %zu records per run, %d threads, batches of %d, %d in flight per "
              "thread, dir %s; load average %s\n",
              a.records, a.threads, a.batch, a.inflight, a.dir.c_str(), load_start.c_str());
  if (replay_runs) std::printf("replay: %s\n", replay.what.c_str());
  PrintHeader();
  const Shape main_shape{a.threads, a.batch, a.inflight};
  std::vector<Verdict> verdicts;
  std::vector<const Result*> breakdowns;
  std::vector<std::unique_ptr<Result>> results;
  auto result = [&](std::string name) {
    results.push_back(std::make_unique<Result>());
    results.back()->name = std::move(name);
    return results.back().get();
  };

  Result* wal = nullptr;
  if (a.Wants("wal")) {
    wal = result("wal");
    RunSluice(a, replay, main_shape, false, *wal);
    Print(*wal);
    breakdowns.push_back(wal);
  }
  if (a.pmem && a.Wants("pmem")) {
    Result* r = result("pmem*");
    RunSluice(a, replay, main_shape, true, *r);
    Print(*r);
    breakdowns.push_back(r);
  }
  double rocks_best = 0;
  if (a.rocksdb && a.Wants("rocksdb")) {
    for (int threads : {a.threads, 16}) {
      Result* r = result("rocksdb sync x" + std::to_string(threads));
      RunRocksDb(a, replay, {threads, a.batch, 1}, *r);
      Print(*r);
      rocks_best = std::max(rocks_best, r->Rate());
    }
  }
  Result* one = nullptr;
  if (a.Wants("one-writer")) {
    one = result("wal, one writer");
    RunSluice(a, replay, {1, 1000, 32}, false, *one);
    Print(*one);
  }
  Result *lat_wal = nullptr, *lat_pmem = nullptr, *lat_pmem1 = nullptr;
  std::vector<double> wake;
  if (a.Wants("latency")) {
    Workload small = replay;
    const auto keep = [&small](std::size_t n) {
      if (small.records.size() > n) small.records.erase(small.records.begin() + static_cast<std::ptrdiff_t>(n), small.records.end());
    };
    keep(2000 * static_cast<std::size_t>(a.batch));
    lat_wal = result("latency wal");
    RunSluice(a, small, {1, a.batch, 1}, false, *lat_wal);
    Print(*lat_wal, true);
    breakdowns.push_back(lat_wal);
    if (a.pmem) {
      // 20,000 batches rather than 2,000: at tens of microseconds each, a
      // 99th percentile of 2,000 is the 20th slowest of a 30 ms run, and
      // moves by half from one run to the next on a virtual machine.
      small = replay;
      keep(20000 * static_cast<std::size_t>(a.batch));
      lat_pmem = result("latency pmem*");
      RunSluice(a, small, {1, a.batch, 1}, true, *lat_pmem);
      Print(*lat_pmem, true);
      keep(20000);
      lat_pmem1 = result("latency pmem*, 1/batch");
      RunSluice(a, small, {1, 1, 1}, true, *lat_pmem1);
      Print(*lat_pmem1, true);
      // The same two without the commit thread's polling: it parks after
      // every group, and each batch pays for waking it.
      small = replay;
      keep(20000 * static_cast<std::size_t>(a.batch));
      Result* park = result("latency pmem*, no spin");
      RunSluice(a, small, {1, a.batch, 1}, true, *park, std::chrono::microseconds(0));
      Print(*park, true);
      keep(20000);
      Result* park1 = result("latency pmem*, 1/b, no spin");
      RunSluice(a, small, {1, 1, 1}, true, *park1, std::chrono::microseconds(0));
      Print(*park1, true);
      std::printf("  CPU of the whole process per second of run (both cores = 200%%), and with the "
                  "store open and idle for 1 s after it:\n");
      for (const Result* x : {lat_pmem, lat_pmem1, park, park1}) {
        std::printf("    %-28s under load %5.1f %%   idle %4.1f %%\n", x->name.c_str(),
                    100 * x->cpu_s / x->seconds, x->idle_cpu_pct);
      }
    }
    wake = WakeUpLatencies(20000);
    std::printf("%-24s %11s %8s %9.1f %9.1f %9.1f   (condition variable hand-off, 20000 rounds)\n",
                "thread wake-up", "", "", Percentile(wake, 50), Percentile(wake, 99),
                Percentile(wake, 99.9));
  }
  Result* syn = nullptr;
  if (a.Wants("synthetic")) {
    const Workload w = Synthetic(a);
    std::printf("synthetic: %s\n", w.what.c_str());
    syn = result("synthetic " + std::to_string(a.series / 1000) + "k series");
    RunSluice(a, w, main_shape, false, *syn);
    Print(*syn);
    breakdowns.push_back(syn);
  }
  std::vector<Result*> bytes_runs;
  // fio runs before, between and after the targeted bytes runs, and each
  // run is compared with the mean of the two next to it: a virtual disk's
  // bandwidth drifts by a third within minutes.
  std::map<const Result*, double> fio_of;
  std::vector<double> fios;
  if (a.Wants("bytes")) {
    if (a.fio) fios.push_back(RunFio(a));
    // Each append is acknowledged once its group is synced, so that what
    // a writer gets is what it keeps in flight over the time a group takes
    // (its log commit, the group's copy, its write and sync). The targeted
    // runs keep 32 MiB in flight, half of open_blocks_bytes (the store's
    // limit on what waits for blocks); the last run shows a writer with
    // the other runs' 8 MiB.
    const int big = std::max(a.inflight, (32 << 20) / a.threads / (64 << 10));
    for (auto [kib, inflight] : {std::pair{4, big}, {16, big}, {4, a.inflight}}) {
      const Workload w = Bytes(static_cast<std::size_t>(kib) << 10, 512u << 20);
      const int mib = a.threads * inflight * 64 / 1024;
      Result* r = result(inflight == big ? w.name
                                         : w.name + ", " + std::to_string(mib) + " MiB in flight");
      // Batches of 64 KiB: a batch must fit a block (1 MiB).
      RunSluice(a, w, {a.threads, 64 / kib, inflight}, false, *r);
      Print(*r);
      std::printf("%-24s %d MiB in flight; CPU %.0f %% of one core\n", "", mib,
                  100 * r->cpu_s / r->seconds);
      breakdowns.push_back(r);
      if (inflight != big) continue;
      bytes_runs.push_back(r);
      if (!a.fio) continue;
      fios.push_back(RunFio(a));
      fio_of[r] = (fios[fios.size() - 2] + fios.back()) / 2;
    }
    if (a.fio) {
      std::printf("fio sequential O_DIRECT write, 1 MiB blocks, before, between and after the "
                  "runs above (MB/s):");
      for (double f : fios) std::printf(" %.1f", f);
      std::printf("\n");
    }
  }
  std::optional<RegistryResult> reg;
  if (a.Wants("registry")) {
    reg = RunRegistry(a);
    const double batch_rate = static_cast<double>(reg->series) / reg->batch_s;
    const double one_rate = static_cast<double>(reg->one_by_one) / reg->one_s;
    std::printf("registry: %zu series in batches of 100,000 in %.3f s (%.0f series/s); one at a "
                "time (first %zu): %.0f series/s; batch / one at a time: %.0fx\n",
                reg->series, reg->batch_s, batch_rate, reg->one_by_one, one_rate,
                batch_rate / one_rate);
  }
  if (a.pmem) std::printf("* pmem emulated on tmpfs (PMEM2_FORCE_GRANULARITY=CACHE_LINE)\n");

  std::printf("\nwhere the bytes go, per payload byte:\n");
  double steady = 0, syn_steady = 0;
  std::map<const Result*, double> steady_of;
  for (const Result* r : breakdowns) {
    const double s = Breakdown(*r);
    steady_of[r] = s;
    if (r == wal) steady = s;
    if (r == syn) syn_steady = s;
  }

  std::printf("\ntargets (load average %s at the start, %s at the end):\n", load_start.c_str(),
              LoadAverage().c_str());
  Verdict v;
  v = {"durable appends vs RocksDB (best of its runs)", 0, 5, true, "x", "", wal && rocks_best > 0};
  if (v.measured) v.value = wal->Rate() / rocks_best;
  else v.note = "needs the wal and rocksdb runs";
  PrintVerdict(v);
  v = {"one writer thread, wal", 0, 2e6, true, "rec/s", "", one != nullptr};
  if (one) v.value = one->Rate();
  else v.note = "needs the one-writer run";
  PrintVerdict(v);
  v = {"p99 durable-ack, wal, one batch in flight", 0, 2000, false, "us", "", lat_wal != nullptr};
  if (lat_wal) v.value = Percentile(lat_wal->latencies_us, 99);
  else v.note = "needs the latency run";
  PrintVerdict(v);
  v = {"p99 durable-ack, pmem*, one batch in flight", 0, 50, false, "us", "", lat_pmem != nullptr};
  if (lat_pmem) v.value = Percentile(lat_pmem->latencies_us, 99);
  else v.note = "needs the latency run with pmem";
  PrintVerdict(v);
  for (const Result* r : bytes_runs) {
    const double fio = fio_of.count(r) ? fio_of[r] : 0;
    v = {r->name + " vs fio bandwidth", 0, 80, true, "%", "", fio > 0};
    if (fio > 0) {
      v.value = 100 * r->MBps() / fio;
      v.note = "fio " + std::to_string(static_cast<int>(fio)) + " MB/s, the mean of the runs next "
               "to it";
    } else {
      v.note = "needs fio";
    }
    PrintVerdict(v);
    v = {r->name + ", device bytes per payload byte", steady_of[r], 1.1, false, "B/B",
         "written once, straight to blocks", true};
    PrintVerdict(v);
  }
  v = {"device bytes per payload byte, steady state", steady, 1.2, false, "B/B", "", wal != nullptr};
  if (!wal) v.note = "needs the wal run";
  PrintVerdict(v);
  if (wal) {
    v = {"device bytes per payload byte, as measured", static_cast<double>(wal->device_bytes) /
         static_cast<double>(wal->records * wal->payload), 1.2, false, "B/B",
         "includes preallocating files a short run never fills", true};
    PrintVerdict(v);
  }
  if (syn) {
    v = {"device bytes per payload byte at " + std::to_string(a.series) + " series, steady",
         syn_steady, 1.2, false, "B/B", "the synthetic run", true};
    PrintVerdict(v);
  }
  if (wal) {
    // After a clean stop; restarts after kill -9 on a week of data, with
    // the write buffer full, are recovery_bench's.
    v = {"reopen to the first durable ack, wal run", wal->first_ack_ms, 1000, false, "ms",
         "after Close; recovery_bench measures kill -9", true};
    PrintVerdict(v);
    v = {"reopen to the whole index, wal run", wal->index_ms, 5000, false, "ms", "", true};
    PrintVerdict(v);
  }
  if (reg) {
    v = {"registering 100,000 new series, durably", 100'000 * reg->batch_s /
         static_cast<double>(reg->series), 1.0, false, "s", "", true};
    v.note = "batches of 100,000, one sync each";
    PrintVerdict(v);
  }
  if (syn) {
    // The target is for 1 G points; the index is mostly per series (latest
    // value, a few block runs per partition), so it shrinks per point as a
    // run grows: --records 100000000 is the largest this disk takes quickly.
    v = {"DRAM index per point at " + std::to_string(a.series) + " series",
         static_cast<double>(syn->dram_bytes) / static_cast<double>(syn->records), 0.5, false,
         "B", "", true};
    v.note = std::to_string(syn->records) + " points, " +
             std::to_string(syn->dram_bytes / 1000000) + " MB; the target is at 1e9 points";
    PrintVerdict(v);
  }
  return 0;
}

}  // namespace sluice::store_bench

int main(int argc, char** argv) { return sluice::store_bench::Main(argc, argv); }
