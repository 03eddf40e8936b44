// What the store crash and corruption tests share: a small store on the real
// file system behind a FaultInjectionEnv, a model of what was acknowledged,
// and readers that find the records in segment and log images, so a test
// can say which records a fault may cost and check that no others are lost.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "store/store.h"
#include "temp_dir.h"
#include "wal.h"

namespace sluice::store::crash {

constexpr std::int64_t kSecond = 1'000'000'000;
constexpr std::int64_t kStart = 1'764'100'800 * kSecond;

// A record is (series, timestamp) with a value derived from both, so that
// any record read back can be checked for being one that was appended.
using Key = std::pair<std::uint32_t, std::int64_t>;
using Keys = std::set<Key>;

// What the store acknowledged and what it was asked to store.
struct Model {
  std::mutex mu;
  Keys acked, attempted;
};

double ValueOf(std::uint32_t series, std::int64_t ts);

// Small files, so that a few thousand records fill many blocks, several
// segments and more than one log file.
Options SmallStore(const testing::TempDir& dir);

// A store directory, the fault-injecting Env over the real file system, a
// clock the test moves, the model, and the next timestamp to append.
struct Rig {
  explicit Rig(IoEngine engine = IoEngine::kAuto);
  std::unique_ptr<Store> Open();  // fails the test if the store does not open

  testing::TempDir dir;
  std::unique_ptr<Env> base;
  FaultInjectionEnv env;
  Options options;
  std::atomic<std::int64_t> now{kStart};
  StoreContext ctx;
  Model model;
  std::int64_t ts = kStart;
};

// Reads everything back and checks it against the model: every acknowledged
// record is there unless in `may_lose`, nothing is there twice, nothing was
// invented. Returns what was found.
Keys Verify(const Store& store, const Model& model, std::uint32_t series_count,
            const Keys& may_lose = {});

// Appends `batches` batches of `per_batch` records spread over `series`
// series, timestamps 1 ms apart from `*ts`, waiting for each ticket: one
// commit group each. `now`, when given, follows the data (as with live
// sensors), so that the store seals partitions by itself.
void AppendSteadily(Store& store, Model& model, std::atomic<std::int64_t>* now, std::int64_t* ts,
                    int batches, int per_batch, std::uint32_t series);

// Waits, bounded, for what the store's maintenance thread does on its own
// every 200 ms (sealing by the clock, space coming back): no event to await.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Registers s1..sN and checks they got ids 1..N.
void RegisterAll(Store& store, std::uint32_t series);

std::string ReadFile(const std::filesystem::path& path);
std::span<const std::byte> AsBytes(const std::string& s);
std::filesystem::path SegmentPath(const Options& o, int id);

// The image with the bits the env flipped in `path` flipped back.
std::string Repaired(std::string image, const FaultInjectionEnv& env, const std::string& path);

// One block of a segment image: [begin, used) is its header and body,
// [used, end) padding.
struct BlockSpan {
  std::uint64_t begin = 0, used = 0, end = 0;
  Keys records;
};

// The blocks of an intact segment image, as recovery walks them.
std::vector<BlockSpan> BlocksIn(std::string_view image);

// Adds the keys of the batch in one write-ahead log record.
void AddKeysOf(const WriteBufferRecord& record, Keys& keys);

// Every record in the intact frames of the write-ahead log files of `dir`
// (up to the first damage in each): what replay can bring back.
Keys InWal(const std::filesystem::path& dir);

// Of `gone`, what the write-ahead log in `options.dir` cannot bring back.
Keys NotInWal(const Keys& gone, const Options& options);

}  // namespace sluice::store::crash
