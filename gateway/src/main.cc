// The `sluice` binary: one executable for the service and its tools.
#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "gateway/config.h"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Sluice: edge IIoT ingestion gateway (MQTT in, durable store, S3 upstream)",
               "sluice"};
  app.set_version_flag("--version", std::string("sluice ") + SLUICE_VERSION);
  app.require_subcommand(1);

  std::string config_file;
  auto* check = app.add_subcommand("check-config", "Validate a configuration file and exit");
  check->add_option("file", config_file, "TOML configuration file")->required();

  CLI11_PARSE(app, argc, argv);

  if (check->parsed()) return CheckConfig(config_file);
  return 2;
}
