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

// Every SKAB file (sorted paths), 8 sensor columns each.
std::vector<std::string> SkabFiles();

}  // namespace sluice::sync::testing
