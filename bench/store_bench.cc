// store_bench: durable appends of real sensor data, Sluice against RocksDB
// (WAL on, sync=true, the same batches from the same threads, so it group-
// commits too) and against fio's sequential O_DIRECT write bandwidth on the
// same file system. Prints records/s, MB/s, durable-ack latency
// percentiles, device bytes per payload byte, DRAM per point, reopen time,
// and the ratios.
//
//   store_bench [--dir DIR] [--records N] [--threads T] [--batch B]
//               [--inflight K] [--datasets DIR] [--no-rocksdb] [--no-fio] [--no-pmem]
//
// Workload: SKAB (8 sensor columns per file) and NAB machine_temperature,
// replayed in a loop with shifted timestamps until N records.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datasets.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
using sluice::store::Batch;
using sluice::store::Record;
using sluice::store::SeriesId;

struct Args {
  std::string dir = "build/bench-store";
  std::string datasets;
  std::size_t records = 2'000'000;
  int threads = 4;
  int batch = 100;
  int inflight = 64;  // batches in flight per thread
  bool rocksdb = true;
  bool fio = true;
  bool pmem = true;  // emulated in /dev/shm
};

struct Workload {
  std::vector<std::string> series;  // names, index + 1 = id
  std::vector<Record> records;
  std::string files;
};

struct Result {
  std::string name;
  double seconds = 0;
  std::size_t records = 0;
  std::vector<double> latencies_us;  // per batch, submit to durable ack
  std::uint64_t device_bytes = 0;
  std::uint64_t dram_bytes = 0;
  double reopen_ms = 0;
};

// Bytes this process caused to be written to storage (/proc/self/io).
std::uint64_t WriteBytes() {
  std::ifstream in("/proc/self/io");
  std::string key;
  std::uint64_t v = 0;
  while (in >> key >> v) {
    if (key == "write_bytes:") return v;
  }
  return 0;
}

Workload Load(const Args& a) {
  using namespace sluice::sync::testing;
  Workload w;
  std::vector<CsvTable> tables;
  for (const auto& f : SkabFiles()) {
    auto t = LoadCsv(f, ';', 8);
    if (t.ok()) tables.push_back(std::move(*t));
  }
  const std::string nab = (a.datasets.empty() ? DatasetsDir() : a.datasets) +
                          "/nab/machine_temperature_system_failure.csv";
  if (auto t = LoadCsv(nab, ',', 1); t.ok()) tables.push_back(std::move(*t));
  w.files = std::to_string(tables.size()) + " files (SKAB + NAB machine_temperature)";
  if (tables.empty()) {
    std::fprintf(stderr, "store_bench: no dataset found under %s\n", DatasetsDir().c_str());
    std::exit(2);
  }
  // One series per (file, column); timestamps shifted by a lap each replay.
  std::vector<std::uint32_t> base;
  for (std::size_t t = 0; t < tables.size(); ++t) {
    base.push_back(static_cast<std::uint32_t>(w.series.size() + 1));
    for (const auto& n : tables[t].names) w.series.push_back("f" + std::to_string(t) + "/" + n);
  }
  std::int64_t lap_ns = 0;
  for (const auto& t : tables) {
    if (!t.timestamps_ns.empty()) {
      lap_ns = std::max(lap_ns, t.timestamps_ns.back() - t.timestamps_ns.front() + 1'000'000'000);
    }
  }
  w.records.reserve(a.records);
  for (std::int64_t lap = 0; w.records.size() < a.records; ++lap) {
    for (std::size_t t = 0; t < tables.size() && w.records.size() < a.records; ++t) {
      const auto& tab = tables[t];
      for (std::size_t r = 0; r < tab.timestamps_ns.size() && w.records.size() < a.records; ++r) {
        for (std::size_t c = 0; c < tab.columns.size() && w.records.size() < a.records; ++c) {
          w.records.push_back({SeriesId{base[t] + static_cast<std::uint32_t>(c)},
                               tab.timestamps_ns[r] + lap * lap_ns, tab.columns[c][r]});
        }
      }
    }
  }
  return w;
}

// Runs `threads` writers over the workload in batches; `submit` starts one
// batch and calls `done` when it is durable.
template <typename Submit>
void Drive(const Args& a, const Workload& w, Result& out, Submit&& submit) {
  std::mutex mu;
  std::vector<double> lat;
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < a.threads; ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      std::mutex m;
      std::condition_variable cv;
      int inflight = 0;
      for (;;) {
        const std::size_t first = next.fetch_add(a.batch);
        if (first >= w.records.size()) break;
        const std::size_t last = std::min(first + a.batch, w.records.size());
        {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return inflight < a.inflight; });
          ++inflight;
        }
        const auto t0 = Clock::now();
        submit(first, last, [&, t0] {
          const double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          std::lock_guard lock(m);
          mine.push_back(us);
          --inflight;
          cv.notify_one();
        });
      }
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return inflight == 0; });
      std::lock_guard g(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
    });
  }
  for (auto& th : threads) th.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.records = w.records.size();
  out.latencies_us = std::move(lat);
}

Result RunSluice(const Args& a, const Workload& w, bool pmem) {
  Result r;
  r.name = pmem ? "sluice pmem*" : "sluice wal";
  const std::string dir = a.dir + (pmem ? "/sluice-pmem" : "/sluice");
  fs::remove_all(dir);
  sluice::store::Options o;
  o.dir = fs::absolute(dir).string();
  if (pmem) {
    // Emulated persistent memory: a tmpfs file that libpmem2 is told to
    // treat as cache-line persistent. Measures the code path, not a device.
    setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
    o.write_buffer = sluice::store::WriteBufferMode::kPmem;
    o.pmem_path = "/dev/shm/sluice-store-bench.pmem";
    o.pmem_size = 256ull << 20;
    fs::remove(o.pmem_path);
  }
  auto store = sluice::store::Store::Open(o);
  if (!store.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", store.status().ToString().c_str());
    std::exit(1);
  }
  for (const auto& n : w.series) {
    (void)(*store)->RegisterSeries(n, sluice::store::ValueType::kFloat64, "");
  }
  const std::uint64_t before = WriteBytes();
  Drive(a, w, r, [&](std::size_t first, std::size_t last, auto done) {
    Batch b(w.records.begin() + static_cast<std::ptrdiff_t>(first),
            w.records.begin() + static_cast<std::ptrdiff_t>(last));
    (*store)->Append(std::move(b), [done](const sluice::Status& s) {
      if (!s.ok()) std::fprintf(stderr, "append failed: %s\n", s.ToString().c_str());
      done();
    });
  });
  r.device_bytes = WriteBytes() - before;
  const auto st = (*store)->stats();
  r.dram_bytes = st.dram_index_bytes;
  std::printf("  sluice: engine %s, %llu commit groups, %llu blocks\n", st.io_engine.c_str(),
              static_cast<unsigned long long>(st.commit_groups),
              static_cast<unsigned long long>(st.blocks_written));
  (void)(*store)->Close();
  store->reset();
  const auto t0 = Clock::now();
  auto again = sluice::store::Store::Open(o);
  r.reopen_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  again->reset();
  if (pmem) fs::remove(o.pmem_path);
  return r;
}

Result RunRocksDb(const Args& a, const Workload& w) {
  Result r;
  r.name = "rocksdb sync";
  const std::string dir = a.dir + "/rocksdb";
  fs::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  auto s = rocksdb::DB::Open(o, dir, &raw);
  if (!s.ok()) {
    std::fprintf(stderr, "rocksdb: %s\n", s.ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  const std::uint64_t before = WriteBytes();
  // RocksDB's Write is synchronous: each writer thread has one batch in
  // flight, and concurrent writers share WAL syncs (its group commit).
  Args one = a;
  one.inflight = 1;
  Drive(one, w, r, [&](std::size_t first, std::size_t last, auto done) {
    rocksdb::WriteBatch b;
    for (std::size_t i = first; i < last; ++i) {
      const Record& rec = w.records[i];
      char key[12];
      const std::uint32_t id = __builtin_bswap32(rec.series.value);
      const std::uint64_t ts = __builtin_bswap64(static_cast<std::uint64_t>(rec.timestamp_ns));
      std::memcpy(key, &id, 4);
      std::memcpy(key + 4, &ts, 8);
      const double v = std::get<double>(rec.value);
      b.Put(rocksdb::Slice(key, 12), rocksdb::Slice(reinterpret_cast<const char*>(&v), 8));
    }
    auto st = db->Write(wo, &b);
    if (!st.ok()) std::fprintf(stderr, "rocksdb write: %s\n", st.ToString().c_str());
    done();
  });
  r.device_bytes = WriteBytes() - before;
  std::string mem;
  db->GetProperty("rocksdb.cur-size-all-mem-tables", &mem);
  r.dram_bytes = std::strtoull(mem.c_str(), nullptr, 10);
  db.reset();
  const auto t0 = Clock::now();
  s = rocksdb::DB::Open(o, dir, &raw);
  r.reopen_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  delete raw;
  return r;
}

// fio's sequential O_DIRECT write bandwidth on the same file system, MB/s.
double RunFio(const Args& a) {
  const std::string file = a.dir + "/fio.dat";
  const std::string cmd = "fio --name=seq --filename=" + file +
                          " --rw=write --bs=1M --size=512M --direct=1 --ioengine=io_uring"
                          " --end_fsync=1 --output-format=terse --terse-version=3 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return 0;
  char line[8192] = {};
  std::string out;
  while (std::fgets(line, sizeof line, p)) out += line;
  pclose(p);
  fs::remove(file);
  // Terse v3: field 48 (1-based) is the write bandwidth in KiB/s.
  std::size_t pos = 0;
  for (int field = 1; field < 48 && pos != std::string::npos; ++field) pos = out.find(';', pos + 1);
  if (pos == std::string::npos) return 0;
  return std::strtod(out.c_str() + pos + 1, nullptr) * 1024 / 1e6;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * v.size()))];
}

void Print(const Result& r, std::size_t payload_per_record) {
  const double mb = static_cast<double>(r.records * payload_per_record) / 1e6;
  std::printf("%-14s %11.0f %8.1f %9.0f %9.0f %9.0f %10.2f %10.2f %9.1f\n", r.name.c_str(),
              r.records / r.seconds, mb / r.seconds, Percentile(r.latencies_us, 50),
              Percentile(r.latencies_us, 99), Percentile(r.latencies_us, 99.9),
              static_cast<double>(r.device_bytes) / (r.records * payload_per_record),
              static_cast<double>(r.dram_bytes) / r.records, r.reopen_ms);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto val = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (k == "--dir") a.dir = val();
    else if (k == "--records") a.records = std::stoull(val());
    else if (k == "--threads") a.threads = std::stoi(val());
    else if (k == "--batch") a.batch = std::stoi(val());
    else if (k == "--inflight") a.inflight = std::stoi(val());
    else if (k == "--datasets") a.datasets = val();
    else if (k == "--no-rocksdb") a.rocksdb = false;
    else if (k == "--no-fio") a.fio = false;
    else if (k == "--no-pmem") a.pmem = false;
    else {
      std::fprintf(stderr, "usage: store_bench [--dir DIR] [--records N] [--threads T] [--batch B]"
                           " [--inflight K] [--datasets DIR] [--no-rocksdb] [--no-fio] [--no-pmem]\n");
      return 2;
    }
  }
  fs::create_directories(a.dir);
  const Workload w = Load(a);
  constexpr std::size_t kPayload = 16;  // timestamp + float64
  std::printf("store_bench: %zu records from %s, %zu series, %d threads, batches of %d, "
              "%d in flight per thread, dir %s\n",
              w.records.size(), w.files.c_str(), w.series.size(), a.threads, a.batch,
              a.inflight, a.dir.c_str());
  std::printf("%-14s %11s %8s %9s %9s %9s %10s %10s %9s\n", "", "records/s", "MB/s", "p50 us",
              "p99 us", "p99.9 us", "dev B/B", "DRAM B/pt", "reopen ms");
  const Result s = RunSluice(a, w, false);
  Print(s, kPayload);
  if (a.pmem) {
    const Result pm = RunSluice(a, w, true);
    Print(pm, kPayload);
  }
  if (a.rocksdb) {
    const Result r = RunRocksDb(a, w);
    Print(r, kPayload);
    std::printf("sluice/rocksdb durable append rate: %.2fx\n",
                (s.records / s.seconds) / (r.records / r.seconds));
  }
  if (a.pmem) std::printf("* pmem emulated on tmpfs (PMEM2_FORCE_GRANULARITY=CACHE_LINE)\n");
  if (a.fio) {
    const double fio = RunFio(a);
    const double mbs = static_cast<double>(s.records * kPayload) / 1e6 / s.seconds;
    std::printf("fio sequential O_DIRECT write: %.1f MB/s; sluice payload MB/s / fio: %.2f\n", fio,
                fio > 0 ? mbs / fio : 0.0);
  }
  return 0;
}
