// Writes the same sealed partitions twice, as `.slp` and as Parquet, through
// the sync engine's encoder (EncodePartitionObjects), so that a test can
// read the Parquet with independent readers and compare with `sluice export`
// of the `.slp`:
//
//   lake_objects_driver CASE OUT_DIR [--compact] [--page-version 2]
//       [--row-group-rows N] [--page-rows N]
//
// Cases: skab, nab (the real datasets in ../shared/datasets), types (all
// four value types, float32-origin and repeated doubles, NaN, -0.0,
// infinities, int64 extremes, empty and binary bytes), series100k (100,000
// series of 3 points), backfill (a late partition spanning days, with exact
// duplicates as redelivery leaves them). Objects go to OUT_DIR/slp/<key> and
// OUT_DIR/parquet/<key>; the store lives in OUT_DIR/store. Prints one line:
// records, duplicates dropped, objects per format, bytes per format.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <string>

#include "datasets.h"
#include "store/store.h"
#include "sync/engine.h"

namespace {

namespace fs = std::filesystem;
using namespace sluice;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kHour = 3600 * kSec;

struct Feed {
  store::Store* store;
  std::int64_t* now;
  std::map<std::string, store::SeriesId> ids;

  store::SeriesId Id(const std::string& name, store::ValueType type, const std::string& unit) {
    auto it = ids.find(name);
    if (it != ids.end()) return it->second;
    auto id = store->RegisterSeries(name, type, unit);
    if (!id.ok()) {
      std::fprintf(stderr, "register %s: %s\n", name.c_str(), id.status().ToString().c_str());
      std::exit(1);
    }
    return ids[name] = *id;
  }
  void Append(store::Batch& b) {
    if (b.empty()) return;
    const Status s = store->Append(std::move(b)).Wait();
    if (!s.ok()) {
      std::fprintf(stderr, "append: %s\n", s.ToString().c_str());
      std::exit(1);
    }
    b.clear();
  }
};

// The arrival clock follows the data, as with live sensors, except where a
// case wants late data.
void Table(Feed& f, const sync::testing::CsvTable& t, const std::string& prefix) {
  store::Batch b;
  for (std::size_t r = 0; r < t.timestamps_ns.size(); ++r) {
    *f.now = t.timestamps_ns[r];
    for (std::size_t c = 0; c < t.names.size(); ++c) {
      const double v = t.columns[c][r];
      if (std::isnan(v)) continue;
      b.push_back({f.Id(prefix + t.names[c], store::ValueType::kFloat64, ""), t.timestamps_ns[r], v});
    }
    if (b.size() >= 2000) f.Append(b);
  }
  f.Append(b);
}

void Skab(Feed& f) {
  int n = 0;
  for (const auto& path : sync::testing::SkabFiles()) {
    auto t = sync::testing::LoadCsv(path, ';', 8);
    if (!t.ok()) std::exit((std::fprintf(stderr, "%s\n", t.status().ToString().c_str()), 1));
    Table(f, *t, "skab/" + std::to_string(n++) + "/");
  }
}

void Nab(Feed& f) {
  const std::string dir = sync::testing::DatasetsDir() + "/nab";
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".csv") continue;
    auto t = sync::testing::LoadCsv(e.path().string(), ',', 1);
    if (!t.ok()) std::exit((std::fprintf(stderr, "%s\n", t.status().ToString().c_str()), 1));
    Table(f, *t, "nab/" + e.path().stem().string() + "/");
  }
}

void Types(Feed& f) {
  const std::int64_t t0 = 1'764'100'800 * kSec;
  *f.now = t0;
  std::mt19937_64 rng(7);
  const double specials[] = {0.0, -0.0, std::numeric_limits<double>::infinity(),
                             -std::numeric_limits<double>::infinity(),
                             std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::denorm_min(), 1e308, -1e-308};
  store::Batch b;
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t ts = t0 + std::int64_t{i} * 100'000'000 + (i % 7);  // sub-microsecond parts too
    // A float32 rounding of a 3-decimal reading, many repeated.
    const double reading = static_cast<float>(static_cast<int>(rng() % 400) / 1000.0 + 20.0);
    b.push_back({f.Id("types/f32", store::ValueType::kFloat64, "degC"), ts, reading});
    b.push_back({f.Id("types/special", store::ValueType::kFloat64, "x"), ts, specials[i % 8]});
    const std::int64_t ints[] = {std::numeric_limits<std::int64_t>::min(),
                                 std::numeric_limits<std::int64_t>::max(), 0, -1,
                                 static_cast<std::int64_t>(rng())};
    b.push_back({f.Id("types/int", store::ValueType::kInt64, "count"), ts, ints[i % 5]});
    b.push_back({f.Id("types/bool", store::ValueType::kBool, ""), ts, (rng() & 1) != 0});
    std::string bytes(static_cast<std::size_t>(i % 5), '\0');
    for (auto& ch : bytes) ch = static_cast<char>(rng());
    b.push_back({f.Id("types/bytes", store::ValueType::kBytes, ""), ts, bytes});
    if (b.size() >= 2000) f.Append(b);
  }
  f.Append(b);
}

void Series100k(Feed& f) {
  const std::int64_t t0 = 1'764'100'800 * kSec;
  *f.now = t0;
  store::Batch b;
  for (int s = 0; s < 100'000; ++s) {
    const auto id = f.Id("line/" + std::to_string(s / 1000) + "/tag" + std::to_string(s),
                         store::ValueType::kFloat64, "V");
    for (int k = 0; k < 3; ++k) b.push_back({id, t0 + k * kSec + s, 230.0 + (s % 17) * 0.1 + k});
    if (b.size() >= 6000) f.Append(b);
  }
  f.Append(b);
}

void Backfill(Feed& f) {
  const std::int64_t t0 = 1'764'100'800 * kSec;
  *f.now = t0 + 10 * 24 * kHour;  // everything arrives days late
  store::Batch b;
  const auto id = f.Id("backfill/flow", store::ValueType::kFloat64, "m3/h");
  for (int m = 0; m < 4 * 24 * 60; m += 7) {
    b.push_back({id, t0 + m * 60 * kSec, 10.0 + (m % 100) * 0.25});
    if (m % 49 == 0) b.push_back({id, t0 + m * 60 * kSec, 10.0 + (m % 100) * 0.25});  // resent
    if (b.size() >= 1000) f.Append(b);
  }
  f.Append(b);
}

void WriteObject(const fs::path& root, const sync::PartitionObject& o) {
  const fs::path path = root / o.key;
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out.write(o.bytes.data(), static_cast<std::streamsize>(o.bytes.size()));
  if (!out) std::exit((std::fprintf(stderr, "write %s failed\n", path.c_str()), 1));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s skab|nab|types|series100k|backfill OUT_DIR [options]\n", argv[0]);
    return 2;
  }
  const std::string which = argv[1];
  const fs::path out = argv[2];
  sync::SyncEngineOptions o;
  o.gateway_id = "gw-lake";
  o.site = "plant";
  o.key_prefix = "lake";
  o.partition_window = std::chrono::seconds(3600);
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::stoull(argv[++i]) : 0ull; };
    if (a == "--compact") o.parquet.encodings = sync::ParquetEncodingSet::kCompact;
    else if (a == "--page-version") o.parquet.page_version = next() == 2 ? sync::ParquetPageVersion::kV2 : sync::ParquetPageVersion::kV1;
    else if (a == "--row-group-rows") o.parquet.max_row_group_rows = next();
    else if (a == "--page-rows") o.parquet.max_page_rows = next();
    else return (std::fprintf(stderr, "unknown option %s\n", a.c_str()), 2);
  }
  fs::remove_all(out);
  std::int64_t now = 0;
  store::Options so;
  so.dir = (out / "store").string();
  so.partition_window = std::chrono::seconds(3600);
  so.partition_shards = 4;
  so.late_grace = std::chrono::seconds(300);
  store::StoreContext ctx;
  ctx.now_ns = [&] { return now; };
  auto st = store::Store::Open(so, ctx);
  if (!st.ok()) return (std::fprintf(stderr, "%s\n", st.status().ToString().c_str()), 1);
  Feed f{st->get(), &now, {}};
  if (which == "skab") Skab(f);
  else if (which == "nab") Nab(f);
  else if (which == "types") Types(f);
  else if (which == "series100k") Series100k(f);
  else if (which == "backfill") Backfill(f);
  else return (std::fprintf(stderr, "unknown case %s\n", which.c_str()), 2);

  store::Store& store = **st;
  for (const auto& p : store.ListPartitions(store::PartitionState::kOpen)) {
    // The store may have sealed it meanwhile (InvalidArgument: not open).
    if (Status s = store.Seal(p.id); !s.ok() && s.code() != StatusCode::kInvalidArgument) {
      return (std::fprintf(stderr, "seal: %s\n", s.ToString().c_str()), 1);
    }
  }
  std::uint64_t records = 0, dropped = 0, objects[2] = {0, 0}, bytes[2] = {0, 0};
  for (const auto& p : store.ListPartitions(store::PartitionState::kSealed)) {
    for (int k = 0; k < 2; ++k) {
      o.format = k == 0 ? sync::ObjectFormat::kSlp : sync::ObjectFormat::kParquet;
      auto e = sync::EncodePartitionObjects(store, o, p.id);
      if (!e.ok()) return (std::fprintf(stderr, "encode: %s\n", e.status().ToString().c_str()), 1);
      for (const auto& obj : e->objects) WriteObject(out / (k == 0 ? "slp" : "parquet"), obj);
      objects[k] += e->objects.size();
      bytes[k] += e->bytes();
      if (k == 0) {
        records += e->records;
        dropped += e->duplicates_dropped;
      }
    }
  }
  std::printf("%s: %llu records, %llu duplicates dropped, objects slp %llu parquet %llu, "
              "bytes slp %llu (%.3f B/pt) parquet %llu (%.3f B/pt)\n",
              which.c_str(), static_cast<unsigned long long>(records),
              static_cast<unsigned long long>(dropped), static_cast<unsigned long long>(objects[0]),
              static_cast<unsigned long long>(objects[1]), static_cast<unsigned long long>(bytes[0]),
              records ? double(bytes[0]) / double(records) : 0.0,
              static_cast<unsigned long long>(bytes[1]),
              records ? double(bytes[1]) / double(records) : 0.0);
  return 0;
}
