// The `sluice` binary: one executable for the service and its tools.
#include <signal.h>

#include <systemd/sd-daemon.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "doctor/doctor.h"
#include "gateway/app.h"
#include "gateway/config.h"
#include "status/status.h"
#include "sync/export.h"
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

  auto config = sluice::gateway::LoadConfigFile(file);
  if (!config.ok()) {
    std::fprintf(stderr, "sluice: %s\n", config.status().message().c_str());
    return 1;
  }
  spdlog::set_level(SpdLevel(config->log.level));
  spdlog::info("sluice {} starting: gateway {}, site {}, config {}", SLUICE_VERSION,
               config->gateway.id, config->gateway.site, file);
  spdlog::info("board profile {} ({}): {}", config->board.profile,
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
  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::thread watchdog;
  std::uint64_t watchdog_us = 0;
  if (sd_watchdog_enabled(0, &watchdog_us) > 0) {
    watchdog = std::thread([&] {
      std::unique_lock lock(mu);
      while (!cv.wait_for(lock, std::chrono::microseconds(watchdog_us / 2), [&] { return stopping; })) {
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
    std::lock_guard lock(mu);
    stopping = true;
  }
  cv.notify_all();
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
  for (auto [text, slot] : {std::pair{&start, &options.start_ns}, std::pair{&end, &options.end_ns}}) {
    if (text->empty()) continue;
    auto t = sluice::sync::ParseExportTime(*text);
    if (!t.ok()) {
      std::fprintf(stderr, "sluice export: '%s': %s\n", text->c_str(), t.status().message().c_str());
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

  std::string doctor_config = "/etc/sluice/sluice.toml";
  auto* doctor = app.add_subcommand(
      "doctor", "Check this box against a configuration; exit 0 pass, 1 warning, 2 failure");
  doctor->group(kOperate);
  config_option(doctor, doctor_config)->capture_default_str();

  sluice::gateway::status::StatusOptions status_options;
  auto* status = app.add_subcommand(
      "status", "Show a running gateway: rates, fills, sync backlog, errors (its admin endpoint)");
  status->group(kOperate);
  status->add_option("--admin", status_options.admin, "Admin endpoint URL")->capture_default_str();
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
