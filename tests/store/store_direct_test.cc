// Batches holding large values (Options::large_value_bytes) go whole to
// direct blocks, written once; the write buffer keeps a marker.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <random>

#include "block_format.h"
#include "crash_rig.h"
#include "store/store.h"
#include "temp_dir.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

Options DirectOptions(const testing::TempDir& dir) {
  Options o;
  o.dir = (dir.path() / "store").string();
  o.wal_file_size = 1 << 20;
  o.wal_max_group_bytes = 64 << 10;
  o.large_value_bytes = 1024;
  return o;
}

std::string ValueOf(int batch, int i, std::size_t size) {
  std::string v(size, static_cast<char>('a' + (batch * 7 + i) % 26));
  v.replace(0, std::to_string(batch * 1000 + i).size(), std::to_string(batch * 1000 + i));
  return v;
}

// Every record of the store, by series, in each partition's order.
std::map<std::uint32_t, std::vector<Record>> ReadAll(const Store& s) {
  std::map<std::uint32_t, std::vector<Record>> out;
  for (const auto& p : s.ListPartitions()) {
    REQUIRE(s.ReadPartition(p.id, [&](const Record& r) {
               out[r.series.value].push_back(r);
               return true;
             }).ok());
  }
  return out;
}

struct FoundDirect {
  fs::path file;
  std::uint64_t offset;
  BlockHeader header;
};

// The direct blocks in the store's segment files, read as a reader would.
std::vector<FoundDirect> DirectBlocks(const Options& o) {
  std::vector<FoundDirect> out;
  for (const auto& e : fs::directory_iterator(fs::path(o.dir) / "segments")) {
    if (e.path().extension() != ".dat") continue;
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (std::uint64_t at = 4096; at + 4096 <= bytes.size();) {
      std::size_t need = 0;
      auto h = ParseBlockHeader(std::string_view(bytes).substr(at), need);
      if (!h.ok()) {
        at += 4096;
        continue;
      }
      if (h->direct) out.push_back({e.path(), at, *h});
      at += PaddedBlockSize(h->header_len + h->body_len);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("a batch of large values is written once, in direct blocks, and reads back exactly") {
  testing::TempDir dir("sluice-direct");
  const Options o = DirectOptions(dir);
  std::vector<SeriesId> ids;
  std::map<std::uint32_t, std::vector<std::string>> want;
  {
    auto s = Store::Open(o);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    for (int i = 0; i < 24; ++i) {
      ids.push_back(*(*s)->RegisterSeries("cam/" + std::to_string(i), ValueType::kBytes, ""));
    }
    for (int b = 0; b < 10; ++b) {
      Batch batch;
      for (int i = 0; i < 24; ++i) {
        // One large value makes the whole batch direct: small ones go along.
        const std::size_t size = i == 0 ? 3000 : 10 + static_cast<std::size_t>(i);
        const SeriesId id = ids[static_cast<std::size_t>(i)];
        batch.push_back({id, 1'000'000'000LL * (b + 1), ValueOf(b, i, size)});
        want[ids[static_cast<std::size_t>(i)].value].push_back(ValueOf(b, i, size));
      }
      const Status st = (*s)->Append(std::move(batch)).Wait();
      REQUIRE_MESSAGE(st.ok(), st.ToString());
    }
    // Readable before and after the store closes; the latest of a large
    // value comes back from its block.
    const auto latest = (*s)->Latest(ids[0]);
    REQUIRE(latest.has_value());
    CHECK(std::get<std::string>(latest->value) == ValueOf(9, 0, 3000));
    const StoreStats st = (*s)->stats();
    CHECK(st.direct_batches == 10);
    CHECK(st.direct_groups >= 1);
    CHECK(st.direct_groups <= 10);
    CHECK(st.direct_blocks_set_aside == 0);
    REQUIRE((*s)->Close().ok());
  }
  const auto blocks = DirectBlocks(o);
  CHECK(blocks.size() >= 10);  // a flush group at least per batch, a block per partition
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  const auto got = ReadAll(**s);
  REQUIRE(got.size() == want.size());
  for (const auto& [id, values] : want) {
    const auto& records = got.at(id);
    REQUIRE(records.size() == values.size());
    for (std::size_t k = 0; k < values.size(); ++k) {
      CHECK(std::get<std::string>(records[k].value) == values[k]);
    }
  }
  // Written once: the log holds markers, not values.
  for (const auto& e : fs::directory_iterator(fs::path(o.dir) / "wal")) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (int b = 0; b < 10; ++b) CHECK(bytes.find(ValueOf(b, 0, 3000)) == std::string::npos);
  }
  CHECK((*s)->stats().recovered_records == 0);
}

TEST_CASE("a flush group of direct blocks cut short is set aside whole: none of its batch shows") {
  testing::TempDir dir("sluice-direct-torn");
  Options o = DirectOptions(dir);
  // Every Open scans the segments, as after a crash: a group cut short is
  // never in an index checkpoint (its blocks are indexed only once all of
  // them are written).
  o.index_checkpoint = 0;
  std::vector<SeriesId> ids;
  {
    auto s = Store::Open(o);
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    for (int i = 0; i < 24; ++i) {
      ids.push_back(*(*s)->RegisterSeries("cam/" + std::to_string(i), ValueType::kBytes, ""));
    }
    for (int b = 0; b < 2; ++b) {
      Batch batch;
      for (int i = 0; i < 24; ++i) {
        const SeriesId id = ids[static_cast<std::size_t>(i)];
        batch.push_back({id, 1'000'000'000LL * (b + 1), ValueOf(b, i, 2000)});
      }
      REQUIRE((*s)->Append(std::move(batch)).Wait().ok());
    }
    REQUIRE((*s)->Close().ok());
  }
  // The second batch's group: several blocks (24 series over 8 shards).
  // Its last block's header is wiped, as a write torn by a power cut would
  // leave it: the blocks before it are intact on disk.
  auto blocks = DirectBlocks(o);
  std::map<std::uint64_t, std::vector<FoundDirect>> groups;
  for (const auto& b : blocks) groups[b.header.group_seq].push_back(b);
  REQUIRE(groups.size() == 2);
  const auto& second = groups.rbegin()->second;
  REQUIRE(second.size() >= 2);
  REQUIRE(second.size() == second.front().header.group_blocks);
  {
    std::fstream f(second.back().file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(second.back().offset));
    const std::string zeros(4096, '\0');
    f.write(zeros.data(), zeros.size());
  }
  auto s = Store::Open(o);
  REQUIRE(s.ok());
  CHECK((*s)->stats().direct_blocks_set_aside == second.size() - 1);  // the wiped one is no block
  const auto got = ReadAll(**s);
  // The first batch whole, the second not at all.
  std::size_t records = 0;
  for (const auto& [id, list] : got) {
    for (const Record& r : list) {
      CHECK(r.timestamp_ns == 1'000'000'000LL);
      ++records;
    }
  }
  CHECK(records == 24);
}

namespace {

// A value of series s at ts: its size (small or large) and bytes follow
// from both, so that any record read back can be checked.
std::string BytesOf(std::uint32_t s, std::int64_t ts) {
  const auto h = static_cast<std::uint64_t>(ts) * 0x9e3779b97f4a7c15ull + s;
  const std::size_t size = (h >> 60) % 2 == 0 ? 1024 + (h >> 40) % 3000 : 1 + (h >> 40) % 200;
  std::string v(size, static_cast<char>('A' + (h >> 32) % 26));
  const std::string tag = std::to_string(s) + "@" + std::to_string(ts);
  v.replace(0, std::min(tag.size(), v.size()), tag.substr(0, v.size()));
  return v;
}

}  // namespace

TEST_CASE("a power cut at a random byte loses no acknowledged large value, shows no part batch") {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 8; ++round) {
    CAPTURE(round);
    crash::Rig rig(round % 2 ? IoEngine::kAuto : IoEngine::kPwrite);
    rig.options.large_value_bytes = 1024;
    rig.options.max_value_bytes = 8192;
    constexpr std::uint32_t kSeries = 12;
    std::vector<std::vector<crash::Key>> batches;
    std::set<std::size_t> acked;
    std::mutex mu;
    for (int life = 0; life < 3; ++life) {
      auto store = rig.Open();
      for (std::uint32_t s = 1; s <= kSeries; ++s) {
        auto id = store->RegisterSeries("b" + std::to_string(s), ValueType::kBytes, "");
        REQUIRE(id.ok());
        CHECK(id->value == s);
      }
      const std::uint64_t budget = rng() % (2 << 20);
      rig.env.FailAfterBytes(budget, StatusCode::kIoError, life == 2 ? rng() | 1 : 0);
      std::vector<Ticket> tickets;
      for (int b = 0; b < 150; ++b) {
        Batch batch;
        std::vector<crash::Key> keys;
        for (int i = 0, n = 1 + static_cast<int>(rng() % 12); i < n; ++i) {
          const auto s = static_cast<std::uint32_t>(1 + rng() % kSeries);
          const std::int64_t ago = static_cast<std::int64_t>(rng() % (90 * crash::kSecond));
          const std::int64_t ts = (rig.now.load() - ago) / 1000 * 1000 + (life * 150 + b) % 1000;
          const crash::Key key{s, ts};
          // Unique over the whole test (attempted holds every batch's keys).
          if (!rig.model.attempted.insert(key).second) continue;
          batch.push_back({SeriesId{s}, ts, BytesOf(s, ts)});
          keys.push_back(key);
        }
        if (batch.empty()) continue;
        const std::size_t index = batches.size();
        batches.push_back(keys);
        tickets.push_back(store->Append(std::move(batch), [&, index](const Status& st) {
          if (!st.ok()) return;
          std::lock_guard lock(mu);
          acked.insert(index);
        }));
        rig.now += crash::kSecond / 4;
      }
      for (auto& t : tickets) (void)t.Wait();
      (void)store->Close();
      store.reset();
      REQUIRE(rig.env.DropUnsyncedData().ok());
      rig.env.ClearFaults();
    }
    auto store = rig.Open();
    std::map<crash::Key, int> found;
    for (const auto& p : store->ListPartitions()) {
      REQUIRE(store->ReadPartition(p.id, [&](const Record& r) {
                     const crash::Key key{r.series.value, r.timestamp_ns};
                     CHECK(std::get<std::string>(r.value) == BytesOf(key.first, key.second));
                     ++found[key];
                     return true;
                   }).ok());
    }
    std::size_t whole = 0;
    for (std::size_t i = 0; i < batches.size(); ++i) {
      std::size_t present = 0;
      for (const auto& key : batches[i]) {
        const auto it = found.find(key);
        if (it == found.end()) continue;
        CHECK(it->second == 1);  // never twice
        ++present;
      }
      CAPTURE(i);
      CHECK((present == 0 || present == batches[i].size()));  // a batch whole or not at all
      if (acked.count(i)) CHECK(present == batches[i].size());  // acknowledged: there
      whole += present == batches[i].size() ? 1 : 0;
    }
    MESSAGE("round " << round << ": " << acked.size() << " of " << batches.size()
                     << " batches acknowledged, " << whole << " whole after the cuts");
  }
}

}  // namespace sluice::store
