// The durable-record cursor: commit order, the persisted position, reading
// back from the log past DRAM, the retain budget, and the position file.
#include "store/durable_cursor.h"

#include <doctest/doctest.h>

#include <filesystem>
#include <map>

#include "cursor_position_format.h"
#include "fault_env.h"
#include "store/store.h"
#include "store_context.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

Options CursorOptions(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.cursor_retain_bytes = 8 << 20;
  o.cursor_memory_bytes = 1 << 20;
  return o;
}

std::unique_ptr<Store> MustOpen(const Options& o) {
  auto s = Store::Open(o);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  return std::move(*s);
}

// Appends `n` batches of `per` records; record k of the run has value k and
// timestamp 1000 + k.
void AppendRun(Store& s, SeriesId id, int n, int per, std::int64_t& k) {
  for (int b = 0; b < n; ++b) {
    Batch batch;
    for (int i = 0; i < per; ++i, ++k) batch.push_back({id, 1000 + k, static_cast<double>(k)});
    REQUIRE(s.Append(std::move(batch)).Wait().ok());
  }
}

// Reads until `want` records came back; checks that they continue `next`.
std::uint64_t ReadRecords(DurableCursor& c, std::int64_t& next, std::int64_t want) {
  std::uint64_t last_seq = 0;
  std::int64_t got = 0;
  while (got < want) {
    auto r = c.Read(64, static_cast<std::uint64_t>(want - got), std::chrono::milliseconds(2000));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    REQUIRE_MESSAGE(!r->empty(), "no batch within 2 s after " << got << " records");
    for (const auto& b : *r) {
      CHECK(b.seq > last_seq);
      last_seq = b.seq;
      for (const Record& rec : *b.records) {
        REQUIRE(std::get<double>(rec.value) == static_cast<double>(next));
        REQUIRE(rec.timestamp_ns == 1000 + next);
        ++next;
        ++got;
      }
    }
  }
  return last_seq;
}

SeriesId id_of(Store& s) { return s.FindSeries("a/b")->id; }

}  // namespace

TEST_CASE("the cursor hands out durable batches in commit order and resumes after its position") {
  testing::TempDir dir;
  const Options o = CursorOptions(dir);
  std::int64_t written = 0, read = 0;
  {
    auto store = MustOpen(o);
    DurableCursor* c = store->durable_cursor();
    REQUIRE(c != nullptr);
    const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "degC");
    AppendRun(*store, id, 20, 10, written);
    const std::uint64_t seq = ReadRecords(*c, read, 100);  // 10 batches
    REQUIRE(c->Confirm(seq).ok());
    CHECK(c->stats().position == seq);
    CHECK(c->stats().backlog_records == 100);
    CHECK(c->stats().memory_read_batches == 10);
    // Read but not confirmed: read again after a rewind.
    std::int64_t again = read;
    ReadRecords(*c, again, 50);
    c->Rewind();
    again = read;
    ReadRecords(*c, again, 50);
    REQUIRE(store->Close().ok());
  }
  // After a restart: from the position on, read back from the log files.
  auto store = MustOpen(o);
  DurableCursor* c = store->durable_cursor();
  CHECK(c->stats().position == c->stats().durable_seq - 10);
  CHECK(c->stats().backlog_records == 100);
  const SeriesId id = store->FindSeries("a/b")->id;
  AppendRun(*store, id, 5, 10, written);
  ReadRecords(*c, read, 150);
  CHECK(c->stats().log_read_batches >= 10);
  // A batch carries when it became durable, from DRAM; not from the log.
  AppendRun(*store, id, 1, 10, written);
  auto fresh = c->Read(8, 1000, std::chrono::seconds(5));
  REQUIRE(fresh.ok());
  REQUIRE(fresh->size() == 1);
  CHECK(fresh->front().durable_ns >= fresh->front().arrival_ns);
  CHECK(fresh->front().arrival_ns > 0);
  auto none = c->Read(8, 1000, std::chrono::milliseconds(10));
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("batches that fell out of DRAM are read back from the write-ahead log in order") {
  testing::TempDir dir;
  const Options o = CursorOptions(dir);
  auto store = MustOpen(o);
  DurableCursor* c = store->durable_cursor();
  const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "");
  std::int64_t written = 0, read = 0;
  // About 4 MiB of records: past the 1 MiB of DRAM, over several log files.
  AppendRun(*store, id, 400, 1000, written);
  const std::uint64_t last = ReadRecords(*c, read, written);
  CHECK(c->stats().log_read_batches > 0);
  CHECK(c->stats().memory_read_batches > 0);
  REQUIRE(c->Confirm(last).ok());
  CHECK(c->stats().backlog_records == 0);
  CHECK(c->stats().lost_batches == 0);
}

TEST_CASE("past the retain budget the oldest unconfirmed batches are given up, counted and persisted") {
  testing::TempDir dir;
  Options o = CursorOptions(dir);
  o.cursor_retain_bytes = 1 << 20;
  std::uint64_t lost = 0;
  std::int64_t written = 0;
  {
    auto store = MustOpen(o);
    DurableCursor* c = store->durable_cursor();
    const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "");
    AppendRun(*store, id, 600, 1000, written);  // ~6 MiB, never confirmed
    const CursorStats s = c->stats();
    CHECK(s.lost_batches > 0);
    CHECK(s.lost_records == s.lost_batches * 1000);
    CHECK(s.backlog_bytes <= o.cursor_retain_bytes);
    CHECK(s.backlog_records + s.lost_records == 600 * 1000);
    lost = s.lost_records;
    // What is read starts after what was given up, and goes on in order.
    auto r = c->Read(1, 1000, std::chrono::milliseconds(100));
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK(std::get<double>(r->front().records->front().value) == static_cast<double>(lost));
    // The log does not grow without bound meanwhile.
    std::size_t files = 0;
    for (auto& e : std::filesystem::directory_iterator(o.dir + "/wal")) files += e.is_regular_file();
    CHECK(files <= 4);
    REQUIRE(store->Close().ok());
  }
  auto store = MustOpen(o);
  CHECK(store->durable_cursor()->stats().lost_records >= lost);
}

TEST_CASE("the position file round-trips and refuses damage") {
  const CursorPosition p{123456789, 7, 7000};
  std::string bytes = EncodeCursorPosition(p);
  REQUIRE(bytes.size() == kCursorPositionSize);
  auto span = [](const std::string& s) {
    return std::span<const std::byte>(reinterpret_cast<const std::byte*>(s.data()), s.size());
  };
  auto back = DecodeCursorPosition(span(bytes));
  REQUIRE(back.ok());
  CHECK(*back == p);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] ^= 0x10;
    CHECK_FALSE(DecodeCursorPosition(span(damaged)).ok());
  }
  CHECK_FALSE(DecodeCursorPosition(span(bytes.substr(0, 40))).ok());
}

TEST_CASE("a damaged position file stops the store from opening, naming the file") {
  testing::TempDir dir;
  const Options o = CursorOptions(dir);
  {
    auto store = MustOpen(o);
    const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "");
    std::int64_t k = 0;
    AppendRun(*store, id, 2, 2, k);
    REQUIRE(store->durable_cursor()->Confirm(1).ok());
  }
  {
    FILE* f = std::fopen((o.dir + "/stream.pos").c_str(), "r+b");
    REQUIRE(f != nullptr);
    std::fseek(f, 16, SEEK_SET);
    std::fputc(0x42, f);
    std::fclose(f);
  }
  auto s = Store::Open(o);
  REQUIRE_FALSE(s.ok());
  CHECK(s.status().message().find("stream.pos") != std::string::npos);
}

TEST_CASE("the cursor's retain budget is whole log files in either write buffer") {
  Options o;
  o.dir = "/tmp/x";
  o.cursor_retain_bytes = 1;
  CHECK(o.Validate().message().starts_with("cursor_retain_bytes"));
  o.cursor_retain_bytes = o.wal_file_size;
  CHECK(o.Validate().ok());
  o.write_buffer = WriteBufferMode::kPmem;
  CHECK(o.Validate().ok());
}

// pmem mode: the ring is emulated on /dev/shm as store_test does.
struct PmemCursor {
  testing::TempDir dir;
  testing::TempDir shm{"sluice-pmem"};
  Options o;
  bool ok = std::filesystem::is_directory("/dev/shm");
  PmemCursor() {
    setenv("PMEM2_FORCE_GRANULARITY", "CACHE_LINE", 1);
    o = CursorOptions(dir);
    o.write_buffer = WriteBufferMode::kPmem;
    o.pmem_path = "/dev/shm/" + shm.path().filename().string() + ".pmem";
    o.pmem_size = 4 << 20;
  }
  ~PmemCursor() {
    std::filesystem::remove(o.pmem_path);
    unsetenv("PMEM2_FORCE_GRANULARITY");
  }
  std::size_t SpillFiles() const {
    std::size_t n = 0;
    if (!std::filesystem::is_directory(o.dir + "/stream-spill")) return 0;
    for (auto& e : std::filesystem::directory_iterator(o.dir + "/stream-spill")) {
      n += e.is_regular_file();
    }
    return n;
  }
};

TEST_CASE("with the persistent-memory ring unconfirmed batches are copied to a spill log and none is lost") {
  PmemCursor t;
  if (!t.ok) {
    MESSAGE("SKIPPED: /dev/shm is missing, nothing to emulate persistent memory with");
    return;
  }
  auto store = MustOpen(t.o);
  DurableCursor* c = store->durable_cursor();
  REQUIRE(c != nullptr);
  const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "");
  std::int64_t written = 0, read = 0;
  // About 4 MiB of batches, nothing confirmed: more than the 4 MiB ring and
  // the 1 MiB of DRAM hold, so appends go on only because batches are
  // copied out of the ring.
  AppendRun(*store, id, 400, 1000, written);
  CursorStats s = c->stats();
  CHECK(s.spilled_batches > 0);
  CHECK(s.spill_errors == 0);
  CHECK(s.lost_batches == 0);
  CHECK(s.backlog_records == 400 * 1000);
  CHECK(t.SpillFiles() > 0);
  const std::uint64_t last = ReadRecords(*c, read, written);
  CHECK(c->stats().log_read_batches > 0);
  REQUIRE(c->Confirm(last).ok());
  CHECK(c->stats().backlog_records == 0);
  CHECK(c->stats().lost_batches == 0);

  // Everything confirmed: the next copies start a fresh spill log at their
  // own numbers, and the reader does not mistake its files for the old ones.
  // As many batches as before, so that copies are needed again: fewer might
  // fit the ring, depending on how soon blocks are written.
  AppendRun(*store, id, 400, 1000, written);
  CHECK(c->stats().spilled_batches > s.spilled_batches);
  ReadRecords(*c, read, written - read);
  CHECK(c->stats().lost_batches == 0);
  CHECK(c->stats().spill_errors == 0);
}

TEST_CASE("with the persistent-memory ring a restart resumes from the spill log and the ring in order") {
  PmemCursor t;
  if (!t.ok) {
    MESSAGE("SKIPPED: /dev/shm is missing, nothing to emulate persistent memory with");
    return;
  }
  std::int64_t written = 0, read = 0;
  {
    auto store = MustOpen(t.o);
    DurableCursor* c = store->durable_cursor();
    const SeriesId id = *store->RegisterSeries("a/b", ValueType::kFloat64, "");
    AppendRun(*store, id, 100, 1000, written);
    REQUIRE(c->Confirm(ReadRecords(*c, read, 50 * 1000)).ok());
    AppendRun(*store, id, 300, 1000, written);  // spilled, partly
    CHECK(c->stats().spilled_batches > 0);
    REQUIRE(store->Close().ok());
  }
  {
    auto store = MustOpen(t.o);
    DurableCursor* c = store->durable_cursor();
    CHECK(c->stats().backlog_records == static_cast<std::uint64_t>(written - read));
    // New batches after the restart come after the old ones.
    AppendRun(*store, id_of(*store), 20, 1000, written);
    const std::uint64_t last = ReadRecords(*c, read, written - read);
    CHECK(c->stats().lost_batches == 0);
    REQUIRE(c->Confirm(last).ok());
    REQUIRE(store->Close().ok());
  }
  auto store = MustOpen(t.o);
  CHECK(store->durable_cursor()->stats().backlog_records == 0);
}

TEST_CASE("with the persistent-memory ring a power cut keeps every unconfirmed batch in the spill log or the ring") {
  PmemCursor t;
  if (!t.ok) {
    MESSAGE("SKIPPED: /dev/shm is missing, nothing to emulate persistent memory with");
    return;
  }
  auto posix = NewPosixEnv(IoEngine::kPwrite);
  REQUIRE(posix.ok());
  std::int64_t written = 0, read = 0;
  std::uint64_t spilled = 0;
  for (int cut = 0; cut < 3; ++cut) {
    CAPTURE(cut);
    FaultInjectionEnv env(posix->get());
    auto opened = Store::Open(t.o, TestContext(nullptr, &env));
    REQUIRE_MESSAGE(opened.ok(), opened.status().ToString());
    Store& store = **opened;
    DurableCursor* c = store.durable_cursor();
    SeriesId id;
    if (cut == 0) {
      id = *store.RegisterSeries("a/b", ValueType::kFloat64, "");
    } else {
      id = id_of(store);
      // Everything not confirmed before the cut comes back, in order.
      CHECK(c->stats().backlog_records == static_cast<std::uint64_t>(written - read));
    }
    // Some confirmed, more appended than the ring holds: copies in flight
    // when the power goes.
    if (written > read) {
      REQUIRE(c->Confirm(ReadRecords(*c, read, std::min<std::int64_t>(written - read, 30 * 1000)))
                  .ok());
    }
    AppendRun(store, id, 300, 1000, written);
    spilled += c->stats().spilled_batches;
    env.PowerOff();
    (void)store.Close();
    opened->reset();
    REQUIRE(env.DropUnsyncedData().ok());
  }
  CHECK(spilled > 0);
  auto store = MustOpen(t.o);
  DurableCursor* c = store->durable_cursor();
  CHECK(c->stats().backlog_records == static_cast<std::uint64_t>(written - read));
  const std::uint64_t last = ReadRecords(*c, read, written - read);
  CHECK(c->stats().lost_batches == 0);
  REQUIRE(c->Confirm(last).ok());
}

}  // namespace sluice::store

namespace sluice::store {

TEST_CASE("after a restart the cursor reads batches of large values back from their direct blocks") {
  testing::TempDir dir;
  Options o = CursorOptions(dir);
  o.large_value_bytes = 1024;
  std::map<std::int64_t, std::string> want;  // timestamp -> value, every record written
  {
    auto store = MustOpen(o);
    const SeriesId big = *store->RegisterSeries("cam/frame", ValueType::kBytes, "");
    const SeriesId small = *store->RegisterSeries("cam/state", ValueType::kBytes, "");
    for (int b = 0; b < 30; ++b) {
      Batch batch;
      for (int i = 0; i < 4; ++i) {
        const std::int64_t ts = 1000 + b * 10 + i;
        // Every other batch holds a large value, and goes to direct blocks.
        const std::size_t size = (b % 2 == 0 && i == 0) ? 2000 : 20;
        const std::string v = std::to_string(ts) + std::string(size, 'v');
        batch.push_back({i == 0 ? big : small, ts, v});
        want[ts] = v;
      }
      store->Append(std::move(batch));  // many in flight: direct and not, interleaved
    }
    // Live, from DRAM: every batch, in sequence order.
    DurableCursor* live = store->durable_cursor();
    std::size_t records = 0;
    std::uint64_t prev = 0;
    for (int reads = 0; reads < 100 && records < want.size(); ++reads) {
      auto r = live->Read(64, 10'000, std::chrono::milliseconds(500));
      REQUIRE(r.ok());
      for (const auto& batch : *r) {
        CHECK(batch.seq > prev);
        prev = batch.seq;
        records += batch.records->size();
      }
    }
    CHECK(records == want.size());
    REQUIRE(store->Close().ok());
  }
  auto store = MustOpen(o);
  DurableCursor* c = store->durable_cursor();
  std::map<std::int64_t, int> seen;
  std::uint64_t last_seq = 0;
  for (int reads = 0; reads < 100 && seen.size() < want.size(); ++reads) {
    auto r = c->Read(64, 10'000, std::chrono::milliseconds(500));
    REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    for (const auto& batch : *r) {
      CHECK(batch.seq > last_seq);
      last_seq = batch.seq;
      for (const Record& rec : *batch.records) {
        REQUIRE(want.count(rec.timestamp_ns) == 1);
        CHECK(std::get<std::string>(rec.value) == want[rec.timestamp_ns]);
        ++seen[rec.timestamp_ns];
      }
    }
  }
  CHECK(seen.size() == want.size());
  for (const auto& [ts, n] : seen) CHECK(n == 1);  // each batch alone in its flush here
  CHECK(c->stats().lost_batches == 0);
}

}  // namespace sluice::store
