// `sluice lake` (the real binary) against a real Ceph RGW, killed with
// SIGKILL again and again (at its kill points: mid-multipart upload, right
// after a confirmed put; and at arbitrary times), then run to completion:
// the converted objects must equal a clean run's, key for key and byte for
// byte, with no multipart upload left pending. Also prints the throughput
// of the clean run in points/s.
//
// Needs SLUICE_TEST_S3_{ENDPOINT,ACCESS_KEY,SECRET_KEY,REGION} (scripts/rgw
// env); without them it exits 77 (skipped). Release tree only (timing).
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sync/object_key.h"
#include "sync/partition.h"
#include "sync/sink.h"
#include "sync_it_util.h"
#include "temp_dir.h"

extern char** environ;

namespace sluice::sync {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::sync_it::Bucket;

constexpr std::int64_t kHourNs = 3'600'000'000'000;
constexpr std::int64_t kT0 = 1'764'100'800'000'000'000;  // 2025-11-25T20:00:00Z

// A partition object: `series` float64 series of `points` points in all.
// Noisy values make big objects (the Parquet of a 1M-point one is ~8 MB:
// multipart at a 5 MiB threshold); smooth ones are sensor-like.
std::string MakeSlp(const std::string& gateway, int hour, int series, int points, bool noisy,
                    std::mt19937_64& rng) {
  PartitionIdentity id{gateway, "plant", kT0 + hour * kHourNs, kHourNs, 0, false};
  PartitionWriter w(id);
  std::normal_distribution<double> noise(0, 1);
  const int per = points / series;
  for (int s = 0; s < series; ++s) {
    const store::SeriesId sid{static_cast<std::uint32_t>(s + 1)};
    REQUIRE(w.AddSeries({sid, "line-" + std::to_string(s % 7) + "/sensor-" + std::to_string(s),
                         store::ValueType::kFloat64, "degC"})
                .ok());
    double v = 20;
    SeriesColumns c;
    std::vector<double> values;
    for (int i = 0; i < per; ++i) {
      c.timestamps.push_back(kT0 + hour * kHourNs + std::int64_t{i} * (kHourNs / per));
      v += noise(rng) * 0.01;
      values.push_back(noisy ? noise(rng) : std::round(v * 1000) / 1000);
    }
    c.values = std::move(values);
    REQUIRE(w.AppendColumns(sid, c).ok());
  }
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  return *bytes;
}

struct RunResult {
  bool killed = false;
  int exit_code = -1;
  std::string output;
};

// Runs `sluice lake` with extra environment; SIGKILLs it after `kill_after`
// when that is set and it is still running.
RunResult RunLake(const std::vector<std::string>& args, const std::vector<std::string>& extra_env,
                  std::optional<std::chrono::milliseconds> kill_after, const fs::path& out_file) {
  std::vector<std::string> argv_s = {SLUICE_BIN, "lake"};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) {
    if (!std::string_view(*e).starts_with("SLUICE_KILL_POINT")) env_s.emplace_back(*e);
  }
  env_s.insert(env_s.end(), extra_env.begin(), extra_env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, out_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa, 1, 2);
  pid_t pid = 0;
  REQUIRE(posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data()) == 0);
  posix_spawn_file_actions_destroy(&fa);
  int status = 0;
  const auto until = std::chrono::steady_clock::now() + kill_after.value_or(100s);
  while (true) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    REQUIRE(r >= 0);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() >= until) {
      REQUIRE_MESSAGE(kill_after.has_value(), "sluice lake ran for more than 100 s");
      ::kill(pid, SIGKILL);
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      break;
    }
    std::this_thread::sleep_for(2ms);
  }
  RunResult r;
  r.killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream in(out_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.output = ss.str();
  return r;
}

// Relative path -> bytes of every file under dir/sub.
std::map<std::string, std::string> Files(const fs::path& root) {
  std::map<std::string, std::string> out;
  if (!fs::exists(root)) return out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    out[fs::relative(e.path(), root).string()] = ss.str();
  }
  return out;
}

int Count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

TEST_CASE("sluice lake killed with SIGKILL at many points, rerun, equals a clean run byte for byte") {
  const auto env = testing::RequireS3Env("lake_kill_test");
  testing::TempDir scratch("sluice-lake-kill");
  Bucket bucket("lake-kill", scratch.path());
  const std::string creds = testing::sync_it::WriteCredentials(scratch.path(), env);

  // Sources: 4 big noisy objects (multipart as Parquet) and 20 sensor-like ones.
  std::uint64_t source_points = 0;
  {
    S3SinkOptions o;
    o.endpoint = env.endpoint;
    o.region = env.region;
    o.bucket = bucket.name();
    o.key_prefix = "raw";
    o.credentials_file = creds;
    auto sink = OpenS3Sink(o);
    REQUIRE_MESSAGE(sink.ok(), sink.status().ToString());
    std::mt19937_64 rng(42);
    for (int i = 0; i < 24; ++i) {
      const bool big = i % 6 == 0;
      const int points = big ? 1'000'000 : 150'000;
      const std::string gw = "gw-" + std::to_string(i % 3);
      const std::string slp = MakeSlp(gw, i, big ? 10 : 100, points, big, rng);
      source_points += points;
      ObjectKeyParts parts;
      parts.site = "plant";
      parts.gateway_id = gw;
      parts.window_start_ns = kT0 + i * kHourNs;
      auto key = BuildObjectKey(parts);
      REQUIRE(key.ok());
      PutRequest put;
      put.key = *key;
      put.bytes = std::as_bytes(std::span(slp));
      auto r = (*sink)->Put(put);
      REQUIRE_MESSAGE(r.ok(), r.status().ToString());
    }
    // Not an input: ignored, not copied.
    const std::string readme = "notes";
    PutRequest put;
    put.key = "site=plant/README.txt";
    put.bytes = std::as_bytes(std::span(readme));
    REQUIRE((*sink)->Put(put).ok());
  }

  const auto args = [&](const std::string& to) {
    return std::vector<std::string>{
        "--from", "s3://" + bucket.name() + "/raw", "--to", "s3://" + bucket.name() + "/" + to,
        "--workers", "2", "--s3-endpoint", env.endpoint, "--s3-region", env.region,
        "--s3-credentials-file", creds, "--s3-multipart-threshold", "5MiB", "--s3-part-size", "5MiB"};
  };
  const fs::path out = scratch.path() / "lake.out";

  // The reference: one clean, uninterrupted run.
  const auto clean = RunLake(args("clean"), {}, std::nullopt, out);
  REQUIRE_MESSAGE(clean.exit_code == 0, clean.output);
  CHECK(clean.output.find("24 objects: 24 converted") != std::string::npos);
  CHECK(clean.output.find(std::to_string(source_points) + " points") != std::string::npos);
  std::smatch m;
  REQUIRE(std::regex_search(clean.output, m, std::regex(R"(in ([0-9.]+) s \(([0-9]+) points/s, ([0-9.]+) MB/s)")));
  MESSAGE("sluice lake against Ceph RGW, 2 workers: " << source_points << " points in " << m[1]
          << " s: " << m[2] << " points/s, " << m[3] << " MB/s of .slp read");
  std::printf("lake throughput: %s points/s (%llu points, %s s, %s MB/s .slp in, 2 workers)\n",
              m[2].str().c_str(), static_cast<unsigned long long>(source_points), m[1].str().c_str(),
              m[3].str().c_str());

  // The same job into lake/, killed again and again.
  const fs::path kill_log = scratch.path() / "kill.log";
  struct Plan {
    std::string points;  // SLUICE_KILL_POINTS, or empty
    std::optional<std::chrono::milliseconds> after;
  };
  // Timed kills at fractions of the clean run's time, so that they land at
  // different stages on slow and fast machines alike.
  REQUIRE(std::regex_search(clean.output, m, std::regex(R"(in ([0-9.]+) s)")));
  const auto clean_ms = static_cast<long>(std::stod(m[1]) * 1000);
  const auto at = [&](double f) { return std::chrono::milliseconds(static_cast<long>(clean_ms * f)); };
  const std::vector<Plan> plans = {
      {"s3_multipart_part=1000", std::nullopt},  // inside the first multipart upload
      {"", at(0.15)},
      {"lake_after_put=150", std::nullopt},
      {"s3_multipart_part=500", std::nullopt},
      {"", at(0.3)},
      {"lake_after_put=300,s3_multipart_part=300", std::nullopt},
      {"", at(0.45)},
  };
  int kills = 0, timed_kills = 0;
  bool saw_pending = false;
  // A rerun skips uploads and is faster than the clean run, so a timed kill
  // may come too late: top up with kill points (1 - 0.7^24 odds each) until
  // five kills landed.
  std::vector<Plan> all = plans;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const Plan plan = all[i];
    if (i + 1 == all.size() && kills < 5 && all.size() < plans.size() + 8) {
      all.push_back({"lake_after_put=300", std::nullopt});
    }
    std::vector<std::string> extra;
    if (!plan.points.empty()) {
      extra = {"SLUICE_KILL_POINTS=" + plan.points, "SLUICE_KILL_POINT_LOG=" + kill_log.string()};
    }
    const auto r = RunLake(args("lake"), extra, plan.after, out);
    if (r.killed) {
      ++kills;
      if (plan.after) ++timed_kills;
    } else {
      REQUIRE_MESSAGE(r.exit_code == 0, r.output);
    }
    if (r.killed && !saw_pending && plan.points.starts_with("s3_multipart_part")) {
      saw_pending = bucket.List().pending_uploads > 0;
    }
  }
  std::ifstream log_in(kill_log);
  std::stringstream log;
  log << log_in.rdbuf();
  MESSAGE("kills: " << kills << " (" << timed_kills << " timed); kill points hit:\n" << log.str());
  CHECK(kills >= 5);
  CHECK(Count(log.str(), "s3_multipart_part") >= 1);
  CHECK(Count(log.str(), "lake_after_put") >= 1);
  CHECK_MESSAGE(saw_pending, "a kill mid-multipart left an incomplete upload on the server");

  // To completion.
  const auto last = RunLake(args("lake"), {}, std::nullopt, out);
  REQUIRE_MESSAGE(last.exit_code == 0, last.output);
  MESSAGE("final run: " << last.output);
  CHECK(last.output.find(" 0 failed") != std::string::npos);

  const auto listing = bucket.List();
  CHECK(listing.pending_uploads == 0);
  std::map<std::string, std::uint64_t> clean_keys, lake_keys;
  for (const auto& [key, size] : listing.sizes) {
    if (key.starts_with("clean/")) clean_keys[key.substr(6)] = size;
    if (key.starts_with("lake/")) lake_keys[key.substr(5)] = size;
  }
  CHECK(clean_keys.size() == 24);
  CHECK(lake_keys == clean_keys);
  const fs::path dl = scratch.path() / "download";
  bucket.Download(dl);
  const auto clean_files = Files(dl / "clean");
  const auto lake_files = Files(dl / "lake");
  CHECK(clean_files.size() == 24);
  CHECK((lake_files == clean_files));
  for (const auto& [key, bytes] : clean_files) CHECK(key.ends_with(".parquet"));

  // Once more with --delete-source: everything is already there; the .slp go.
  auto del = args("lake");
  del.push_back("--delete-source");
  const auto d = RunLake(del, {}, std::nullopt, out);
  REQUIRE_MESSAGE(d.exit_code == 0, d.output);
  CHECK(d.output.find("24 objects: 0 converted, 24 already there") != std::string::npos);
  CHECK(d.output.find("24 sources deleted") != std::string::npos);
  int slp_left = 0;
  for (const auto& [key, size] : bucket.List().sizes) slp_left += key.ends_with(".slp");
  CHECK(slp_left == 0);
}

}  // namespace
}  // namespace sluice::sync
