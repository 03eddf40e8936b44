// Partition -> objects and keys. Everything here is a pure function of the
// store's contents and the options: no clock, no randomness, so that a
// partition encoded again after a restart gives the same bytes under the
// same keys and the sink can recognise a retried upload as identical.
//
// Each series' records are sorted by time (then by value, so that the order
// does not depend on arrival), exact duplicates are dropped, and the records
// are split by UTC hour of their own timestamps: one object per hour.
#include <algorithm>
#include <bit>
#include <cstring>
#include <map>
#include <optional>

#include "sync/engine.h"
#include "sync/object_key.h"

namespace sluice::sync {
namespace {

constexpr std::int64_t kHourNs = 3'600'000'000'000;

std::int64_t HourOf(std::int64_t ts) {
  const std::int64_t h = ts / kHourNs * kHourNs;
  return ts < 0 && h != ts ? h - kHourNs : h;
}

// A total order on values of one type, bit-exact for doubles (NaN payloads
// and -0.0 are values of their own, as the object keeps them).
int CompareValues(const store::Value& a, const store::Value& b) {
  if (a.index() != b.index()) return a.index() < b.index() ? -1 : 1;
  if (const auto* x = std::get_if<double>(&a)) {
    const auto ua = std::bit_cast<std::uint64_t>(*x);
    const auto ub = std::bit_cast<std::uint64_t>(std::get<double>(b));
    return ua < ub ? -1 : ua > ub;
  }
  if (const auto* x = std::get_if<std::int64_t>(&a)) {
    const auto y = std::get<std::int64_t>(b);
    return *x < y ? -1 : *x > y;
  }
  if (const auto* x = std::get_if<bool>(&a)) {
    const bool y = std::get<bool>(b);
    return *x == y ? 0 : (*x ? 1 : -1);
  }
  const int c = std::get<std::string>(a).compare(std::get<std::string>(b));
  return c < 0 ? -1 : c > 0;
}

// One series' records: sorted by (time, value); exact duplicates dropped
// when asked; conflicts (same time, another value) counted.
void Normalise(std::vector<store::Record>& records, bool deduplicate, EncodedPartition& out) {
  auto less = [](const store::Record& a, const store::Record& b) {
    if (a.timestamp_ns != b.timestamp_ns) return a.timestamp_ns < b.timestamp_ns;
    return CompareValues(a.value, b.value) < 0;
  };
  if (!std::is_sorted(records.begin(), records.end(), less)) {
    std::stable_sort(records.begin(), records.end(), less);
  }
  std::size_t kept = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (kept > 0 && records[kept - 1].timestamp_ns == records[i].timestamp_ns) {
      if (CompareValues(records[kept - 1].value, records[i].value) == 0) {
        if (deduplicate) {
          ++out.duplicates_dropped;
          continue;
        }
      } else {
        ++out.timestamp_conflicts;
      }
    }
    if (kept != i) records[kept] = std::move(records[i]);
    ++kept;
  }
  records.resize(kept);
}

}  // namespace

const char* ObjectFormatName(ObjectFormat format) {
  return format == ObjectFormat::kParquet ? "parquet" : "slp";
}

std::uint64_t EncodedPartition::bytes() const {
  std::uint64_t n = 0;
  for (const auto& o : objects) n += o.bytes.size();
  return n;
}

Result<std::string> SyncObjectKey(const SyncEngineOptions& options, const store::PartitionId& id,
                                  std::optional<std::int64_t> data_hour_ns) {
  ObjectKeyParts parts;
  parts.prefix = options.key_prefix;
  parts.site = options.site;
  parts.gateway_id = options.gateway_id;
  parts.window_start_ns = id.window_start_ns;
  parts.shard = id.shard;
  // The store has one regular and at most one late partition per window and
  // shard; seq tells them apart and keeps both keys stable.
  parts.seq = id.late ? 1 : 0;
  parts.data_hour_ns = data_hour_ns;
  parts.extension = ObjectFormatName(options.format);
  return BuildObjectKey(parts);
}

Result<EncodedPartition> EncodePartitionObjects(const store::Store& store,
                                                const SyncEngineOptions& options,
                                                const store::PartitionId& id,
                                                std::int64_t late_before_ns) {
  // ReadPartition visits series in ascending id order: series go into each
  // object in a stable order.
  struct Series {
    store::SeriesInfo info;
    std::vector<store::Record> records;
  };
  std::vector<Series> series;
  Status failed;
  const Status read = store.ReadPartition(id, [&](const store::Record& r) {
    if (series.empty() || series.back().info.id != r.series) {
      const auto info = store.GetSeries(r.series);
      if (!info) {
        failed = Corruption("series " + std::to_string(r.series.value) +
                            " has records but is not registered");
        return false;
      }
      series.push_back({*info, {}});
    }
    series.back().records.push_back(r);
    return true;
  });
  SLUICE_RETURN_IF_ERROR(read);
  SLUICE_RETURN_IF_ERROR(failed);

  EncodedPartition out;
  PartitionIdentity identity;
  identity.gateway_id = options.gateway_id;
  identity.site = options.site;
  identity.window_start_ns = id.window_start_ns;
  identity.window_length_ns = std::chrono::nanoseconds(options.partition_window).count();
  identity.shard = id.shard;
  identity.late = id.late;
  // Records of each hour, then one writer per hour in the chosen format.
  struct Hour {
    std::vector<const Series*> series;
    std::vector<std::pair<std::size_t, std::size_t>> ranges;  // [begin, end) in series->records
    std::uint64_t records = 0;
  };
  std::map<std::int64_t, Hour> hours;
  for (auto& s : series) {
    Normalise(s.records, options.deduplicate, out);
    // Sorted by time: the late records are a prefix.
    for (const auto& r : s.records) {
      if (r.timestamp_ns >= late_before_ns) break;
      ++out.late_records;
    }
    std::size_t begin = 0;
    while (begin < s.records.size()) {
      // Records are sorted, so each hour of a series is one run.
      const std::int64_t hour = HourOf(s.records[begin].timestamp_ns);
      std::size_t end = begin;
      while (end < s.records.size() && HourOf(s.records[end].timestamp_ns) == hour) ++end;
      Hour& h = hours[hour];
      h.series.push_back(&s);
      h.ranges.emplace_back(begin, end);
      h.records += end - begin;
      out.records += end - begin;
      begin = end;
    }
  }
  for (const auto& [hour, h] : hours) {
    SLUICE_ASSIGN_OR_RETURN(auto key, SyncObjectKey(options, id, hour));
    Result<std::string> bytes = std::string();
    if (options.format == ObjectFormat::kParquet) {
      ParquetInputBuilder builder(identity);
      for (std::size_t i = 0; i < h.series.size(); ++i) {
        SLUICE_RETURN_IF_ERROR(builder.AddSeries(h.series[i]->info));
        for (std::size_t k = h.ranges[i].first; k < h.ranges[i].second; ++k) {
          SLUICE_RETURN_IF_ERROR(builder.Append(h.series[i]->records[k]));
        }
      }
      bytes = WriteParquet(builder.Finish(), options.parquet);
    } else {
      PartitionWriter writer(identity, options.writer);
      for (std::size_t i = 0; i < h.series.size(); ++i) {
        SLUICE_RETURN_IF_ERROR(writer.AddSeries(h.series[i]->info));
        for (std::size_t k = h.ranges[i].first; k < h.ranges[i].second; ++k) {
          SLUICE_RETURN_IF_ERROR(writer.Append(h.series[i]->records[k]));
        }
      }
      bytes = writer.Finish();
    }
    if (!bytes.ok()) return bytes.status();
    out.objects.push_back({std::move(key), std::move(*bytes), hour, h.records});
  }
  return out;
}

Result<std::string> EncodePartition(const store::Store& store, const SyncEngineOptions& options,
                                    const store::PartitionId& id) {
  SLUICE_ASSIGN_OR_RETURN(auto encoded, EncodePartitionObjects(store, options, id));
  if (encoded.objects.size() != 1) {
    return InvalidArgument("partition holds data of " + std::to_string(encoded.objects.size()) +
                           " hours, not one");
  }
  return std::move(encoded.objects.front().bytes);
}

}  // namespace sluice::sync
