// Loads the real sensor datasets in ../shared/datasets (see its README) as
// columns of doubles, parsed with correct rounding so that what a test writes
// is exactly what the CSV says.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::sync::testing {

struct CsvTable {
  std::vector<std::string> names;            // value columns
  std::vector<std::int64_t> timestamps_ns;   // one per row
  std::vector<std::vector<double>> columns;  // columns[c][row]
};

// The datasets folder beside the checkout: SLUICE_SOURCE_DIR "/../shared/datasets".
std::string DatasetsDir();

// `sep`-separated, header row, first column "YYYY-MM-DD HH:MM:SS" (UTC), then
// up to `max_columns` numeric columns.
Result<CsvTable> LoadCsv(const std::string& path, char sep, std::size_t max_columns);

// Every SKAB file (sorted paths) under `dir` (default: DatasetsDir()/skab),
// 8 sensor columns each.
std::vector<std::string> SkabFiles(const std::string& dir = DatasetsDir() + "/skab");

}  // namespace sluice::sync::testing

namespace sluice::sync::testing {

// Synthetic readings as a field bus that carries float32 delivers them
// (a PLC register, an OPC UA Float, a float field on the wire): each sensor
// reads to 3 decimals or coarser (steps of 0.001 to 0.25, so slow signals
// repeat values), the reading is rounded to float32 and widened to float64,
// and `perturbed` of the distinct readings (a quarter by default) then land
// 1 to 3 float64 ulps away from any float32, as after a unit conversion in
// float64: the same reading always gives the same double. With `hold`, a
// sensor repeats its previous reading with that probability (sample and
// hold, report by exception). One row a second; `series` columns of `rows`
// rows. Deterministic for a seed.
CsvTable Float32Readings(std::size_t series, std::size_t rows, std::uint64_t seed,
                         double perturbed = 0.25, double hold = 0.0);

}  // namespace sluice::sync::testing
