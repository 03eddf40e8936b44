// The Prometheus text exposition format (version 0.0.4), written by hand:
// HELP and TYPE lines, samples, histograms.
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "gateway/admin/admin_server.h"

namespace sluice::gateway {
namespace {

// The shortest text that reads back as the same double; integers without
// an exponent up to 1e15; NaN and infinities as Prometheus spells them.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char num[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(num, sizeof num, "%.0f", v);
    return num;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(num, sizeof num, "%.*g", precision, v);
    if (std::strtod(num, nullptr) == v) break;
  }
  return num;
}

}  // namespace

MetricsText& MetricsText::Family(const std::string& name, const std::string& type,
                                 const std::string& help) {
  // HELP text escapes backslash and newline only.
  std::string h;
  for (char c : help) {
    if (c == '\\')
      h += "\\\\";
    else if (c == '\n')
      h += "\\n";
    else
      h += c;
  }
  out_ += "# HELP " + name + " " + h + "\n# TYPE " + name + " " + type + "\n";
  return *this;
}

MetricsText& MetricsText::Sample(const std::string& name, double value, const std::string& labels) {
  out_ += name;
  if (!labels.empty()) out_ += "{" + labels + "}";
  out_ += " ";
  out_ += FormatValue(value);
  out_ += "\n";
  return *this;
}

MetricsText& MetricsText::Histogram(const std::string& name, const std::string& help,
                                    const std::vector<double>& upper_bounds,
                                    const std::vector<std::uint64_t>& counts, double sum) {
  Family(name, "histogram", help);
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < upper_bounds.size(); ++i) {
    cumulative += i < counts.size() ? counts[i] : 0;
    Sample(name + "_bucket", static_cast<double>(cumulative),
           "le=\"" + FormatValue(upper_bounds[i]) + "\"");
  }
  for (std::size_t i = upper_bounds.size(); i < counts.size(); ++i) cumulative += counts[i];
  Sample(name + "_bucket", static_cast<double>(cumulative), "le=\"+Inf\"");
  Sample(name + "_sum", sum);
  Sample(name + "_count", static_cast<double>(cumulative));
  return *this;
}

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace sluice::gateway
