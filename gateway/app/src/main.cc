// The `sluice` binary: one executable for the service and its tools.
#include <signal.h>
#include <unistd.h>

#include <malloc.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "base/mutex.h"
#include "doctor/doctor.h"
#include "gateway/app/app.h"
#include "gateway/app/config.h"
#include "gateway/admin/status.h"
#include "sync/export.h"
#include "sync/lake.h"
#include "sensor_sim/sensor_sim.h"
#include "version.h"

namespace {

int CheckConfig(const std::string& file) {
  auto config = sluice::gateway::LoadConfigFile(file);
  if (!config.ok()) {
    std::fprintf(stderr, "sluice: %s\n", config.status().message().c_str());
    return 1;
  }
  std::printf("%s: OK (gateway %s, site %s, store %s)\n", file.c_str(),
              config->gateway.id.c_str(), config->gateway.site.c_str(),
              config->store.dir.c_str());
  return 0;
}

spdlog::level::level_enum SpdLevel(sluice::gateway::LogLevel l) {
  using sluice::gateway::LogLevel;
  switch (l) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
  }
  return spdlog::level::info;
}

// Runs the gateway until SIGINT or SIGTERM, then drains and closes.
int Run(const std::string& file) {
  // Block the stop signals before any thread starts, so every thread
  // inherits the mask and sigwait() below is the only receiver.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  // Memory the service frees goes back to the system (docs/design.md,
  // "Memory"), unless the environment tunes malloc itself:
  // - glibc gives each thread that allocates an arena of its own, up to 8
  //   a core, and memory freed in one arena serves only that arena: with
  //   the service's dozen threads that kept 10 to 15 MiB resident which no
  //   thread used. Two arenas.
  // - Allocations of 256 KiB and more (a block being written, a commit
  //   group's buffer) are mapped and unmapped whole. By default glibc
  //   raises that threshold to the largest block freed so far, and then
  //   keeps such blocks in its heap after they are freed.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 2);
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 256 << 10);

  auto config = sluice::gateway::LoadConfigFile(file);
  if (!config.ok()) {
    std::fprintf(stderr, "sluice: %s\n", config.status().message().c_str());
    return 1;
  }
  spdlog::set_level(SpdLevel(config->log.level));
  spdlog::info("sluice {} starting: gateway {}, site {}, config {}", SLUICE_VERSION,
               config->gateway.id, config->gateway.site, file);
  spdlog::info(
      "board profile {} ({}): {}", config->board.profile,
      config->board.profile_path.empty() ? "built-in defaults" : config->board.profile_path,
      config->board.reason);
  auto app = sluice::gateway::App::Start(*config);
  if (!app.ok()) {
    spdlog::error("cannot start: {}", app.status().ToString());
    return 1;
  }
  spdlog::info("running; SIGINT or SIGTERM stops");
  // systemd (Type=notify): READY once serving, WATCHDOG at half the
  // configured interval with a status line. Without systemd these are no-ops.
  sd_notify(0, "READY=1\nSTATUS=running");
  sluice::Mutex mu;
  sluice::CondVar cv;
  bool stopping = false;
  std::thread watchdog;
  std::uint64_t watchdog_us = 0;
  if (sd_watchdog_enabled(0, &watchdog_us) > 0) {
    watchdog = std::thread([&] {
      sluice::MutexLock lock(mu);
      const auto period = std::chrono::microseconds(watchdog_us / 2);
      while (!cv.WaitFor(lock, period, [&]() SLUICE_REQUIRES(mu) { return stopping; })) {
        const std::string line = "WATCHDOG=1\nSTATUS=" + (*app)->StatsLine();
        sd_notify(0, line.c_str());
      }
    });
  }
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  sd_notify(0, "STOPPING=1\nSTATUS=draining");
  {
    sluice::MutexLock lock(mu);
    stopping = true;
  }
  cv.NotifyAll();
  if (watchdog.joinable()) watchdog.join();
  const sluice::Status closed = (*app)->Stop();
  std::printf("%s\n", (*app)->StatsLine().c_str());
  if (!closed.ok()) {
    spdlog::error("store close: {}", closed.ToString());
    return 1;
  }
  return 0;
}

// `sluice export`: partition objects to CSV or JSON Lines.
int Export(sluice::sync::ExportOptions options, const std::string& format,
           const std::string& start, const std::string& end, const std::string& output) {
  auto f = sluice::sync::ParseExportFormat(format);
  if (!f.ok()) {
    std::fprintf(stderr, "sluice export: --format: %s\n", f.status().message().c_str());
    return 2;
  }
  options.format = *f;
  for (auto [text, slot] :
       {std::pair{&start, &options.start_ns}, std::pair{&end, &options.end_ns}}) {
    if (text->empty()) continue;
    auto t = sluice::sync::ParseExportTime(*text);
    if (!t.ok()) {
      std::fprintf(stderr, "sluice export: '%s': %s\n", text->c_str(),
                   t.status().message().c_str());
      return 2;
    }
    *slot = *t;
  }
  auto stats = output.empty() ? sluice::sync::ExportObjects(options, std::cout)
                              : sluice::sync::ExportObjectsToFile(options, output);
  if (!stats.ok()) {
    std::fprintf(stderr, "sluice export: %s\n", stats.status().ToString().c_str());
    return 1;
  }
  for (const auto& u : stats->unmatched) {
    std::fprintf(stderr, "sluice export: warning: '%s' matched no series\n", u.c_str());
  }
  return 0;
}

// `sluice lake`: .slp objects -> Parquet (docs/central.md).
struct LakeArgs {
  sluice::sync::LakeOptions options;
  std::string shard = "0/1";
  std::string encoding = "compatible";
  std::string addressing = "path";
  std::string multipart_threshold, part_size;
};

// "123", "64MiB", "5M", "1GiB": bytes.
bool ParseBytes(const std::string& text, std::uint64_t& out) {
  std::size_t used = 0;
  unsigned long long n = 0;
  try {
    n = std::stoull(text, &used);
  } catch (...) {
    return false;
  }
  const std::string unit = text.substr(used);
  std::uint64_t mult = 1;
  if (unit == "" || unit == "B") mult = 1;
  else if (unit == "KiB" || unit == "K") mult = 1ull << 10;
  else if (unit == "MiB" || unit == "M") mult = 1ull << 20;
  else if (unit == "GiB" || unit == "G") mult = 1ull << 30;
  else return false;
  out = n * mult;
  return true;
}

std::string HumanBytes(double b) {
  char buf[32];
  if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  return buf;
}

std::string HumanCount(double n) {
  char buf[32];
  if (n >= 1e9) std::snprintf(buf, sizeof buf, "%.2fG", n / 1e9);
  else if (n >= 1e6) std::snprintf(buf, sizeof buf, "%.2fM", n / 1e6);
  else if (n >= 1e4) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f", n);
  return buf;
}

// One line, redrawn in place: bar, objects, points, MB, rate, ETA (by bytes).
void DrawLakeProgress(const sluice::sync::LakeProgress& p) {
  const double secs = static_cast<double>(p.elapsed_ns) / 1e9;
  const double frac = p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / p.bytes_total
                      : p.objects_total > 0 ? static_cast<double>(p.objects_done) / p.objects_total
                                            : 1.0;
  constexpr int kWidth = 24;
  std::string bar(kWidth, ' ');
  for (int i = 0; i < static_cast<int>(frac * kWidth) && i < kWidth; ++i) bar[i] = '=';
  const double rate = secs > 0 ? static_cast<double>(p.bytes_done) / secs : 0;
  std::string eta = "--:--";
  if (rate > 0 && p.bytes_done > 0) {
    const auto left = static_cast<long>((static_cast<double>(p.bytes_total - p.bytes_done)) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", left / 3600, left / 60 % 60, left % 60);
    eta = buf;
  }
  std::fprintf(
      stderr, "\r\033[K[%s] %llu/%llu objects  %s points  %s/%s  %s/s  %s points/s  ETA %s",
      bar.c_str(), static_cast<unsigned long long>(p.objects_done),
      static_cast<unsigned long long>(p.objects_total), HumanCount(p.points).c_str(),
      HumanBytes(p.bytes_done).c_str(), HumanBytes(p.bytes_total).c_str(), HumanBytes(rate).c_str(),
      HumanCount(secs > 0 ? p.points / secs : 0).c_str(), eta.c_str());
  std::fflush(stderr);
}

int Lake(LakeArgs& args) {
  auto& o = args.options;
  unsigned i = 0, n = 0;
  char slash = 0;
  if (std::sscanf(args.shard.c_str(), "%u%c%u", &i, &slash, &n) != 3 || slash != '/') {
    std::fprintf(stderr, "sluice lake: --shard '%s': expected i/N, e.g. 0/4\n", args.shard.c_str());
    return 2;
  }
  o.shard_index = i;
  o.shard_count = n;
  if (args.encoding == "compatible") {
    o.parquet.encodings = sluice::sync::ParquetEncodingSet::kCompatible;
  } else if (args.encoding == "compact") {
    o.parquet.encodings = sluice::sync::ParquetEncodingSet::kCompact;
  } else {
    std::fprintf(stderr, "sluice lake: --encoding must be compatible or compact\n");
    return 2;
  }
  if (args.addressing == "path") {
    o.s3.addressing = sluice::sync::S3Addressing::kPath;
  } else if (args.addressing == "virtual_host" || args.addressing == "virtual") {
    o.s3.addressing = sluice::sync::S3Addressing::kVirtualHost;
  } else {
    std::fprintf(stderr, "sluice lake: --s3-addressing must be path or virtual_host\n");
    return 2;
  }
  for (auto [text, slot] : {std::pair{&args.multipart_threshold, &o.s3.multipart_threshold_bytes},
                            std::pair{&args.part_size, &o.s3.multipart_part_bytes}}) {
    if (!text->empty() && !ParseBytes(*text, *slot)) {
      std::fprintf(stderr, "sluice lake: '%s' is not a size (bytes, or with KiB, MiB, GiB)\n",
                   text->c_str());
      return 2;
    }
  }
  const bool tty = isatty(STDERR_FILENO) != 0;
  bool drawn = false;
  auto stats = sluice::sync::RunLake(o, [&](const sluice::sync::LakeProgress& p) {
    if (!tty) return;
    DrawLakeProgress(p);
    drawn = true;
  });
  if (drawn) std::fputc('\n', stderr);
  if (!stats.ok()) {
    std::fprintf(stderr, "sluice lake: %s\n", stats.status().ToString().c_str());
    return stats.status().code() == sluice::StatusCode::kInvalidArgument ? 2 : 1;
  }
  for (const auto& e : stats->errors) std::fprintf(stderr, "sluice lake: failed: %s\n", e.c_str());
  const double secs = static_cast<double>(stats->elapsed_ns) / 1e9;
  const double per_s = secs > 0 ? 1.0 / secs : 0;
  std::printf(
      "lake: %llu objects: %llu converted, %llu already there, %llu copied, %llu parquet left "
      "alone, %llu failed; %llu points, %llu bytes read, %llu bytes written in %.2f s "
      "(%.0f points/s, %.1f MB/s read); %llu sources deleted, %llu incomplete uploads aborted; "
      "%llu for other shards, %llu not .slp/.parquet\n",
      static_cast<unsigned long long>(stats->converted + stats->already_there + stats->copied +
                                      stats->failed),
      static_cast<unsigned long long>(stats->converted),
      static_cast<unsigned long long>(stats->already_there),
      static_cast<unsigned long long>(stats->copied),
      static_cast<unsigned long long>(stats->skipped_parquet),
      static_cast<unsigned long long>(stats->failed),
      static_cast<unsigned long long>(stats->points),
      static_cast<unsigned long long>(stats->bytes_read),
      static_cast<unsigned long long>(stats->bytes_written), secs,
      static_cast<double>(stats->points) * per_s,
      static_cast<double>(stats->bytes_read) * per_s / 1e6,
      static_cast<unsigned long long>(stats->deleted_sources),
      static_cast<unsigned long long>(stats->aborted_uploads),
      static_cast<unsigned long long>(stats->other_shards),
      static_cast<unsigned long long>(stats->not_inputs));
  std::fflush(stdout);
  return stats->failed == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: edge IIoT ingestion gateway (MQTT in, durable store, S3 upstream)",
               "sluice"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);

  // Every subcommand that reads a configuration takes it the same way: as
  // its argument or with -c/--config.
  constexpr const char* kOperate = "Operate the gateway";
  constexpr const char* kData = "Work with the data";
  auto config_option = [](CLI::App* sub, std::string& file) {
    return sub->add_option("config,--config,-c", file, "TOML configuration file");
  };

  std::string config_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
  check->group(kOperate);
  config_option(check, config_file)->required();

  std::string run_config = "/etc/sluice/sluice.toml";
  auto* run = app.add_subcommand("run", "Run the gateway until SIGINT or SIGTERM");
  run->group(kOperate);
  config_option(run, run_config)->capture_default_str();

  sluice::sensor_sim::SimOptions sim;
  auto* simulate = app.add_subcommand("simulate", "Publish a simulated sensor fleet over MQTT");
  simulate->group(kData);
  sluice::sensor_sim::AddSimOptions(*simulate, sim);

  sluice::sync::ExportOptions export_options;
  std::string export_format = "csv", export_start, export_end, export_output;
  auto* exp = app.add_subcommand("export", "Write partition objects as CSV or JSON Lines");
  exp->group(kData);
  exp->add_option("inputs", export_options.inputs, "Object files or folders of *.slp")->required();
  exp->add_option("--format", export_format, "csv or jsonl")->capture_default_str();
  exp->add_option("--series", export_options.series, "Only these series (repeatable)");
  exp->add_option("--glob", export_options.series_globs, "Only series matching (repeatable)");
  exp->add_option("--start", export_start, "From this time (ns or RFC 3339), inclusive");
  exp->add_option("--end", export_end, "To this time (ns or RFC 3339), exclusive");
  exp->add_option("--output,-o", export_output, "Write here (atomically) instead of stdout");

  LakeArgs lake_args;
  auto* lake = app.add_subcommand(
      "lake", "Turn .slp objects into Parquet (same keys), resumable, at the core");
  lake->group(kData);
  {
    auto& o = lake_args.options;
    lake->add_option("--from", o.from, "Source: directory or s3://bucket/prefix")->required();
    lake->add_option("--to", o.to, "Target: directory or s3://bucket/prefix")->required();
    lake->add_option("--workers,-j", o.workers, "Parallel conversions (1..64)")
        ->capture_default_str();
    lake->add_option("--shard", lake_args.shard,
                     "Only objects of shard i of N (i/N; hash of the target key, docs/central.md)")
        ->capture_default_str();
    lake->add_option("--prefix", o.prefixes,
                     "Only relative keys starting with this (repeatable), e.g. site=plant-a/");
    lake->add_flag("--delete-source", o.delete_source,
                   "Delete each .slp once its Parquet object is confirmed");
    lake->add_option("--encoding", lake_args.encoding, "Parquet encodings: compatible or compact")
        ->capture_default_str();
    lake->add_option("--zstd", o.parquet.zstd_level, "zstd level 1..22, 0 uncompressed")
        ->capture_default_str();
    lake->add_option("--s3-endpoint", o.s3.endpoint, "S3 endpoint, e.g. https://s3.example:443")
        ->envname("SLUICE_S3_ENDPOINT");
    lake->add_option("--s3-region", o.s3.region, "SigV4 region (Ceph RGW: zonegroup, 'default')")
        ->capture_default_str();
    lake->add_option("--s3-addressing", lake_args.addressing, "path or virtual_host")
        ->capture_default_str();
    lake->add_option("--s3-credentials-file", o.s3.credentials_file,
                     "aws_access_key_id/aws_secret_access_key file, mode 0600 "
                     "(default: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)");
    lake->add_option("--s3-ca-file", o.s3.ca_file, "PEM CA bundle to trust (default: system)");
    lake->add_option("--s3-multipart-threshold", lake_args.multipart_threshold,
                     "Objects at least this large go multipart (>= 5MiB; default 64MiB)");
    lake->add_option("--s3-part-size", lake_args.part_size,
                     "Multipart part size (5MiB..5GiB; default 16MiB)");
  }

  std::string doctor_config = "/etc/sluice/sluice.toml";
  auto* doctor = app.add_subcommand(
      "doctor", "Check this box against a configuration; exit 0 pass, 1 warning, 2 failure");
  doctor->group(kOperate);
  config_option(doctor, doctor_config)->capture_default_str();

  sluice::gateway::status::StatusOptions status_options;
  auto* status = app.add_subcommand(
      "status", "Show a running gateway: rates, fills, sync backlog, errors (its admin endpoint)");
  status->group(kOperate);
  status
      ->add_option("--admin", status_options.admin,
                   "Admin endpoint URL, http:// or https:// (admin.tls_cert_file set)")
      ->capture_default_str();
  status->add_option("--ca-file", status_options.ca_file,
                     "https: PEM CA bundle the admin certificate must verify against "
                     "(default: the system's trust store)");
  status->add_option("--token-file", status_options.token_file,
                     "File with the admin bearer token (admin.token_file)");
  status->add_option("--watch,-w", status_options.watch_s,
                     "Redraw in place every SECONDS (default 2) until Ctrl-C")
      ->expected(0, 1)
      ->default_str("2");

  CLI11_PARSE(app, argc, argv);
  if (status->parsed()) return sluice::gateway::status::RunStatus(status_options);
  if (exp->parsed()) {
    return Export(export_options, export_format, export_start, export_end, export_output);
  }

  if (lake->parsed()) return Lake(lake_args);
  if (check->parsed()) return CheckConfig(config_file);
  if (doctor->parsed()) {
    auto config = sluice::gateway::LoadConfigFile(doctor_config);
    if (!config.ok()) {
      std::fprintf(stderr, "sluice doctor: %s\n", config.status().message().c_str());
      return 2;
    }
    return sluice::gateway::doctor::RunDoctor(*config);
  }
  if (run->parsed()) return Run(run_config);
  if (simulate->parsed()) return sluice::sensor_sim::RunSimulationMain(sim);
  return 2;
}
