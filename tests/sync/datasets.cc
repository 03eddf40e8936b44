#include "datasets.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/civil_time.h"

namespace sluice::sync::testing {
namespace {

bool ParseTime(std::string_view s, std::int64_t* ns) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 19 || std::sscanf(std::string(s.substr(0, 19)).c_str(), "%d-%d-%d %d:%d:%d", &y,
                                   &mo, &d, &h, &mi, &sec) != 6) {
    return false;
  }
  std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *ns = ((days * 24 + h) * 60 + mi) * 60 + sec;
  *ns *= 1'000'000'000;
  return true;
}

std::vector<std::string_view> Split(std::string_view line, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  while (true) {
    std::size_t p = line.find(sep, start);
    out.push_back(line.substr(start, p == std::string_view::npos ? p : p - start));
    if (p == std::string_view::npos) return out;
    start = p + 1;
  }
}

}  // namespace

std::string DatasetsDir() { return SLUICE_SOURCE_DIR "/../shared/datasets"; }

Result<CsvTable> LoadCsv(const std::string& path, char sep, std::size_t max_columns) {
  std::ifstream in(path);
  if (!in) return NotFound(path + ": cannot open");
  CsvTable t;
  std::string line;
  if (!std::getline(in, line)) return InvalidArgument(path + ": no header");
  if (!line.empty() && line.back() == '\r') line.pop_back();  // some SKAB files end lines in CRLF
  auto header = Split(line, sep);
  std::size_t ncols = std::min(max_columns, header.size() - 1);
  for (std::size_t c = 0; c < ncols; ++c) t.names.emplace_back(header[c + 1]);
  t.columns.resize(ncols);
  std::size_t row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    auto f = Split(line, sep);
    std::int64_t ns;
    if (f.size() < ncols + 1 || !ParseTime(f[0], &ns)) {
      return InvalidArgument(path + ":" + std::to_string(row) + ": bad row");
    }
    t.timestamps_ns.push_back(ns);
    for (std::size_t c = 0; c < ncols; ++c) {
      double v;
      auto [p, ec] = std::from_chars(f[c + 1].data(), f[c + 1].data() + f[c + 1].size(), v);
      if (ec != std::errc()) return InvalidArgument(path + ":" + std::to_string(row) + ": bad number");
      t.columns[c].push_back(v);
    }
  }
  return t;
}

std::vector<std::string> SkabFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".csv") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace sluice::sync::testing

namespace sluice::sync::testing {

CsvTable Float32Readings(std::size_t series, std::size_t rows, std::uint64_t seed,
                         double perturbed, double hold) {
  // Steps in thousandths; finer ones more common.
  static constexpr std::int64_t kSteps[] = {1, 1, 1, 2, 5, 10, 50, 100, 250};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::normal_distribution<double> normal(0.0, 1.0);
  CsvTable t;
  const std::int64_t start = std::int64_t{1'767'225'600} * 1'000'000'000;  // 2026-01-01
  for (std::size_t r = 0; r < rows; ++r) {
    t.timestamps_ns.push_back(start + static_cast<std::int64_t>(r) * 1'000'000'000);
  }
  for (std::size_t s = 0; s < series; ++s) {
    t.names.push_back("f32/sensor" + std::to_string(s));
    const std::int64_t step = kSteps[rng() % std::size(kSteps)];
    const double base = std::exp(unit(rng) * 7.0) - 1.0;  // 0 .. ~1100, mostly small
    const double amplitude = (0.5 + unit(rng) * 20.0) * static_cast<double>(step) / 1000.0;
    const double period = 300.0 + unit(rng) * 3000.0;
    const double noise = static_cast<double>(step) / 1000.0 * (0.1 + unit(rng));
    double walk = 0;
    std::vector<double> col;
    col.reserve(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      walk += normal(rng) * noise * 0.05;
      const double x = base + walk + amplitude * std::sin(6.283185307179586 * static_cast<double>(r) / period) +
                       normal(rng) * noise * 0.3;
      // The reading: a multiple of the step, in thousandths, printed and read as float32.
      const std::int64_t milli = std::llround(x * 1000.0 / static_cast<double>(step)) * step;
      char buf[48];
      const std::int64_t whole = milli / 1000, frac = milli % 1000;
      const int n = std::snprintf(buf, sizeof buf, "%s%lld.%03lld", milli < 0 ? "-" : "",
                                  static_cast<long long>(whole < 0 ? -whole : whole),
                                  static_cast<long long>(frac < 0 ? -frac : frac));
      float f = 0;
      std::from_chars(buf, buf + n, f);
      double d = static_cast<double>(f);
      // Whether and how far a reading lands off its float32 depends on the
      // reading only (splitmix64 of its bits), as a conversion would.
      std::uint64_t h = std::bit_cast<std::uint32_t>(f) + 0x9e3779b97f4a7c15ULL * (seed | 1);
      h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
      h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
      h ^= h >> 31;
      if (f != 0 && static_cast<double>(h >> 11) * 0x1p-53 < perturbed) {  // zero minus an ulp: a NaN pattern
        const std::uint64_t k = (h & 3) % 3 + 1;
        const std::uint64_t bits = std::bit_cast<std::uint64_t>(d);
        d = std::bit_cast<double>(h & 4 ? bits + k : bits - k);
      }
      if (r > 0 && unit(rng) < hold) d = col.back();
      col.push_back(d);
    }
    t.columns.push_back(std::move(col));
  }
  return t;
}

}  // namespace sluice::sync::testing
