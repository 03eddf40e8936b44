// store_bench's shared parts: arguments, workloads, the driver that runs a
// workload through a store or a baseline, and results. See store_bench.cc
// for what the benchmark measures and how to run it.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"

namespace sluice::store_bench {

using Clock = std::chrono::steady_clock;
namespace fs = std::filesystem;
namespace st = sluice::store;
using st::Batch;
using st::Record;
using st::SeriesId;

struct Args {
  std::string dir = "build/bench-store";
  std::string datasets;
  std::size_t records = 2'000'000;
  int threads = 2;    // the machine's cores
  int batch = 100;
  int inflight = 64;  // batches in flight per thread
  std::size_t series = 100'000;
  std::uint64_t block_size = 0;  // 0: the store's default
  std::vector<std::string> only;
  bool rocksdb = true;
  bool fio = true;
  bool pmem = true;  // emulated in /dev/shm
  bool Wants(const std::string& run) const {
    return only.empty() || std::find(only.begin(), only.end(), run) != only.end();
  }
};

struct Workload {
  std::string name;
  std::string what;
  st::ValueType type = st::ValueType::kFloat64;
  std::vector<std::string> series;  // names, index + 1 = id
  std::vector<Record> records;
  std::size_t payload = 16;  // bytes per record: timestamp + value
  // More records than memory holds: `records` repeated up to `total`, each
  // repetition `repeat_ns` later than the one before. 0: just `records`.
  std::size_t total = 0;
  std::int64_t repeat_ns = 0;

  std::size_t size() const { return total != 0 ? total : records.size(); }
  Record At(std::size_t i) const {
    if (total == 0) return records[i];
    Record r = records[i % records.size()];
    r.timestamp_ns += static_cast<std::int64_t>(i / records.size()) * repeat_ns;
    return r;
  }
  Batch Slice(std::size_t first, std::size_t last) const {
    if (total == 0) {
      return Batch(records.begin() + static_cast<std::ptrdiff_t>(first),
                   records.begin() + static_cast<std::ptrdiff_t>(last));
    }
    Batch b;
    b.reserve(last - first);
    for (std::size_t i = first; i < last; ++i) b.push_back(At(i));
    return b;
  }
};

struct IoCounts {
  std::atomic<std::uint64_t> wal{0}, segment{0}, meta{0}, pmem{0};
  std::atomic<std::uint64_t> wal_zeros{0}, segment_zeros{0};  // preallocation
};

// A snapshot of IoCounts, or the difference of two.
struct IoBytes {
  std::uint64_t wal = 0, segment = 0, meta = 0, pmem = 0, wal_zeros = 0, segment_zeros = 0;
  static IoBytes Of(const IoCounts& c) {
    return {c.wal.load(), c.segment.load(), c.meta.load(), c.pmem.load(), c.wal_zeros.load(),
            c.segment_zeros.load()};
  }
  IoBytes operator-(const IoBytes& o) const {
    return {wal - o.wal, segment - o.segment, meta - o.meta, pmem - o.pmem,
            wal_zeros - o.wal_zeros, segment_zeros - o.segment_zeros};
  }
};

struct Result {
  std::string name;
  double seconds = 0;
  std::size_t records = 0;
  std::size_t payload = 16;
  std::vector<double> latencies_us;  // per batch, submit to durable ack (the callback)
  std::vector<double> submit_us;     // per batch, in the submitting call (Append)
  std::uint64_t device_bytes = 0;    // /proc/self/io
  std::uint64_t dram_bytes = 0;
  double reopen_ms = 0;     // Open after the run's Close
  double first_ack_ms = 0;  // Open, then one append durable
  double index_ms = 0;      // Open to the whole index loaded
  double cpu_s = 0;         // process CPU time during the run
  double idle_cpu_pct = 0;  // pmem runs: CPU % with the store open and idle for 1 s
  // Every partition read back after the reopen, as the sync engine reads
  // them (Store::ReadPartition).
  std::uint64_t read_records = 0, read_partitions = 0;
  double read_ms = 0;
  IoBytes io;  // what the store handed to its Env
  std::uint64_t groups = 0, blocks = 0, block_bytes = 0;
  double MBps() const { return static_cast<double>(records * payload) / 1e6 / seconds; }
  double Rate() const { return static_cast<double>(records) / seconds; }
};

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())))];
}

struct Shape {
  int threads, batch, inflight;
};

// Runs `shape.threads` writers over the workload in batches; `submit` starts
// one batch and calls `done` on the thread that learns it is durable, which
// timestamps it.
template <typename Submit>
void Drive(const Shape& shape, const Workload& w, Result& out, Submit&& submit) {
  std::mutex mu;
  std::vector<double> lat, in_submit;
  std::atomic<std::size_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < shape.threads; ++t) {
    threads.emplace_back([&] {
      std::vector<double> mine, mine_submit;
      std::mutex m;
      std::condition_variable cv;
      int inflight = 0;
      for (;;) {
        const std::size_t first = next.fetch_add(static_cast<std::size_t>(shape.batch));
        if (first >= w.size()) break;
        const std::size_t last = std::min(first + static_cast<std::size_t>(shape.batch), w.size());
        {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return inflight < shape.inflight; });
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
        mine_submit.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
      }
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return inflight == 0; });
      std::lock_guard g(mu);
      lat.insert(lat.end(), mine.begin(), mine.end());
      in_submit.insert(in_submit.end(), mine_submit.begin(), mine_submit.end());
    });
  }
  for (auto& th : threads) th.join();
  out.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  out.records = w.size();
  out.payload = w.payload;
  out.latencies_us = std::move(lat);
  out.submit_us = std::move(in_submit);
}

// Prints what failed and exits.
[[noreturn]] void Fail(const std::string& what, const sluice::Status& s);
// Bytes this process caused to be written to storage (/proc/self/io).
std::uint64_t WriteBytes();

// Workloads (store_bench_workloads.cc).
Workload Replay(const Args& a);
Workload Synthetic(const Args& a);
Workload Bytes(std::size_t value_bytes, std::size_t total_bytes);

// The store's runs (store_bench_store.cc). RunSluice: the workload through
// a fresh store (pmem: the write buffer on emulated persistent memory;
// `pmem_spin`, its commit thread's polling limit), then a reopen and a
// read back, all into `r`.
void RunSluice(const Args& a, const Workload& w, const Shape& shape, bool pmem, Result& r,
               std::chrono::microseconds pmem_spin = st::Options{}.pmem_max_spin);
// The registry run: seconds to register `names` in batches of 100,000 into
// a fresh store, and the rate of registering the first `one_by_one` of them
// one at a time into another.
struct RegistryResult {
  std::size_t series = 0, one_by_one = 0;
  double batch_s = 0, one_s = 0;
};
RegistryResult RunRegistry(const Args& a);

// Baselines (store_bench_baselines.cc).
void RunRocksDb(const Args& a, const Workload& w, const Shape& shape, Result& r);
// fio's sequential O_DIRECT write bandwidth on the same file system, MB/s.
double RunFio(const Args& a);
// One thread wakes another through a condition variable, as the store's
// appenders wake its commit thread: how long until the other runs, in us.
std::vector<double> WakeUpLatencies(int rounds);

}  // namespace sluice::store_bench
