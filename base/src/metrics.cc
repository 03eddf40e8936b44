// The Prometheus text exposition format (version 0.0.4), written by hand:
// HELP and TYPE lines, samples, histograms; and the registry that renders
// the registered families with it.
#include "base/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "base/status.h"

namespace sluice {
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

enum class Quotes : bool { kKeep, kEscape };

// Backslash and newline escaped; double quotes too with Quotes::kEscape
// (label values; HELP text keeps them).
std::string Escape(const std::string& text, Quotes quotes) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"' && quotes == Quotes::kEscape)
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

MetricsText& MetricsText::Family(const std::string& name, const std::string& type,
                                 const std::string& help) {
  out_ +=
      "# HELP " + name + " " + Escape(help, Quotes::kKeep) + "\n# TYPE " + name + " " + type + "\n";
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
  return HistogramSamples(name, upper_bounds, counts, sum);
}

MetricsText& MetricsText::HistogramSamples(const std::string& name,
                                           std::span<const double> upper_bounds,
                                           std::span<const std::uint64_t> counts, double sum) {
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

std::string EscapeLabel(const std::string& value) { return Escape(value, Quotes::kEscape); }

const char* MetricTypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

MetricSamples::MetricSamples(std::span<const MetricFamily> families)
    : families_(families), bodies_(families.size()) {}

void MetricSamples::Select(std::size_t family) {
  SLUICE_CHECK(family < families_.size());
  current_ = family;
}

void MetricSamples::Add(double value, std::initializer_list<std::string_view> label_values) {
  const MetricFamily& f = families_[current_];
  SLUICE_CHECK(label_values.size() == f.labels.size());
  std::string labels;
  std::size_t i = 0;
  for (std::string_view v : label_values) {
    if (i > 0) labels += ',';
    labels += f.labels[i++] + "=\"" + EscapeLabel(std::string(v)) + "\"";
  }
  bodies_[current_].Sample(f.name, value, labels);
}

void MetricSamples::Histogram(std::span<const double> upper_bounds,
                              std::span<const std::uint64_t> counts, double sum) {
  const MetricFamily& f = families_[current_];
  SLUICE_CHECK(f.type == MetricType::kHistogram);
  bodies_[current_].HistogramSamples(f.name, upper_bounds, counts, sum);
}

MetricRegistration& MetricRegistration::operator=(MetricRegistration&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = std::exchange(other.registry_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

void MetricRegistration::Reset() {
  if (registry_ != nullptr) std::exchange(registry_, nullptr)->Remove(id_);
}

MetricRegistration MetricRegistry::Register(std::vector<MetricFamily> families, CollectFn collect) {
  MutexLock lock(mu_);
  for (const MetricFamily& f : families) {
    for (const Entry& e : entries_) {
      for (const MetricFamily& g : e.families) SLUICE_CHECK(g.name != f.name);
    }
  }
  const std::uint64_t id = next_id_++;
  entries_.push_back({id, std::move(families), std::move(collect)});
  return MetricRegistration(this, id);
}

void MetricRegistry::Remove(std::uint64_t id) {
  MutexLock lock(mu_);
  std::erase_if(entries_, [id](const Entry& e) { return e.id == id; });
}

std::string MetricRegistry::Render() const {
  MutexLock lock(mu_);
  std::string text;
  for (const Entry& e : entries_) {
    MetricSamples samples(e.families);
    e.collect(samples);
    for (std::size_t i = 0; i < e.families.size(); ++i) {
      const MetricFamily& f = e.families[i];
      MetricsText head;
      head.Family(f.name, MetricTypeName(f.type), f.help);
      text += head.str();
      text += samples.bodies_[i].str();
    }
  }
  return text;
}

std::vector<std::string> MetricRegistry::Names() const {
  MutexLock lock(mu_);
  std::vector<std::string> names;
  for (const Entry& e : entries_) {
    for (const MetricFamily& f : e.families) names.push_back(f.name);
  }
  return names;
}

}  // namespace sluice
