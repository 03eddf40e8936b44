// The whole way and back, against a real Ceph RGW (scripts/rgw): real
// sensor data (../shared/datasets: every SKAB file, both NAB files) is
// published as JSON over MQTT 5 QoS 1 to the gateway's native endpoint, with
// the datasets' own timestamps; the store's clock follows the data, so each
// day's partitions seal and sync to RGW as the replay moves on. Then every
// object is downloaded with boto3, read back with `sluice export` (CSV), and
// compared with the input: each (series, timestamp, value) exactly once, the
// values bit-exact, nothing else.
//
// Needs SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION}; without them
// the test prints a loud SKIPPED and exits 77, or fails when
// SLUICE_TEST_REQUIRE_SERVICES=1.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <atomic>
#include <bit>
#include <charconv>
#include <fstream>
#include <map>
#include <tuple>

#include "datasets.h"
#include "gateway/app/app.h"
#include "mqtt_test_util.h"
#include "sync/engine.h"
#include "sync_it_util.h"
#include "temp_dir.h"

namespace sluice::testing {
namespace {

using namespace sync_it;
namespace ds = ::sluice::sync::testing;

constexpr std::int64_t kSec = 1'000'000'000;
constexpr std::int64_t kDay = 86'400 * kSec;
constexpr std::size_t kRowsPerMessage = 200;

// One point as compared: series, timestamp, the value's bits.
using Point = std::tuple<std::string, std::int64_t, std::uint64_t>;

// One dataset file as published: its topic, the fields of a row, its rows.
struct Source {
  std::string topic;
  std::vector<std::string> fields;  // "c0".."c7" (SKAB) or "v" (NAB)
  ds::CsvTable table;
};

std::string Toml(const std::string& dir, const S3Env& env, const std::string& bucket,
                 const std::string& credentials) {
  return "[gateway]\nid = \"gw-roundtrip\"\nsite = \"lab\"\n"
         "[log]\nlevel = \"warn\"\n"
         "[store]\ndir = \"" + dir + "/store\"\nwal_file_size = \"8MiB\"\n"
         "partition_window = \"86400s\"\npartition_shards = 2\nlate_grace = \"0s\"\n"
         "[admin]\nenabled = false\n"
         "[endpoint]\nenabled = true\nport = 0\n"
         "[[ingest.rule]]\ntopic = \"rt/skab/+\"\nformat = \"json\"\nsamples = \"rows\"\n"
         "fields = [\"c0\", \"c1\", \"c2\", \"c3\", \"c4\", \"c5\", \"c6\", \"c7\"]\n"
         "series = \"{topic}/{field}\"\ntimestamp = \"field:t\"\ntimestamp_unit = \"ms\"\n"
         "type = \"float64\"\n"
         "[[ingest.rule]]\ntopic = \"rt/nab/+\"\nformat = \"json\"\nsamples = \"rows\"\n"
         "fields = [\"v\"]\nseries = \"{topic}\"\ntimestamp = \"field:t\"\n"
         "timestamp_unit = \"ms\"\ntype = \"float64\"\n"
         "[sync]\nsink = \"s3\"\nkey_prefix = \"rt\"\npoll_interval = \"20ms\"\n"
         "live_workers = 2\nbackfill_workers = 1\nretry_base = \"50ms\"\nretry_cap = \"1000ms\"\n"
         "[sync.s3]\nendpoint = \"" + env.endpoint + "\"\nregion = \"" + env.region +
         "\"\nbucket = \"" + bucket + "\"\ncredentials_file = \"" + credentials + "\"\n";
}

std::vector<Source> LoadSources() {
  std::vector<Source> out;
  for (const auto& path : ds::SkabFiles()) {
    auto t = ds::LoadCsv(path, ';', 8);
    REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    REQUIRE(t->names.size() == 8);
    const std::filesystem::path p(path);
    Source s;
    s.topic = "rt/skab/" + p.parent_path().filename().string() + "-" + p.stem().string();
    for (int c = 0; c < 8; ++c) s.fields.push_back("c" + std::to_string(c));
    s.table = std::move(*t);
    out.push_back(std::move(s));
  }
  for (const char* name : {"machine_temperature_system_failure", "ambient_temperature_system_failure"}) {
    auto t = ds::LoadCsv(ds::DatasetsDir() + "/nab/" + name + ".csv", ',', 1);
    REQUIRE_MESSAGE(t.ok(), t.status().ToString());
    Source s;
    s.topic = std::string("rt/nab/") + name;
    s.fields = {"v"};
    s.table = std::move(*t);
    out.push_back(std::move(s));
  }
  REQUIRE(out.size() == 37);  // 35 SKAB files, 2 NAB files
  return out;
}

std::string SeriesOf(const Source& s, std::size_t field) {
  return s.fields.size() == 1 ? s.topic : s.topic + "/" + s.fields[field];
}

// {"rows":[{"t":<ms>,"c0":<v>,...},...]} for rows[begin, end) of `s`.
std::string Payload(const Source& s, const std::vector<std::size_t>& rows, std::size_t begin,
                    std::size_t end) {
  std::string p = "{\"rows\":[";
  for (std::size_t i = begin; i < end; ++i) {
    const std::size_t r = rows[i];
    p += (i == begin ? "{\"t\":" : ",{\"t\":") + std::to_string(s.table.timestamps_ns[r] / 1'000'000);
    for (std::size_t f = 0; f < s.fields.size(); ++f) {
      char num[32];
      const auto e = std::to_chars(num, num + sizeof num, s.table.columns[f][r]).ptr;
      p += ",\"" + s.fields[f] + "\":" + std::string(num, e);
    }
    p += "}";
  }
  return p + "]}";
}

// The CSV of `sluice export`: series,timestamp_ns,timestamp,value,type.
// Lines that do not parse as float64 points are counted in *bad.
std::vector<Point> ReadExport(const std::string& path, std::size_t* bad) {
  std::ifstream in(path);
  REQUIRE(in);
  std::string line;
  REQUIRE(std::getline(in, line));
  REQUIRE(line == "series,timestamp_ns,timestamp,value,type");
  std::vector<Point> out;
  *bad = 0;
  while (std::getline(in, line)) {
    // Series names here need no quoting; the other fields never do.
    std::vector<std::string_view> f;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ',') {
        f.emplace_back(line.data() + start, i - start);
        start = i + 1;
      }
    }
    std::int64_t ts = 0;
    double v = 0;
    if (f.size() != 5 || f[4] != "float64" ||
        std::from_chars(f[1].data(), f[1].data() + f[1].size(), ts).ec != std::errc() ||
        std::from_chars(f[3].data(), f[3].data() + f[3].size(), v).ec != std::errc()) {
      if ((*bad)++ < 5) MESSAGE("unexpected export line: " << line);
      continue;
    }
    out.emplace_back(std::string(f[0]), ts, std::bit_cast<std::uint64_t>(v));
  }
  return out;
}

TEST_CASE("every point of the real datasets, published over MQTT, comes back from the uploaded "
          "objects exactly once and bit-exact") {
  const S3Env env = RequireS3Env("round_trip_test");
  TempDir dir("sluice-round-trip");
  Bucket bucket("sluice-roundtrip", dir.path());
  const std::vector<Source> sources = LoadSources();

  // What goes in, and the replay plan: per day window, per source, its rows
  // in file order (NAB machine_temperature repeats an hour of timestamps
  // with other values: those go in as they are, out of order).
  std::vector<Point> input;
  std::map<std::int64_t, std::map<const Source*, std::vector<std::size_t>>> days;
  bool whole_ms = true;  // published in ms
  for (const auto& s : sources) {
    const auto& ts = s.table.timestamps_ns;
    for (std::size_t r = 0; r < ts.size(); ++r) {
      for (std::size_t f = 0; f < s.fields.size(); ++f) {
        input.emplace_back(SeriesOf(s, f), ts[r], std::bit_cast<std::uint64_t>(s.table.columns[f][r]));
      }
      days[ts[r] / kDay * kDay][&s].push_back(r);
      whole_ms &= ts[r] % 1'000'000 == 0;
    }
  }
  REQUIRE(whole_ms);
  MESSAGE(input.size() << " points in " << sources.size() << " files over " << days.size()
                       << " days");

  std::atomic<std::int64_t> clock{days.begin()->first + kSec};
  gateway::AppHooks hooks;
  hooks.store_context.now_ns = [&clock] { return clock.load(); };
  const gateway::Config config =
      ParseOrDie(Toml(dir.path().string(), env, bucket.name(), WriteCredentials(dir.path(), env)));
  auto started = gateway::App::Start(config, hooks);
  REQUIRE_MESSAGE(started.ok(), started.status().ToString());
  gateway::App& app = **started;
  store::Store& st = app.store();

  // Replay day by day: the clock inside the day while its rows go in (so
  // they land in the day's partitions), then past it (the store seals them
  // and the engine uploads them while the next days go in).
  Publisher pub(app.endpoint_port(), "round-trip");
  std::size_t messages = 0;
  for (const auto& [day, parts] : days) {
    clock = day + kSec;
    for (const auto& [source, rows] : parts) {
      for (std::size_t i = 0; i < rows.size(); i += kRowsPerMessage) {
        pub.Publish(source->topic, Payload(*source, rows, i, std::min(rows.size(), i + kRowsPerMessage)));
        ++messages;
      }
    }
  }
  clock = days.rbegin()->first + 2 * kDay;
  const auto done = [&] {
    return st.ListPartitions(store::PartitionState::kOpen).empty() &&
           st.ListPartitions(store::PartitionState::kSealed).empty() &&
           app.stats().sync.backlog_partitions == 0;
  };
  REQUIRE_MESSAGE(Await(done, 180s), "not all synced: backlog " << app.stats().sync.backlog_partitions
                                                              << ", " << app.stats().sync.last_error);
  const auto stats = app.stats();
  MESSAGE(messages << " messages, " << stats.pipeline.records_stored << " records stored, "
                   << st.ListPartitions().size() << " partitions, "
                   << stats.sync.live.uploaded_objects + stats.sync.backfill.uploaded_objects
                   << " objects ("
                   << stats.sync.live.uploaded_bytes + stats.sync.backfill.uploaded_bytes
                   << " bytes) uploaded");
  CHECK(stats.pipeline.messages_malformed == 0);
  CHECK(stats.pipeline.messages_unmatched == 0);
  CHECK(stats.pipeline.records_dropped == 0);
  CHECK(stats.pipeline.records_stored == input.size());
  CHECK(stats.store.late_records == 0);
  CHECK(stats.sync.live.permanent_failures + stats.sync.backfill.permanent_failures == 0);
  const auto partitions = st.ListPartitions();
  for (const auto& p : partitions) CHECK(p.state == store::PartitionState::kSynced);
  // One object per partition and data hour (a day's window holds up to 24).
  std::set<std::string> keys;
  for (const auto& p : partitions) {
    auto encoded = sync::EncodePartitionObjects(st, config.sync.engine, p.id);
    REQUIRE(encoded.ok());
    CHECK(encoded->duplicates_dropped == 0);
    for (const auto& o : encoded->objects) keys.insert(o.key);
  }
  CHECK(stats.sync.live.uploaded_objects + stats.sync.backfill.uploaded_objects == keys.size());
  CHECK(app.Stop().ok());

  // Upstream, by boto3: exactly those objects, no upload left pending.
  const auto listing = bucket.List();
  CHECK(listing.pending_uploads == 0);
  CHECK(listing.lines == keys.size());
  for (const auto& key : keys) {
    CHECK_MESSAGE(listing.sizes.count(key) == 1, "missing upstream: " << key);
  }
  const auto upstream = dir.path() / "upstream";
  std::filesystem::create_directories(upstream);
  CHECK(bucket.Download(upstream) == keys.size());

  // Read back by the command-line exporter, compared as multisets.
  const std::string csv = (dir.path() / "export.csv").string();
  Run(std::string(SLUICE_BIN) + " export --format csv -o " + csv + " " + upstream.string());
  std::size_t bad_lines = 0;
  std::vector<Point> output = ReadExport(csv, &bad_lines);
  CHECK(bad_lines == 0);
  std::sort(input.begin(), input.end());
  std::sort(output.begin(), output.end());
  std::vector<Point> missing, extra;
  std::set_difference(input.begin(), input.end(), output.begin(), output.end(),
                      std::back_inserter(missing));
  std::set_difference(output.begin(), output.end(), input.begin(), input.end(),
                      std::back_inserter(extra));
  const auto show = [](const std::vector<Point>& v) {
    std::string s;
    for (std::size_t i = 0; i < std::min<std::size_t>(v.size(), 5); ++i) {
      s += "\n  " + std::get<0>(v[i]) + " @" + std::to_string(std::get<1>(v[i])) + " bits " +
           std::to_string(std::get<2>(v[i]));
    }
    return s;
  };
  MESSAGE(output.size() << " points read back from " << keys.size() << " objects of "
                        << partitions.size() << " partitions");
  CHECK_MESSAGE(missing.empty(), missing.size() << " points missing upstream:" << show(missing));
  CHECK_MESSAGE(extra.empty(), extra.size() << " points upstream that were never sent "
                                            "(or sent fewer times):" << show(extra));
  CHECK(std::adjacent_find(input.begin(), input.end()) == input.end());  // no twin points in
  CHECK(output.size() == input.size());
  CHECK(output == input);
}

}  // namespace
}  // namespace sluice::testing
