// .slp -> Parquet for one object, and the key arithmetic of `sluice lake`.
// Pure functions: no I/O, no clock.
#include <algorithm>
#include <numeric>

#include "sync/lake.h"
#include "sync/partition.h"

namespace sluice::sync {
namespace {

constexpr std::string_view kSlp = ".slp";
constexpr std::string_view kParquet = ".parquet";

// Sorts a series by time, stable (equal timestamps keep their write order),
// moving its values along. Objects from the sync engine are sorted already.
void SortByTime(SeriesColumns& c) {
  auto& ts = c.timestamps;
  if (std::is_sorted(ts.begin(), ts.end())) return;
  std::vector<std::size_t> order(ts.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return ts[a] < ts[b]; });
  std::vector<std::int64_t> sorted_ts(ts.size());
  for (std::size_t i = 0; i < order.size(); ++i) sorted_ts[i] = ts[order[i]];
  ts = std::move(sorted_ts);
  std::visit(
      [&](auto& values) {
        std::remove_reference_t<decltype(values)> sorted(values.size());
        for (std::size_t i = 0; i < order.size(); ++i) sorted[i] = std::move(values[order[i]]);
        values = std::move(sorted);
      },
      c.values);
}

}  // namespace

std::uint32_t LakeShardOf(std::string_view target_key, std::uint32_t count) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a 64
  for (unsigned char c : target_key) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  // FNV-1a's low bits are weak (bit 0 is the parity of the bytes' low bits:
  // one gateway's keys all fell in one of two shards), so mix before the
  // modulo: MurmurHash3's fmix64.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return count == 0 ? 0 : static_cast<std::uint32_t>(h % count);
}

Result<std::string> LakeTargetKey(std::string_view source_key) {
  if (source_key.size() > kSlp.size() && source_key.ends_with(kSlp)) {
    return std::string(source_key.substr(0, source_key.size() - kSlp.size())) + std::string(kParquet);
  }
  if (source_key.size() > kParquet.size() && source_key.ends_with(kParquet)) {
    return std::string(source_key);
  }
  return NotFound("'" + std::string(source_key) + "' is neither .slp nor .parquet");
}

Result<LakeConverted> ConvertSlpToParquet(std::string slp, const ParquetOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(auto reader, PartitionReader::Open(std::move(slp)));
  ParquetInput input;
  input.identity = reader.metadata().identity;
  input.series.reserve(reader.series_count());
  LakeConverted out;
  for (std::size_t i = 0; i < reader.series_count(); ++i) {
    const SeriesEntry& entry = reader.series(i);
    SLUICE_ASSIGN_OR_RETURN(auto columns, reader.ReadColumns(i));
    SortByTime(columns);
    out.points += columns.timestamps.size();
    input.series.push_back({entry.info.name, entry.info.unit, std::move(columns)});
  }
  std::sort(input.series.begin(), input.series.end(),
            [](const ParquetSeries& a, const ParquetSeries& b) { return a.name < b.name; });
  auto parquet = WriteParquet(input, options);
  if (!parquet.ok()) return parquet.status();
  out.parquet = std::move(*parquet);
  return out;
}

}  // namespace sluice::sync
