// Checks of a written Parquet file (as the specification reader in
// parquet_reader.h decoded it) against the writer's input, with doctest
// assertions: every record back bit-exact, and statistics and the page index
// equal to what the decoded values say they must be.
#pragma once

#include "parquet_reader.h"
#include "sync/parquet.h"

namespace sluice::sync::testing {

// Rows in the file's order equal the input's series by name, then time.
void CheckRoundTrip(const ParquetInput& in, const ParquetFileSeen& f);
// Per column chunk: null count, min/max, NaN count; a page index exactly on
// chunks of two or more pages, its locations and per-page bounds.
void CheckStatisticsAndPageIndex(const ParquetFileSeen& f);

}  // namespace sluice::sync::testing
