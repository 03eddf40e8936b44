// Real sensor data replayed at its own pace, time-compressed: `sluice
// simulate --dataset FILE --speedup N`. The pure parts (no MQTT, no clock of
// their own) so that tests drive them with a clock they move by hand.
//
// The file: CSV with one header row, ',' or ';' separated (NAB:
// `timestamp,value`; SKAB: `datetime;Accelerometer1RMS;...`). Its time column
// is the first one whose first data cell reads as `YYYY-MM-DD HH:MM:SS`
// ('T' also accepted between date and time, optional fraction, optional
// 'Z'; read as UTC, only differences matter). Every other column whose cells
// all parse as numbers is a channel. A row whose time is not after the
// previous kept row's is skipped and counted (NAB's machine_temperature file
// steps back 55 minutes once): replay order is file order, and time only
// moves forward.
//
// The schedule: replay starts at wall time S (ms since the Unix epoch). Row
// i of pass k (passes repeat the file when it runs out) has data offset
// o = k * C + (t_i - t_0), where C = t_last - t_0 + the file's median spacing
// (one pass plus one typical step), and is due at, and carries the
// timestamp, S + floor(o / speedup), raised to one ms after the previous
// row's timestamp when compression would make them equal. So timestamps are
// plausible "now" times, strictly increasing per series, and the spacing
// between rows is the file's own divided by the speedup: NAB's 5-minute
// spacing at speedup 3000 is 100 ms, 10 rows per second.
//
// On the wire each channel is its own topic, `<prefix>/<sensor>/<channel>`,
// payload `{"ts":<ms>,"value":<v>}` (v the shortest decimal that reads back
// as the same double), so one ingest rule takes any file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sluice::sensor_sim {

struct ReplayData {
  std::string time_column;                  // its header name
  std::vector<std::string> channels;        // numeric column names, as topic levels
  std::vector<std::int64_t> times_ms;       // per kept row, strictly increasing
  std::vector<std::vector<double>> values;  // [channel][row]
  std::uint64_t skipped_rows = 0;           // time not after the previous kept row's
  std::int64_t median_spacing_ms = 0;       // of consecutive kept rows; 1000 for one row
  std::size_t rows() const { return times_ms.size(); }
};

// Reads `path`. `skip_rows` data rows are dropped first (to start inside the
// file); `columns`, when not empty, keeps only those channels (header names)
// in that order and refuses a name that is not a numeric column.
Result<ReplayData> LoadReplayData(const std::string& path, std::size_t skip_rows = 0,
                                  const std::vector<std::string>& columns = {});

// "2013-12-02 21:15:00" as ms since the Unix epoch, read as UTC.
Result<std::int64_t> ParseDateTimeMs(const std::string& text);

// A header name as one MQTT topic level and series name part: characters
// other than [A-Za-z0-9_.-] become '_' ("Volume Flow RateRMS" ->
// "Volume_Flow_RateRMS").
std::string TopicLevel(const std::string& name);

struct ReplayPoint {
  std::size_t row = 0;     // index into ReplayData rows
  std::uint64_t pass = 0;  // 0 for the first pass over the file
  std::int64_t ts_ms = 0;  // its timestamp, which is also when it is due
};

// Which row is due when. Not thread-safe; one per replayed file.
class ReplaySchedule {
 public:
  // REQUIRES (checked, aborts): times_ms not empty and strictly increasing,
  // speedup > 0, median_spacing_ms > 0.
  ReplaySchedule(std::vector<std::int64_t> times_ms, std::int64_t median_spacing_ms, double speedup,
                 std::int64_t start_ms);

  // The next row and its timestamp, without consuming it.
  const ReplayPoint& Next() const { return next_; }
  // The rows due at `now_ms` (timestamp <= now), in order, consumed.
  std::vector<ReplayPoint> Due(std::int64_t now_ms);

  // Rows per second of wall time over one pass (the file's average rate,
  // compressed).
  double RowsPerSecond() const;
  // Wall time of one pass over the file, ms.
  double PassMs() const { return static_cast<double>(cycle_ms_) / speedup_; }

 private:
  void Advance();

  std::vector<std::int64_t> times_ms_;
  std::int64_t cycle_ms_ = 0;
  double speedup_;
  std::int64_t start_ms_;
  ReplayPoint next_;
};

// {topic, payload} of channel `c` of `row` at `ts_ms`.
std::pair<std::string, std::string> ReplayMessage(const std::string& prefix,
                                                  const std::string& sensor, const ReplayData& data,
                                                  std::size_t c, std::size_t row,
                                                  std::int64_t ts_ms);

}  // namespace sluice::sensor_sim
