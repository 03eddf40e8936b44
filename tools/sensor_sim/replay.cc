#include "sensor_sim/replay.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/civil_time.h"

namespace sluice::sensor_sim {
namespace {

std::vector<std::string> SplitCells(const std::string& line, char sep) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, sep)) cells.push_back(cell);
  if (!line.empty() && line.back() == sep) cells.emplace_back();
  return cells;
}

bool ParseNumber(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end != s.c_str() && *end == '\0';
}

// Digits [pos, pos + n) of s as an integer; false when any is not a digit.
bool Digits(const std::string& s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

std::int64_t Median(std::vector<std::int64_t> v) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace

Result<std::int64_t> ParseDateTimeMs(const std::string& t) {
  int y, mo, d, h, mi, s;
  const bool shape = t.size() >= 19 && Digits(t, 0, 4, y) && t[4] == '-' && Digits(t, 5, 2, mo) &&
                     t[7] == '-' && Digits(t, 8, 2, d) && (t[10] == ' ' || t[10] == 'T') &&
                     Digits(t, 11, 2, h) && t[13] == ':' && Digits(t, 14, 2, mi) && t[16] == ':' &&
                     Digits(t, 17, 2, s);
  if (!shape || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) {
    return InvalidArgument("'" + t + "' is not YYYY-MM-DD HH:MM:SS");
  }
  std::size_t pos = 19;
  int ms = 0;
  if (pos < t.size() && t[pos] == '.') {
    int scale = 100, digits = 0;
    for (++pos; pos < t.size() && t[pos] >= '0' && t[pos] <= '9'; ++pos, ++digits) {
      ms += (t[pos] - '0') * scale;
      scale /= 10;
    }
    if (digits == 0) return InvalidArgument("'" + t + "': empty fraction");
  }
  if (pos < t.size() && t[pos] == 'Z') ++pos;
  if (pos != t.size()) return InvalidArgument("'" + t + "': unexpected text after the time");
  const std::int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return ((days * 24 + h) * 60 + mi) * 60000 + s * 1000 + ms;
}

std::string TopicLevel(const std::string& name) {
  std::string out = name;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) c = '_';
  }
  return out.empty() ? "_" : out;
}

Result<ReplayData> LoadReplayData(const std::string& path, std::size_t skip_rows,
                                  const std::vector<std::string>& columns) {
  std::ifstream in(path);
  if (!in) return NotFound("dataset " + path + ": cannot open");
  const auto where = [&](std::size_t line) { return path + ":" + std::to_string(line) + ": "; };
  std::string header;
  if (!std::getline(in, header)) return InvalidArgument("dataset " + path + ": empty");
  if (!header.empty() && header.back() == '\r') header.pop_back();
  const char sep = header.find(';') != std::string::npos ? ';' : ',';
  const std::vector<std::string> names = SplitCells(header, sep);

  std::vector<std::vector<std::string>> rows;
  std::vector<std::size_t> lines;  // file line of each row, for errors
  std::string line;
  for (std::size_t n = 2, data_row = 0; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (data_row++ < skip_rows) continue;
    auto cells = SplitCells(line, sep);
    if (cells.size() != names.size()) {
      return InvalidArgument(where(n) + std::to_string(cells.size()) + " cells, the header has " +
                             std::to_string(names.size()));
    }
    rows.push_back(std::move(cells));
    lines.push_back(n);
  }
  if (rows.empty()) {
    return InvalidArgument("dataset " + path + ": no data rows after skipping " +
                           std::to_string(skip_rows));
  }

  ReplayData data;
  std::size_t time_col = names.size();
  for (std::size_t c = 0; c < names.size() && time_col == names.size(); ++c) {
    if (ParseDateTimeMs(rows[0][c]).ok()) time_col = c;
  }
  if (time_col == names.size()) {
    return InvalidArgument(where(lines[0]) + "no column reads as YYYY-MM-DD HH:MM:SS");
  }
  data.time_column = names[time_col];

  std::vector<std::size_t> numeric;
  for (std::size_t c = 0; c < names.size(); ++c) {
    if (c == time_col) continue;
    double v;
    if (std::all_of(rows.begin(), rows.end(),
                    [&](const auto& r) { return ParseNumber(r[c], v); })) {
      numeric.push_back(c);
    }
  }
  std::vector<std::size_t> picked;
  if (columns.empty()) {
    picked = numeric;
  } else {
    for (const auto& want : columns) {
      auto it = std::find_if(numeric.begin(), numeric.end(),
                             [&](std::size_t c) { return names[c] == want; });
      if (it == numeric.end()) {
        return InvalidArgument("dataset " + path + ": no numeric column '" + want + "'");
      }
      picked.push_back(*it);
    }
  }
  if (picked.empty()) return InvalidArgument("dataset " + path + ": no numeric column");
  for (std::size_t c : picked) data.channels.push_back(TopicLevel(names[c]));
  data.values.resize(picked.size());

  for (std::size_t r = 0; r < rows.size(); ++r) {
    auto t = ParseDateTimeMs(rows[r][time_col]);
    if (!t.ok()) return InvalidArgument(where(lines[r]) + t.status().message());
    if (!data.times_ms.empty() && *t <= data.times_ms.back()) {
      ++data.skipped_rows;
      continue;
    }
    data.times_ms.push_back(*t);
    for (std::size_t k = 0; k < picked.size(); ++k) {
      double v = 0;
      ParseNumber(rows[r][picked[k]], v);
      data.values[k].push_back(v);
    }
  }
  if (data.rows() < 2) {
    data.median_spacing_ms = 1000;
  } else {
    std::vector<std::int64_t> gaps;
    gaps.reserve(data.rows() - 1);
    for (std::size_t r = 1; r < data.rows(); ++r) {
      gaps.push_back(data.times_ms[r] - data.times_ms[r - 1]);
    }
    data.median_spacing_ms = Median(std::move(gaps));
  }
  return data;
}

ReplaySchedule::ReplaySchedule(std::vector<std::int64_t> times_ms, std::int64_t median_spacing_ms,
                               double speedup, std::int64_t start_ms)
    : times_ms_(std::move(times_ms)), speedup_(speedup), start_ms_(start_ms) {
  SLUICE_CHECK(!times_ms_.empty() && speedup > 0 && median_spacing_ms > 0);
  SLUICE_CHECK(std::adjacent_find(times_ms_.begin(), times_ms_.end(),
                                  [](std::int64_t a, std::int64_t b) { return b <= a; }) ==
               times_ms_.end());
  cycle_ms_ = times_ms_.back() - times_ms_.front() + median_spacing_ms;
  next_ = {0, 0, start_ms};
}

void ReplaySchedule::Advance() {
  if (++next_.row == times_ms_.size()) {
    next_.row = 0;
    ++next_.pass;
  }
  const double offset = static_cast<double>(next_.pass) * static_cast<double>(cycle_ms_) +
                        static_cast<double>(times_ms_[next_.row] - times_ms_.front());
  const auto ts = start_ms_ + static_cast<std::int64_t>(std::floor(offset / speedup_));
  next_.ts_ms = std::max(ts, next_.ts_ms + 1);
}

std::vector<ReplayPoint> ReplaySchedule::Due(std::int64_t now_ms) {
  std::vector<ReplayPoint> due;
  while (next_.ts_ms <= now_ms) {
    due.push_back(next_);
    Advance();
  }
  return due;
}

double ReplaySchedule::RowsPerSecond() const {
  return static_cast<double>(times_ms_.size()) * 1000.0 / PassMs();
}

std::pair<std::string, std::string> ReplayMessage(const std::string& prefix,
                                                  const std::string& sensor, const ReplayData& data,
                                                  std::size_t c, std::size_t row,
                                                  std::int64_t ts_ms) {
  std::string payload = "{\"ts\":" + std::to_string(ts_ms) + ",\"value\":";
  const double v = data.values[c][row];
  if (std::isfinite(v)) {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round trip
    payload.append(buf, r.ptr);
  } else {
    payload += "null";  // JSON has no NaN or infinity; the gateway counts nulls
  }
  payload += "}";
  return {prefix + "/" + sensor + "/" + data.channels[c], std::move(payload)};
}

}  // namespace sluice::sensor_sim
