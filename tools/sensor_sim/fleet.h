// The simulated fleet's data, shared by the Paho and wire engines: values
// (synthetic, or replayed from a CSV file), topics and payloads.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "sensor_sim/sensor_sim.h"

namespace sluice::sensor_sim {

// Numeric columns of a CSV file (',' or ';' separated, one header row).
struct Dataset {
  std::vector<std::vector<double>> columns;
  std::size_t rows() const { return columns.empty() ? 0 : columns[0].size(); }
};

Result<Dataset> LoadDataset(const std::string& path);

// Topics and payloads of `o.devices` devices with `o.metrics` metrics each.
// Sparkplug sequence numbers are kept per device, so one device's messages
// must be made on one thread.
class Fleet {
 public:
  Fleet(const SimOptions& o, Dataset data) : o_(o), data_(std::move(data)), seq_(o.devices, 0) {}

  double Value(std::uint32_t device, std::uint32_t metric, std::uint64_t tick) const;
  std::string Device(std::uint32_t d) const { return "dev-" + std::to_string(d); }

  // {topic, payload} of the JSON message of `device` at `tick`.
  std::pair<std::string, std::string> Json(std::uint32_t device, std::uint64_t tick,
                                           std::int64_t ms) const;
  // Sparkplug NBIRTH of `device` (restarts its seq).
  std::pair<std::string, std::string> Birth(std::uint32_t device, std::int64_t ms);
  // Sparkplug NDATA of `device` at `tick`, metrics by alias.
  std::pair<std::string, std::string> Data(std::uint32_t device, std::uint64_t tick,
                                           std::int64_t ms);

 private:
  const SimOptions& o_;
  Dataset data_;
  std::vector<std::uint32_t> seq_;
};

}  // namespace sluice::sensor_sim
