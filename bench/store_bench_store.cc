// store_bench's runs of the store itself: the store opened on an Env that
// counts what it writes by kind of file, a workload driven through it,
// then reopened and read back; and the registry run. store_bench.cc has the
// runs' order, the report and the verdicts.
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "store_bench.h"

namespace sluice::store_bench {
namespace {

// --- Counting what the store writes, by kind of file.

enum class Kind { kWal, kSegment, kMeta };

Kind KindOf(const std::string& path) {
  const std::string name = fs::path(path).filename().string();
  if (name.starts_with("wal-")) return Kind::kWal;
  if (name.starts_with("seg-")) return Kind::kSegment;
  return Kind::kMeta;
}

class CountingFile final : public st::File {
 public:
  CountingFile(std::unique_ptr<st::File> base, IoCounts* c) : base_(std::move(base)), c_(c), kind_(KindOf(base_->path())) {}
  sluice::Status WriteAndSync(std::span<const st::WriteSlice> slices) override {
    std::uint64_t n = 0;
    for (const auto& s : slices) n += s.data.size();
    Count(n);
    return base_->WriteAndSync(slices);
  }
  sluice::Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    Count(data.size());
    return base_->Write(offset, data);
  }
  sluice::Status Sync() override { return base_->Sync(); }
  sluice::Result<std::size_t> Read(std::uint64_t offset, std::span<std::byte> data) override {
    return base_->Read(offset, data);
  }
  sluice::Status Preallocate(std::uint64_t size, sluice::store::Preallocation how) override {
    auto now = base_->Size();
    if (how == sluice::store::Preallocation::kWriteZeros && now.ok() && size > *now) {
      (kind_ == Kind::kWal ? c_->wal_zeros : c_->segment_zeros) += size - *now;
    }
    return base_->Preallocate(size, how);
  }
  sluice::Result<std::uint64_t> Size() override { return base_->Size(); }
  const std::string& path() const override { return base_->path(); }

 private:
  void Count(std::uint64_t n) {
    (kind_ == Kind::kWal ? c_->wal : kind_ == Kind::kSegment ? c_->segment : c_->meta) += n;
  }
  std::unique_ptr<st::File> base_;
  IoCounts* c_;
  Kind kind_;
};

class CountingRegion final : public st::PersistentRegion {
 public:
  CountingRegion(std::unique_ptr<st::PersistentRegion> base, IoCounts* c) : base_(std::move(base)), c_(c) {}
  sluice::Status Write(std::uint64_t offset, std::span<const std::byte> data) override {
    c_->pmem += data.size();
    return base_->Write(offset, data);
  }
  sluice::Status Flush(std::uint64_t offset, std::uint64_t size) override { return base_->Flush(offset, size); }
  sluice::Status Drain() override { return base_->Drain(); }
  std::span<const std::byte> bytes() const override { return base_->bytes(); }
  st::PersistGranularity granularity() const override { return base_->granularity(); }
  const std::string& path() const override { return base_->path(); }

 private:
  std::unique_ptr<st::PersistentRegion> base_;
  IoCounts* c_;
};

class CountingEnv final : public st::Env {
 public:
  CountingEnv(st::Env* base, IoCounts* c) : base_(base), c_(c) {}
  sluice::Result<std::unique_ptr<st::File>> OpenFile(const std::string& path, st::FileOptions o) override {
    auto f = base_->OpenFile(path, o);
    if (!f.ok()) return f.status();
    return std::unique_ptr<st::File>(std::make_unique<CountingFile>(std::move(*f), c_));
  }
  sluice::Status CreateDirs(const std::string& p) override { return base_->CreateDirs(p); }
  sluice::Status SyncDir(const std::string& p) override { return base_->SyncDir(p); }
  sluice::Status Rename(const std::string& a, const std::string& b) override { return base_->Rename(a, b); }
  sluice::Status Remove(const std::string& p) override { return base_->Remove(p); }
  sluice::Result<std::vector<std::string>> ListDir(const std::string& d) override { return base_->ListDir(d); }
  bool Exists(const std::string& p) override { return base_->Exists(p); }
  st::IoEngine io_engine() const override { return base_->io_engine(); }
  sluice::Result<std::unique_ptr<st::PersistentRegion>> MapPersistent(const std::string& path,
                                                                      std::uint64_t size) override {
    auto r = base_->MapPersistent(path, size);
    if (!r.ok()) return r.status();
    return std::unique_ptr<st::PersistentRegion>(std::make_unique<CountingRegion>(std::move(*r), c_));
  }

 private:
  st::Env* base_;
  IoCounts* c_;
};


}  // namespace

RegistryResult RunRegistry(const Args& a) {
  constexpr std::size_t kBatch = 100'000;
  RegistryResult r;
  r.series = a.series;
  r.one_by_one = std::min<std::size_t>(a.series, 2000);
  std::vector<std::string> names;
  for (std::size_t i = 0; i < a.series; ++i) {
    names.push_back("site-7/line-" + std::to_string(i / 1000) + "/tag-" + std::to_string(i));
  }
  auto open = [&](const std::string& sub) {
    const std::string dir = a.dir + "/" + sub;
    fs::remove_all(dir);
    st::Options o;
    o.dir = fs::absolute(dir).string();
    auto s = st::Store::Open(o);
    if (!s.ok()) Fail("open", s.status());
    return std::move(*s);
  };
  {
    auto store = open("registry-batch");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < names.size(); i += kBatch) {
      std::vector<st::SeriesSpec> specs;
      for (std::size_t j = i; j < std::min(names.size(), i + kBatch); ++j) {
        specs.push_back({names[j], st::ValueType::kFloat64, "degC"});
      }
      for (const auto& id : store->RegisterSeriesBatch(specs)) {
        if (!id.ok()) Fail("register", id.status());
      }
    }
    r.batch_s = std::chrono::duration<double>(Clock::now() - t0).count();
    (void)store->Close();
  }
  {
    auto store = open("registry-one");
    const auto t0 = Clock::now();
    for (std::size_t i = 0; i < r.one_by_one; ++i) {
      auto id = store->RegisterSeries(names[i], st::ValueType::kFloat64, "degC");
      if (!id.ok()) Fail("register", id.status());
    }
    r.one_s = std::chrono::duration<double>(Clock::now() - t0).count();
    (void)store->Close();
  }
  fs::remove_all(a.dir + "/registry-batch");
  fs::remove_all(a.dir + "/registry-one");
  return r;
}


namespace {

std::unique_ptr<st::Env> PosixEnv() {
  auto env = st::NewPosixEnv(st::IoEngine::kAuto);
  if (!env.ok()) Fail("env", env.status());
  return std::move(*env);
}

// CPU time of the whole process so far (all threads), seconds.
double CpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

}  // namespace

void RunSluice(const Args& a, const Workload& w, const Shape& shape, bool pmem, Result& r,
               std::chrono::microseconds pmem_spin) {
  const std::string dir = a.dir + "/sluice";
  fs::remove_all(dir);
  st::Options o;
  o.dir = fs::absolute(dir).string();
  // Values of 4 KiB and more go straight to blocks (large_value_bytes, on
  // by default at 4 KiB).
  if (w.type == st::ValueType::kBytes) o.max_value_bytes = 64 << 10;
  if (a.block_size != 0) o.block_size = a.block_size;
  if (pmem) {
    // Emulated persistent memory: a tmpfs file that libpmem2 is told to
    // treat as cache-line persistent. Measures the code path, not a device.
    setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
    o.write_buffer = st::WriteBufferMode::kPmem;
    o.pmem_path = "/dev/shm/sluice-store-bench.pmem";
    o.pmem_size = 256ull << 20;
    o.pmem_max_spin = pmem_spin;
    fs::remove(o.pmem_path);
  }
  auto base = PosixEnv();
  IoCounts counts;
  CountingEnv env(base.get(), &counts);
  std::atomic<std::int64_t> clock{w.records.front().timestamp_ns};
  st::StoreContext ctx;
  ctx.env = &env;
  ctx.now_ns = [&clock] { return clock.load(std::memory_order_relaxed); };
  auto store = st::Store::Open(o, ctx);
  if (!store.ok()) Fail("open", store.status());
  std::vector<st::SeriesSpec> specs;
  for (const auto& n : w.series) specs.push_back({n, w.type, ""});
  for (const auto& id : (*store)->RegisterSeriesBatch(specs)) {
    if (!id.ok()) Fail("register", id.status());
  }
  // Runs measure a settled store: in the first half second after a fresh
  // store opens, durable acks come slower (latency wal p50 220-235 us
  // against 160-175 us after 500 ms here). Registering the series one at a
  // time, a sync each, used to take that long before the runs started.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const IoBytes at_start = IoBytes::Of(counts);
  const std::uint64_t before = WriteBytes();
  const double cpu0 = CpuSeconds();
  Drive(shape, w, r, [&](std::size_t first, std::size_t last, auto done) {
    Batch b = w.Slice(first, last);
    const std::int64_t t = b.back().timestamp_ns;
    for (std::int64_t seen = clock.load(std::memory_order_relaxed);
         seen < t && !clock.compare_exchange_weak(seen, t);) {
    }
    (*store)->Append(std::move(b), [done](const sluice::Status& s) {
      if (!s.ok()) std::fprintf(stderr, "append failed: %s\n", s.ToString().c_str());
      done();
    });
  });
  r.cpu_s = CpuSeconds() - cpu0;
  if (pmem) {
    // The store open and idle: what its threads cost when nothing comes.
    const double idle0 = CpuSeconds();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    r.idle_cpu_pct = 100 * (CpuSeconds() - idle0);
  }
  const auto s = (*store)->stats();
  r.dram_bytes = s.dram_index_bytes;
  r.groups = s.commit_groups;
  // Bytes count up to the end of Close: the blocks written then (records
  // that were still in DRAM) are part of the workload's cost.
  if (sluice::Status closed = (*store)->Close(); !closed.ok()) Fail("close", closed);
  r.device_bytes = WriteBytes() - before;
  // Only what the workload caused counts: not opening, not registering.
  r.io = IoBytes::Of(counts) - at_start;
  const auto end = (*store)->stats();
  r.blocks = end.blocks_written;
  r.block_bytes = end.block_bytes_written;
  store->reset();
  const auto t0 = Clock::now();
  auto again = st::Store::Open(o, ctx);
  r.reopen_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  if (!again.ok()) Fail("reopen", again.status());
  {
    // One record of the workload's first series, at its last timestamp.
    const Record last = w.At(w.size() - 1);
    sluice::Status acked = (*again)->Append({last}).Wait();
    if (!acked.ok()) Fail("append after reopen", acked);
    r.first_ack_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    while (!(*again)->stats().index_ready) std::this_thread::sleep_for(std::chrono::microseconds(200));
    r.index_ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  }
  const auto r0 = Clock::now();
  for (const auto& part : (*again)->ListPartitions()) {
    ++r.read_partitions;
    const sluice::Status read = (*again)->ReadPartition(part.id, [&](const Record&) {
      ++r.read_records;
      return true;
    });
    if (!read.ok()) Fail("read partition", read);
  }
  r.read_ms = std::chrono::duration<double, std::milli>(Clock::now() - r0).count();
  again->reset();
  if (pmem) fs::remove(o.pmem_path);
  fs::remove_all(dir);
}

}  // namespace sluice::store_bench
