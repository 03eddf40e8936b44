// Exhaustive fault sweeps over the store's operations, in the spirit of
// SQLite's I/O error tests and RocksDB's fault injection. For each operation
// (open, append, block write, segment creation, log roll, seal, mark-synced,
// reclaim, a clean stop with its index checkpoint, a batch of series
// registrations, batches of large values written straight to blocks) the sweep first runs it once on a fresh copy of a prepared store
// to count its mutating I/O calls N; then, for every k in 1..N (sampled in
// the default run, all with SLUICE_SWEEP_FULL=1), on a fresh copy each time:
//   nospace  ENOSPC from the k-th call on (the disk stays full),
//   eio      EIO at the k-th call only,
//   crash    the machine off right after the k-th call,
// then the store is closed (every call failing, after a crash), the power is
// cut (DropUnsyncedData), and a plain Env reopens the surviving files. The
// store must open; every record it acknowledged (outside partitions whose
// reclaim was attempted after MarkSynced) must read back with its value,
// once; nothing never appended may appear; and the reopened store must take
// an append and close cleanly (write its blocks). Both write buffers: `wal`,
// and `pmem` on an emulated mapping of a plain file.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "block_format.h"
#include "batch_format.h"
#include "crash_rig.h"
#include "fault_env.h"
#include "segments.h"
#include "store_context.h"
#include "temp_dir.h"
#include "wal_format.h"

namespace sluice::store::sweep {
namespace {

namespace fs = std::filesystem;
using crash::Key;
using crash::Keys;
using crash::kSecond;
using crash::kStart;
using crash::ValueOf;
using Fault = FaultInjectionEnv::CallFault;

constexpr std::uint32_t kSeries = 8;
constexpr std::int64_t kW0 = kStart;               // a window of 60 s, sealed and synced
constexpr std::int64_t kW1 = kStart + 60 * kSecond;  // the current window
constexpr std::int64_t kStep = 100'007;              // ns between records: values vary
constexpr int kTailRecords = 20;                     // the armed batch that fills a block
// Bytes series the large-values operation appends to (ids after kSeries).
constexpr std::uint32_t kLargeSeries = 2;
constexpr std::size_t kLargeBytes = 5000;  // over the default large_value_bytes

// A large value, different for every series and timestamp.
std::string LargeValueOf(std::uint32_t series, std::int64_t ts) {
  std::string v(kLargeBytes, static_cast<char>('a' + (ts / kStep + series) % 26));
  const std::string head = std::to_string(series) + "@" + std::to_string(ts);
  v.replace(0, head.size(), head);
  return v;
}

bool Full() {
  const char* full = std::getenv("SLUICE_SWEEP_FULL");
  return full != nullptr && std::string(full) == "1";
}

const char* ModeName(Fault f) {
  switch (f) {
    case Fault::kNoSpaceFrom: return "nospace";
    case Fault::kIoErrorAt: return "eio";
    case Fault::kCrashAfter: return "crash";
  }
  return "?";
}

const char* BufferName(WriteBufferMode m) { return m == WriteBufferMode::kWal ? "wal" : "pmem"; }

// The calls to fail: all of 1..n when few, else the first ones and an even
// spread over the rest, n included.
std::vector<std::uint64_t> Sample(std::uint64_t n) {
  std::vector<std::uint64_t> ks;
  constexpr std::uint64_t kAll = 24, kHead = 12;
  if (Full() || n <= kAll) {
    for (std::uint64_t k = 1; k <= n; ++k) ks.push_back(k);
    return ks;
  }
  for (std::uint64_t k = 1; k <= kHead; ++k) ks.push_back(k);
  const std::uint64_t rest = kAll - kHead;
  for (std::uint64_t i = 1; i <= rest; ++i) ks.push_back(kHead + (n - kHead) * i / rest);
  return ks;
}

std::unique_ptr<Env> PosixEnv() {
  auto env = NewPosixEnv(IoEngine::kPwrite);
  REQUIRE_MESSAGE(env.ok(), env.status().ToString());
  return std::move(*env);
}

Options OptionsIn(const fs::path& dir, WriteBufferMode buffer) {
  Options o;
  o.dir = dir.string();
  o.io_engine = IoEngine::kPwrite;
  o.write_buffer = buffer;
  o.pmem_size = 4 << 20;  // <dir>/wal.pmem: copied with the directory
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.block_size = 64 << 10;
  o.block_max_age = std::chrono::seconds(3600);  // no block is written because time passed
  o.segment_size = 256 << 10;
  o.partition_window = std::chrono::seconds(60);
  o.partition_shards = 4;
  o.late_grace = std::chrono::seconds(10);
  return o;
}

Record RecordAt(std::uint32_t series, std::int64_t ts) {
  return {SeriesId{series}, ts, ValueOf(series, ts)};
}

// What was appended to a store and what it acknowledged; the next free
// timestamp of the current window.
struct Model {
  Keys acked, attempted;
  std::int64_t ts = kW1;
};

// Appends `count` records (series round-robin over `series`) in batches of
// `per_batch`, waiting for each; false when one failed.
bool AppendRecords(Store& store, Model& model, int count, const std::vector<std::uint32_t>& series,
                   int per_batch) {
  bool all = true;
  for (int done = 0; done < count;) {
    Batch batch;
    Keys keys;
    for (int i = 0; i < per_batch && done < count; ++i, ++done, model.ts += kStep) {
      const std::uint32_t s = series[static_cast<std::size_t>(done) % series.size()];
      batch.push_back(RecordAt(s, model.ts));
      keys.insert({s, model.ts});
    }
    model.attempted.insert(keys.begin(), keys.end());
    if (store.Append(std::move(batch)).Wait().ok()) {
      model.acked.insert(keys.begin(), keys.end());
    } else {
      all = false;
    }
  }
  return all;
}

// Records of series 1 from model.ts that fill an empty block: the count
// after which the partition's open block is full (PartitionIndex::Apply).
int RecordsToFillBlock(const Model& model, const Options& o) {
  BlockBuilder b(PartitionId{kW1, 0, false});
  std::int64_t ts = model.ts;
  for (int n = 1;; ++n, ts += kStep) {
    b.Add(RecordAt(1, ts), ValueType::kFloat64, static_cast<std::uint64_t>(n));
    if (b.EncodedSize() + 64 >= o.block_size) return n;
  }
}

// The bytes, padded, of the block those records make.
std::uint64_t FilledBlockBytes(const Model& model, const Options& o) {
  BlockBuilder b(PartitionId{kW1, 0, false});
  const int n = RecordsToFillBlock(model, o);
  std::int64_t ts = model.ts;
  for (int i = 1; i <= n; ++i, ts += kStep) {
    b.Add(RecordAt(1, ts), ValueType::kFloat64, static_cast<std::uint64_t>(i));
  }
  return b.Finish().size();
}

// A background block write is not something the store lets a caller wait
// for: polled, bounded.
bool AwaitBlockOutcome(const Store& store, const StoreStats& before) {
  for (int i = 0; i < 20'000; ++i) {
    const StoreStats now = store.stats();
    if (now.blocks_written > before.blocks_written ||
        now.block_write_failures > before.block_write_failures) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Bytes free after the last block of the newest segment of `dir`.
std::uint64_t SegmentRoom(const fs::path& dir, const Options& o) {
  fs::path newest;
  for (const auto& e : fs::directory_iterator(dir / "segments")) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("seg-") && (newest.empty() || e.path() > newest)) newest = e.path();
  }
  if (newest.empty()) return 0;
  const auto blocks = crash::BlocksIn(crash::ReadFile(newest));
  const std::uint64_t tail = blocks.empty() ? kPage : blocks.back().end;
  return tail < o.segment_size ? o.segment_size - tail : 0;
}

// Bytes left in the newest write-ahead log file.
std::uint64_t WalRoom(const fs::path& dir, const Options& o) {
  fs::path newest;
  for (const auto& e : fs::directory_iterator(dir / "wal")) {
    if (newest.empty() || e.path() > newest) newest = e.path();
  }
  const std::string image = crash::ReadFile(newest);
  auto contents = ParseWalFile(crash::AsBytes(image), newest.string());
  REQUIRE_MESSAGE(contents.ok(), contents.status().ToString());
  return o.wal_file_size - contents->valid_end;
}

// The records of a batch, encoded as the log frames them.
std::uint64_t FrameBytes(const Batch& batch, std::int64_t arrival) {
  std::string payload;
  EncodeBatch(batch, arrival, payload);
  return WalFrameSize(payload.size());
}

// The big batch the log-roll operation appends.
Batch RollBatch(std::int64_t ts) {
  Batch b;
  for (int i = 0; i < 2500; ++i, ts += kStep) b.push_back(RecordAt(3 + i % 6, ts));
  return b;
}

// A prepared store directory, and what it holds.
struct Proto {
  fs::path dir;
  Model model;
  std::vector<PartitionId> w0;  // sealed and synced
  Keys w0_keys;
  std::optional<PartitionId> sealed_w1;  // sealed, for mark-synced
};

// The series a register-batch operation adds.
const std::vector<std::string> kNewSeries = [] {
  std::vector<std::string> v;
  for (int i = 0; i < 500; ++i) v.push_back("new/line-" + std::to_string(i) + "/tag");
  return v;
}();

enum class OpKind {
  kOpen, kAppend, kBlock, kSegment, kRoll, kSeal, kMarkSynced, kReclaim, kStop, kRegister,
  kLarge
};

const char* OpName(OpKind op) {
  switch (op) {
    case OpKind::kOpen: return "open";
    case OpKind::kAppend: return "append";
    case OpKind::kBlock: return "block-write";
    case OpKind::kSegment: return "segment-create";
    case OpKind::kRoll: return "log-roll";
    case OpKind::kSeal: return "seal";
    case OpKind::kMarkSynced: return "mark-synced";
    case OpKind::kReclaim: return "reclaim";
    case OpKind::kStop: return "clean-stop";
    case OpKind::kRegister: return "register-batch";
    case OpKind::kLarge: return "large-values";
  }
  return "?";
}

// The prepared stores of one write buffer mode, built once per process.
class World {
 public:
  explicit World(WriteBufferMode buffer) : buffer_(buffer), posix_(PosixEnv()) { BuildBase(); }

  WriteBufferMode buffer() const { return buffer_; }
  Env* posix() const { return posix_.get(); }
  Options OptionsFor(const fs::path& dir) const { return OptionsIn(dir, buffer_); }

  const Proto& ProtoFor(OpKind op) {
    auto it = protos_.find(op);
    if (it == protos_.end()) it = protos_.emplace(op, Derive(op)).first;
    return it->second;
  }

  StoreContext Context(Env* env) const {
    return TestContext([] { return kW1 + 30 * kSecond; }, env);
  }

  std::unique_ptr<Store> MustOpen(const fs::path& dir, Env* env) const {
    auto store = Store::Open(OptionsFor(dir), Context(env));
    REQUIRE_MESSAGE(store.ok(), store.status().ToString());
    return std::move(*store);
  }

 private:
  // Window 0: blocks over several segments, every partition sealed and
  // synced. Window 1: records in the write buffer only (the store stopped
  // as by a crash, before writing their blocks).
  void BuildBase() {
    Proto& p = protos_[OpKind::kOpen];
    p.dir = root_.path() / "base";
    FaultInjectionEnv env(posix_.get());
    std::int64_t now = kW0 + 30 * kSecond;
    auto opened = Store::Open(OptionsFor(p.dir), TestContext([&now] { return now; }, &env));
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    Store& store = **opened;
    crash::RegisterAll(store, kSeries);
    p.model.ts = kW0;
    const std::vector<std::uint32_t> all{1, 2, 3, 4, 5, 6, 7, 8};
    for (int round = 0; store.stats().blocks_written < 8 && round < 400; ++round) {
      REQUIRE(AppendRecords(store, p.model, 1000, all, 1000));
    }
    REQUIRE(p.model.ts < kW0 + 60 * kSecond);
    for (const auto& info : store.ListPartitions()) {
      REQUIRE(store.Seal(info.id).ok());
      REQUIRE(store.MarkSynced(info.id).ok());
      p.w0.push_back(info.id);
    }
    p.w0_keys = p.model.acked;
    now = kW1 + 30 * kSecond;
    p.model.ts = kW1;
    REQUIRE(AppendRecords(store, p.model, 400, all, 50));
    env.PowerOff();
    (void)store.Close();
    opened->reset();
    REQUIRE(env.DropUnsyncedData().ok());
    env.ClearFaults();
    REQUIRE(p.model.acked == p.model.attempted);
  }

  // A copy of the base with the operation's groundwork laid, closed.
  Proto Derive(OpKind op) {
    const Proto& base = protos_.at(OpKind::kOpen);
    if (op == OpKind::kAppend || op == OpKind::kSeal || op == OpKind::kReclaim ||
        op == OpKind::kStop || op == OpKind::kRegister) {
      return base;
    }
    Proto p = base;
    p.dir = root_.path() / OpName(op);
    fs::copy(base.dir, p.dir, fs::copy_options::recursive);
    auto store = MustOpen(p.dir, posix_.get());
    const Options o = OptionsFor(p.dir);
    const auto fill_block = [&] {
      const StoreStats before = store->stats();
      REQUIRE(AppendRecords(*store, p.model, RecordsToFillBlock(p.model, o), {1}, 1000));
      REQUIRE(AwaitBlockOutcome(*store, before));
    };
    switch (op) {
      case OpKind::kBlock:
      case OpKind::kSegment: {
        REQUIRE(store->Close().ok());  // window 1's records into blocks
        store = MustOpen(p.dir, posix_.get());
        // The block the operation writes fits the current segment, or not.
        const auto fits = [&] { return SegmentRoom(p.dir, o) >= FilledBlockBytes(p.model, o); };
        if (op == OpKind::kBlock && !fits()) fill_block();
        while (op == OpKind::kSegment && fits()) fill_block();
        break;
      }
      case OpKind::kRoll: {
        REQUIRE(store->Close().ok());
        store = MustOpen(p.dir, posix_.get());
        const std::uint64_t frame = FrameBytes(RollBatch(kW1 + 50 * kSecond), kW1 + 30 * kSecond);
        while (WalRoom(p.dir, o) >= frame) {
          REQUIRE(AppendRecords(*store, p.model, 600, {2, 4, 6, 8}, 600));
        }
        break;
      }
      case OpKind::kLarge:
        for (std::uint32_t i = 1; i <= kLargeSeries; ++i) {
          auto id = store->RegisterSeries("large/" + std::to_string(i), ValueType::kBytes, "");
          REQUIRE(id.ok());
          REQUIRE(id->value == kSeries + i);
        }
        break;
      case OpKind::kMarkSynced: {
        for (const auto& info : store->ListPartitions(PartitionState::kOpen)) {
          if (info.id.window_start_ns == kW1 && info.records > 0) {
            REQUIRE(store->Seal(info.id).ok());
            p.sealed_w1 = info.id;
            break;
          }
        }
        REQUIRE(p.sealed_w1.has_value());
        break;
      }
      default:
        break;
    }
    REQUIRE(store->Close().ok());
    return p;
  }

  const WriteBufferMode buffer_;
  testing::TempDir root_{"sluice-sweep"};
  std::unique_ptr<Env> posix_;
  std::map<OpKind, Proto> protos_;
};

World& WorldFor(WriteBufferMode buffer) {
  static std::map<WriteBufferMode, std::unique_ptr<World>> worlds;
  auto& w = worlds[buffer];
  if (!w) {
    if (buffer == WriteBufferMode::kPmem) {
      // Test-only: libpmem2 treats the plain file as cache-line persistent.
      ::setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
    }
    w = std::make_unique<World>(buffer);
  }
  return *w;
}

// One run of an operation on a fresh copy of its prepared store.
struct Case {
  std::uint64_t calls = 0;  // mutating calls the operation made
  std::string problem;      // what the reopened store got wrong; empty: nothing
};

// What is wrong with the reopened store: acknowledged records missing or
// wrong, records twice, records never appended.
std::string Check(const Store& store, const Model& model, const Keys& exempt) {
  std::ostringstream out;
  Keys found;
  std::size_t wrong = 0, twice = 0, invented = 0;
  for (std::uint32_t s = 1; s <= kSeries + kLargeSeries; ++s) {
    const bool large = s > kSeries;
    if (!store.GetSeries(SeriesId{s})) {
      if (!large) out << "series " << s << " missing; ";
      continue;
    }
    Status st = store.Scan(SeriesId{s}, INT64_MIN, INT64_MAX, [&](const Record& r) {
      wrong += large ? std::get<std::string>(r.value) != LargeValueOf(s, r.timestamp_ns)
                     : std::get<double>(r.value) != ValueOf(s, r.timestamp_ns);
      twice += !found.insert({s, r.timestamp_ns}).second;
      invented += model.attempted.count({s, r.timestamp_ns}) == 0;
      return true;
    });
    if (!st.ok()) out << "scan of series " << s << ": " << st.ToString() << "; ";
  }
  std::size_t missing = 0;
  Key first_missing{};
  for (const Key& k : model.acked) {
    if (found.count(k) == 0 && exempt.count(k) == 0 && missing++ == 0) first_missing = k;
  }
  if (missing > 0) {
    out << missing << " of " << model.acked.size() << " acknowledged records missing (first: series "
        << first_missing.first << " at +" << (first_missing.second - kW0) / 1000 << " us); ";
  }
  if (wrong > 0) out << wrong << " records with a wrong value; ";
  if (twice > 0) out << twice << " records twice; ";
  if (invented > 0) out << invented << " records never appended; ";
  return out.str();
}

Case RunCase(World& world, OpKind op, std::optional<std::pair<Fault, std::uint64_t>> fault) {
  const Proto& proto = world.ProtoFor(op);
  testing::TempDir tmp("sluice-sweep-case");
  const fs::path dir = tmp.path() / "store";
  fs::copy(proto.dir, dir, fs::copy_options::recursive);
  FaultInjectionEnv env(world.posix());
  Model model = proto.model;
  Keys exempt;
  std::vector<std::pair<std::string, SeriesId>> registered;  // kRegister: acknowledged
  std::unique_ptr<Store> store;
  if (op != OpKind::kOpen) store = world.MustOpen(dir, &env);

  // Groundwork that must not count: the block's first records.
  int tail = 0;
  if (op == OpKind::kBlock || op == OpKind::kSegment) {
    const int fill = RecordsToFillBlock(model, world.OptionsFor(dir));
    REQUIRE(fill > kTailRecords);
    REQUIRE(AppendRecords(*store, model, fill - kTailRecords, {1}, 1000));
    tail = kTailRecords;
  }
  // Large values: a record ahead of them stays in the write buffer (its
  // block stays open), so that their markers are there to replay too.
  if (op == OpKind::kLarge) REQUIRE(AppendRecords(*store, model, 1, {1}, 1));

  Case result;
  const std::uint64_t before = env.mutating_calls();
  if (fault) env.FailCall(fault->first, fault->second);
  switch (op) {
    case OpKind::kOpen: {
      auto opened = Store::Open(world.OptionsFor(dir), world.Context(&env));
      if (opened.ok()) store = std::move(*opened);
      break;
    }
    case OpKind::kAppend:
      (void)AppendRecords(*store, model, 3 * 40, {1, 2, 3, 4, 5, 6, 7, 8}, 40);
      break;
    case OpKind::kBlock:
    case OpKind::kSegment: {
      const StoreStats stats = store->stats();
      if (AppendRecords(*store, model, tail, {1}, tail)) {
        CHECK_MESSAGE(AwaitBlockOutcome(*store, stats), "the full block was never written nor failed");
      }
      if (!fault) {
        REQUIRE(store->stats().blocks_written == stats.blocks_written + 1);
        if (op == OpKind::kSegment) REQUIRE(store->stats().segment_bytes > stats.segment_bytes);
        if (op == OpKind::kBlock) REQUIRE(store->stats().segment_bytes == stats.segment_bytes);
      }
      break;
    }
    case OpKind::kRoll: {
      Batch batch = RollBatch(model.ts);
      Keys keys;
      for (const Record& r : batch) keys.insert({r.series.value, r.timestamp_ns});
      model.ts = batch.back().timestamp_ns + kStep;
      model.attempted.insert(keys.begin(), keys.end());
      const std::uint64_t room = WalRoom(dir, world.OptionsFor(dir));
      if (store->Append(std::move(batch)).Wait().ok()) model.acked.insert(keys.begin(), keys.end());
      if (!fault) {
        REQUIRE(room < FrameBytes(RollBatch(kW1), kW1));
        REQUIRE(model.acked.count(*keys.begin()) == 1);
      }
      break;
    }
    case OpKind::kSeal:
      for (const auto& info : store->ListPartitions(PartitionState::kOpen)) {
        if (info.id.window_start_ns == kW1 && info.records > 0) {
          (void)store->Seal(info.id);
          break;
        }
      }
      break;
    case OpKind::kMarkSynced:
      (void)store->MarkSynced(*proto.sealed_w1);
      break;
    case OpKind::kReclaim:
      // Reclaim is attempted: those records may go, whatever it returns.
      exempt = proto.w0_keys;
      for (const PartitionId& id : proto.w0) (void)store->Reclaim(id);
      break;
    case OpKind::kStop:
      // A clean stop: the open blocks written, then the index checkpoint
      // (written aside, synced, renamed over the last one).
      (void)store->Close();
      break;
    case OpKind::kLarge:
      // Batches of large values: each a marker in the write buffer and
      // blocks of its own (a flush group), acknowledged once both are
      // durable. Each batch is waited for: a group each.
      for (int b = 0; b < 4; ++b) {
        Batch batch;
        Keys keys;
        for (std::uint32_t i = 1; i <= kLargeSeries; ++i, model.ts += kStep) {
          batch.push_back({SeriesId{kSeries + i}, model.ts, LargeValueOf(kSeries + i, model.ts)});
          keys.insert({kSeries + i, model.ts});
        }
        model.attempted.insert(keys.begin(), keys.end());
        if (store->Append(std::move(batch)).Wait().ok()) {
          model.acked.insert(keys.begin(), keys.end());
        }
      }
      if (!fault) REQUIRE(store->stats().blocks_written > 0);
      break;
    case OpKind::kRegister: {
      // 500 new series in one batch: one write, one sync.
      std::vector<SeriesSpec> specs;
      for (const std::string& n : kNewSeries) specs.push_back({n, ValueType::kInt64, "u"});
      const auto got = store->RegisterSeriesBatch(specs);
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (got[i].ok()) registered.emplace_back(kNewSeries[i], *got[i]);
      }
      break;
    }
  }
  result.calls = env.mutating_calls() - before;

  // Closed as the fault leaves it (after a crash every call fails), then
  // the power cut, then a restart on a plain Env.
  if (store) (void)store->Close();
  store.reset();
  REQUIRE(env.DropUnsyncedData().ok());
  env.ClearFaults();
  auto reopened = Store::Open(world.OptionsFor(dir), world.Context(world.posix()));
  if (!reopened.ok()) {
    result.problem = "reopen failed: " + reopened.status().ToString();
    return result;
  }
  result.problem = Check(**reopened, model, exempt);
  // Registrations: every acknowledged one is there as it was answered; the
  // others of the batch are all there or a prefix of them, never a gap.
  if (op == OpKind::kRegister) {
    for (const auto& [name, id] : registered) {
      auto info = (*reopened)->FindSeries(name);
      if (!info || info->id != id || info->type != ValueType::kInt64) {
        result.problem += "registered series " + name + " lost or changed; ";
        break;
      }
    }
    const std::size_t have = (*reopened)->ListSeries().size() - kSeries;
    for (std::size_t i = 0; i < kNewSeries.size(); ++i) {
      if (((*reopened)->FindSeries(kNewSeries[i]).has_value()) != (i < have)) {
        result.problem += "the batch's series are not a prefix (" + std::to_string(have) +
                          " present); ";
        break;
      }
    }
  }
  // The reopened store works: it takes an append and writes its blocks.
  Status append = (*reopened)->Append({RecordAt(1, kW1 + 59 * kSecond)}).Wait();
  if (!append.ok()) result.problem += "append after reopen: " + append.ToString() + "; ";
  Status close = (*reopened)->Close();
  if (!close.ok()) result.problem += "close after reopen: " + close.ToString() + "; ";
  return result;
}

void Sweep(OpKind op, WriteBufferMode buffer) {
  if (op == OpKind::kRoll && buffer == WriteBufferMode::kPmem) {
    MESSAGE("sweep " << OpName(op) << " pmem: not applicable (the ring has no files to roll)");
    return;
  }
  World& world = WorldFor(buffer);
  const Case clean = RunCase(world, op, std::nullopt);
  CHECK_MESSAGE(clean.problem.empty(), "without a fault: " << clean.problem);
  REQUIRE(clean.calls > 0);
  const std::vector<std::uint64_t> ks = Sample(clean.calls);
  for (const Fault fault : {Fault::kNoSpaceFrom, Fault::kIoErrorAt, Fault::kCrashAfter}) {
    std::size_t failed = 0;
    for (const std::uint64_t k : ks) {
      const Case c = RunCase(world, op, std::pair{fault, k});
      if (!c.problem.empty()) {
        ++failed;
        std::ostringstream what;
        what << "sweep " << OpName(op) << " " << ModeName(fault) << " " << BufferName(buffer)
             << " k=" << k << " (of " << clean.calls << "; the case made " << c.calls
             << " calls): " << c.problem;
        FAIL_CHECK(what.str());
      }
    }
    std::ostringstream line;
    line << "sweep " << OpName(op) << " " << ModeName(fault) << " " << BufferName(buffer) << ": "
         << clean.calls << " calls, " << ks.size() << " cases, ";
    if (failed == 0) {
      line << "all acknowledged records present";
    } else {
      line << failed << " cases FAILED";
    }
    MESSAGE(line.str());
  }
}

}  // namespace

// One test case per operation and write buffer, so that one failing sweep
// can be told from the others.
#define SWEEP_CASE(op, buffer, decorators)                                             \
  TEST_CASE("fault sweep " #op " " #buffer * doctest::timeout(600) decorators) { \
    Sweep(OpKind::op, WriteBufferMode::buffer);                                        \
  }

SWEEP_CASE(kOpen, kWal, )
SWEEP_CASE(kAppend, kWal, )
SWEEP_CASE(kBlock, kWal, )
SWEEP_CASE(kSegment, kWal, )
SWEEP_CASE(kRoll, kWal, )
SWEEP_CASE(kSeal, kWal, )
SWEEP_CASE(kMarkSynced, kWal, )
SWEEP_CASE(kReclaim, kWal, )
SWEEP_CASE(kStop, kWal, )
SWEEP_CASE(kRegister, kWal, )
SWEEP_CASE(kLarge, kWal, )
SWEEP_CASE(kOpen, kPmem, )
SWEEP_CASE(kAppend, kPmem, )
SWEEP_CASE(kBlock, kPmem, )
SWEEP_CASE(kSegment, kPmem, )
SWEEP_CASE(kSeal, kPmem, )
SWEEP_CASE(kMarkSynced, kPmem, )
SWEEP_CASE(kReclaim, kPmem, )
SWEEP_CASE(kStop, kPmem, )
SWEEP_CASE(kLarge, kPmem, )

}  // namespace sluice::store::sweep
