// store_bench baselines: RocksDB with its WAL on and sync=true writes of the
// same batches, fio's sequential O_DIRECT bandwidth, and the machine's
// thread wake-up latency.
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "store_bench.h"

namespace sluice::store_bench {

void RunRocksDb(const Args& a, const Workload& w, const Shape& shape, Result& r) {
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
  Drive(shape, w, r, [&](std::size_t first, std::size_t last, auto done) {
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
  fs::remove_all(dir);
}

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

std::vector<double> WakeUpLatencies(int rounds) {
  std::mutex m;
  std::condition_variable cv;
  Clock::time_point sent;
  int turn = 0;  // odd: the waiter's move
  std::vector<double> us;
  us.reserve(static_cast<std::size_t>(rounds));
  std::thread waiter([&] {
    for (int i = 0; i < rounds; ++i) {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return turn % 2 == 1; });
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - sent).count());
      ++turn;
      cv.notify_all();
    }
  });
  for (int i = 0; i < rounds; ++i) {
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return turn % 2 == 0; });
    sent = Clock::now();
    ++turn;
    lock.unlock();
    cv.notify_all();
    // Give the waiter time to sleep again, as an appender gives the commit
    // thread between batches.
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  waiter.join();
  return us;
}

}  // namespace sluice::store_bench
