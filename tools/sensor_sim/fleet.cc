#include "sensor_sim/fleet.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "sparkplug_b.pb.h"

namespace sluice::sensor_sim {

Result<Dataset> LoadDataset(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("dataset " + path + ": cannot open");
  std::string header;
  std::getline(in, header);
  const char sep = header.find(';') != std::string::npos ? ';' : ',';
  std::vector<std::vector<double>> cols;
  std::vector<bool> numeric;
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cells;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, sep)) cells.push_back(cell);
    if (cols.empty()) {
      cols.resize(cells.size());
      numeric.assign(cells.size(), true);
    }
    for (std::size_t c = 0; c < cells.size() && c < cols.size(); ++c) {
      char* end = nullptr;
      const double v = std::strtod(cells[c].c_str(), &end);
      if (end == cells[c].c_str() || *end != '\0') numeric[c] = false;
      cols[c].push_back(v);
    }
  }
  Dataset d;
  for (std::size_t c = 0; c < cols.size(); ++c) {
    if (numeric[c] && !cols[c].empty()) d.columns.push_back(std::move(cols[c]));
  }
  if (d.columns.empty()) return InvalidArgument("dataset " + path + ": no numeric column");
  return d;
}

double Fleet::Value(std::uint32_t device, std::uint32_t metric, std::uint64_t tick) const {
  if (data_.rows() > 0) {
    const auto& col = data_.columns[metric % data_.columns.size()];
    return col[(tick + device * 7919ull) % col.size()];
  }
  // Each series on its own phase, an irrational multiple of its device and
  // metric numbers: sine waves in step (or steps apart, as ticks are) differ
  // only by an offset and share the low bytes of every value, which no real
  // plant offers and a compressor that sees many series at once exploits.
  constexpr double kDevicePhase = 1.4142135623730951, kMetricPhase = 0.5772156649015329;
  return 20.0 + device + metric * 0.5 +
         std::sin(static_cast<double>(tick) / 10.0 + kMetricPhase * metric +
                  kDevicePhase * device + o_.phase);
}

std::pair<std::string, std::string> Fleet::Json(std::uint32_t device, std::uint64_t tick,
                                                std::int64_t ms) const {
  std::string p = "{\"ts\":" + std::to_string(ms);
  char buf[64];
  for (std::uint32_t m = 0; m < o_.metrics; ++m) {
    std::snprintf(buf, sizeof buf, ",\"m%u\":%.17g", m, Value(device, m, tick));
    p += buf;
  }
  p += "}";
  return {o_.topic_prefix + "/" + Device(device) + "/telemetry", p};
}

std::pair<std::string, std::string> Fleet::Birth(std::uint32_t device, std::int64_t ms) {
  sparkplug::Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(ms));
  p.set_seq(0);
  seq_[device] = 1;
  auto* bd = p.add_metrics();
  bd->set_name("bdSeq");
  bd->set_datatype(sparkplug::Int64);
  bd->set_long_value(0);
  for (std::uint32_t m = 0; m < o_.metrics; ++m) {
    auto* x = p.add_metrics();
    x->set_name("m" + std::to_string(m));
    x->set_alias(m + 1);
    x->set_datatype(sparkplug::Double);
    x->set_double_value(Value(device, m, 0));
  }
  return {"spBv1.0/" + o_.group + "/NBIRTH/" + Device(device), p.SerializeAsString()};
}

std::pair<std::string, std::string> Fleet::Data(std::uint32_t device, std::uint64_t tick,
                                                std::int64_t ms) {
  sparkplug::Payload p;
  p.set_timestamp(static_cast<std::uint64_t>(ms));
  p.set_seq(seq_[device]);
  seq_[device] = (seq_[device] + 1) % 256;
  for (std::uint32_t m = 0; m < o_.metrics; ++m) {
    auto* x = p.add_metrics();
    x->set_alias(m + 1);
    x->set_timestamp(static_cast<std::uint64_t>(ms));
    x->set_double_value(Value(device, m, tick));
  }
  return {"spBv1.0/" + o_.group + "/NDATA/" + Device(device), p.SerializeAsString()};
}

}  // namespace sluice::sensor_sim
