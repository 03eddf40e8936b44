// Exporting partition objects as text, for people and tools that do not read
// the binary format: what `sluice export` runs.
//
// Input: object files (local, or downloaded from the upstream store) and
// folders of them. Output: CSV or JSON Lines, one line per record, to a file
// or an std::ostream. The Python twin is tools/python/sluice_reader.
//
// Output order is deterministic: objects in the order given (a folder
// contributes its `*.slp` files, recursively, sorted by path bytes), then the
// series of each object in metadata order (the order its writer added them),
// then each series' records in write order. No sorting by time happens: a
// partition may hold unordered or duplicate timestamps and they come out as
// written.
//
// Formats (docs: tools/python/README.md, "Export formats"):
//
//   CSV, RFC 4180, "\n" line ends, header
//     series,timestamp_ns,timestamp,value,type
//   JSON Lines, one object per record, keys in this order:
//     {"series":"a/b","timestamp_ns":1,"timestamp":"...","value":1.5,"type":"float64"}
//
//   timestamp_ns  integer ns since the Unix epoch (exact, signed 64-bit)
//   timestamp     RFC 3339 UTC with 9 fractional digits,
//                 1970-01-01T00:00:00.000000001Z
//   type          float64 | int64 | bool | bytes
//   value         float64: the shortest decimal that reads back to the same
//                 double (std::to_chars), with ".0" added when it would
//                 otherwise look like an integer ("1.0", "-0.0", "1e+22");
//                 "Infinity", "-Infinity", "NaN" for the canonical quiet NaN
//                 (bits 0x7ff8000000000000) and "NaN(0x<16 hex digits>)" for
//                 every other NaN, so that payloads survive. In JSON these
//                 four spellings are strings; finite values are numbers.
//                 int64: decimal. bool: true | false.
//                 bytes: base64 (RFC 4648, standard alphabet, padded); a
//                 JSON string in JSON Lines.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/env.h"

namespace sluice::sync {

enum class ExportFormat : std::uint8_t {
  kCsv = 1,
  kJsonLines = 2,
};

// "csv" or "jsonl" (also "json-lines", "ndjson"); InvalidArgument otherwise.
Result<ExportFormat> ParseExportFormat(std::string_view name);

struct ExportOptions {
  // Object files and folders; a folder stands for every `*.slp` file under
  // it, recursively. At least one. Default: none.
  std::vector<std::string> inputs;
  // Series to keep, by exact name. Together with `series_globs`: a series is
  // kept when it matches any entry of either. Both empty: every series.
  std::vector<std::string> series;
  // Shell-style patterns (fnmatch(3) without flags: `*` also matches `/`,
  // `?`, `[a-z]`, `[!x]`, backslash escapes). Default: none.
  std::vector<std::string> series_globs;
  // Half-open time range [start_ns, end_ns) in ns since the Unix epoch;
  // unset ends are unbounded (so an unset end includes INT64_MAX).
  std::optional<std::int64_t> start_ns;
  std::optional<std::int64_t> end_ns;
  // Default: CSV.
  ExportFormat format = ExportFormat::kCsv;
  // Write the CSV header line. Default: true.
  bool header = true;

  // InvalidArgument when there is no input, start >= end, or a glob or name
  // is empty.
  Status Validate() const;
};

struct ExportStats {
  std::uint64_t objects = 0;  // object files read
  std::uint64_t series = 0;   // (object, series) pairs that produced output
  std::uint64_t records = 0;  // lines written, header excluded
  // Entries of `series` and `series_globs` that matched no series in any
  // object, in option order: likely typos, for the caller to warn about.
  std::vector<std::string> unmatched;
};

// Runs an export to `out`. Errors name the file and what is wrong: a damaged
// object gives Corruption with the reader's message ("<path>: series 'x' ...
// bad CRC"), a missing one NotFound, a failed write IoError. Objects are read
// one at a time (memory: about one object plus its largest series). On error
// the lines written before it stay in `out`.
// `env` reads the objects; nullptr means the real file system.
Result<ExportStats> ExportObjects(const ExportOptions& options, std::ostream& out,
                                  store::Env* env = nullptr);

// The same, to the file `output_path`, which appears (atomically: temp file,
// sync, rename) only when the whole export succeeded; an existing file of
// that name is replaced then. A failure leaves no partial output behind.
Result<ExportStats> ExportObjectsToFile(const ExportOptions& options,
                                        const std::string& output_path,
                                        store::Env* env = nullptr);

// Command-line time arguments: integer ns since the epoch ("1700000000000000000",
// may be negative), or RFC 3339 "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+hh:mm|-hh:mm)"
// (a space instead of "T" and up to 9 fraction digits accepted). InvalidArgument
// naming the text otherwise, or when it lies outside the int64 ns range.
Result<std::int64_t> ParseExportTime(std::string_view text);

// RFC 3339 UTC with 9 fraction digits, as written in the exports.
std::string FormatRfc3339Nanos(std::int64_t ns);

}  // namespace sluice::sync
