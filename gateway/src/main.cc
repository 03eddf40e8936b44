// The `sluice` binary: one executable for the service and its tools.
#include <signal.h>

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "gateway/app.h"
#include "gateway/config.h"
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
  auto app = sluice::gateway::App::Start(*config);
  if (!app.ok()) {
    spdlog::error("cannot start: {}", app.status().ToString());
    return 1;
  }
  spdlog::info("running; SIGINT or SIGTERM stops");
  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("signal {}: draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  const sluice::Status closed = (*app)->Stop();
  std::printf("%s\n", (*app)->StatsLine().c_str());
  if (!closed.ok()) {
    spdlog::error("store close: {}", closed.ToString());
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: edge IIoT ingestion gateway (MQTT in, durable store, S3 upstream)",
               "sluice"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);

  std::string config_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
  check->add_option("file", config_file, "TOML configuration file")->required();

  std::string run_config = "/etc/sluice/sluice.toml";
  auto* run = app.add_subcommand("run", "Run the gateway until SIGINT or SIGTERM");
  run->add_option("--config,-c", run_config, "TOML configuration file")->capture_default_str();

  sluice::sensor_sim::SimOptions sim;
  auto* simulate = app.add_subcommand("simulate", "Publish a simulated sensor fleet over MQTT");
  sluice::sensor_sim::AddSimOptions(*simulate, sim);

  CLI11_PARSE(app, argc, argv);

  if (check->parsed()) return CheckConfig(config_file);
  if (run->parsed()) return Run(run_config);
  if (simulate->parsed()) return sluice::sensor_sim::RunSimulationMain(sim);
  return 2;
}
