// Checks of a written Parquet file against its input, recomputed from the
// values the specification reader (parquet_reader.h) decoded.
#include "parquet_checks.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>

namespace sluice::sync::testing {
namespace {

constexpr int kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5;

std::size_t Col(ParquetColumn c) { return static_cast<std::size_t>(c); }

// One record as the file should give it back.
struct Row {
  std::string series, unit;
  std::int64_t ts = 0;
  store::Value value;
};

bool SameValue(const store::Value& a, const store::Value& b) {
  if (a.index() != b.index()) return false;
  if (const auto* d = std::get_if<double>(&a)) {
    return std::bit_cast<std::uint64_t>(*d) == std::bit_cast<std::uint64_t>(std::get<double>(b));
  }
  return a == b;
}

std::vector<Row> RowsOf(const ParquetInput& in) {
  std::vector<Row> rows;
  for (const ParquetSeries& s : in.series) {
    for (std::size_t i = 0; i < s.columns.timestamps.size(); ++i) {
      Row r{s.name, s.unit, s.columns.timestamps[i], {}};
      std::visit(
          [&](const auto& col) {
            using V = typename std::decay_t<decltype(col)>::value_type;
            if constexpr (std::is_same_v<V, std::uint8_t>) {
              r.value = col[i] != 0;
            } else {
              r.value = col[i];
            }
          },
          s.columns.values);
      rows.push_back(std::move(r));
    }
  }
  return rows;
}

std::vector<Row> RowsOf(const ParquetFileSeen& f) {
  const auto& c = f.columns;
  REQUIRE(c.size() == kParquetColumnCount);
  std::vector<Row> rows;
  std::array<std::size_t, 4> at{};
  const std::size_t n = c[Col(ParquetColumn::kSeries)].bytes.size();
  static const char* const kTypes[] = {"float64", "int64", "bool", "bytes"};
  for (std::size_t i = 0; i < n; ++i) {
    Row r;
    r.series = c[Col(ParquetColumn::kSeries)].bytes[i];
    r.unit = c[Col(ParquetColumn::kUnit)].bytes[i];
    const std::int64_t us = c[Col(ParquetColumn::kTimestamp)].i64[i];
    const std::int32_t ns = c[Col(ParquetColumn::kTimestampNanos)].i32[i];
    REQUIRE(ns >= 0);
    REQUIRE(ns <= 999);
    r.ts = us * 1000 + ns;
    int defined = 0, which = -1;
    for (int k = 0; k < 4; ++k) {
      if (c[Col(ParquetColumn::kValueDouble) + static_cast<std::size_t>(k)].defined[i] != 0) {
        ++defined;
        which = k;
      }
    }
    REQUIRE(defined == 1);
    auto& cur = at[static_cast<std::size_t>(which)];
    switch (which) {
      case 0: r.value = c[Col(ParquetColumn::kValueDouble)].f64.at(cur++); break;
      case 1: r.value = c[Col(ParquetColumn::kValueInt)].i64.at(cur++); break;
      case 2: r.value = c[Col(ParquetColumn::kValueBool)].booleans.at(cur++) != 0; break;
      default: r.value = c[Col(ParquetColumn::kValueBytes)].bytes.at(cur++); break;
    }
    CHECK(c[Col(ParquetColumn::kType)].bytes[i] == kTypes[which]);
    rows.push_back(std::move(r));
  }
  CHECK(at[0] == c[Col(ParquetColumn::kValueDouble)].f64.size());
  CHECK(at[1] == c[Col(ParquetColumn::kValueInt)].i64.size());
  CHECK(at[2] == c[Col(ParquetColumn::kValueBool)].booleans.size());
  CHECK(at[3] == c[Col(ParquetColumn::kValueBytes)].bytes.size());
  return rows;
}

}  // namespace

void CheckRoundTrip(const ParquetInput& in, const ParquetFileSeen& f) {
  const std::vector<Row> want = RowsOf(in);
  const std::vector<Row> got = RowsOf(f);
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("row " << i << " series " << want[i].series);
    REQUIRE(got[i].series == want[i].series);
    REQUIRE(got[i].unit == want[i].unit);
    REQUIRE(got[i].ts == want[i].ts);
    REQUIRE(SameValue(got[i].value, want[i].value));
  }
}

namespace {

// --- Statistics and the page index, recomputed from the decoded values -----

std::string Plain(const ColumnValues& c, std::size_t i) {
  std::string out;
  auto raw = [&](const auto& v) {
    out.resize(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
  };
  switch (c.physical_type) {
    case kBoolean: out.push_back(static_cast<char>(c.booleans[i])); break;
    case kInt32: raw(c.i32[i]); break;
    case kInt64: raw(c.i64[i]); break;
    case kDouble: raw(c.f64[i]); break;
    default: out = c.bytes[i]; break;
  }
  return out;
}

// True when value i < value j in the column's order.
bool Less(const ColumnValues& c, std::size_t i, std::size_t j) {
  switch (c.physical_type) {
    case kBoolean: return c.booleans[i] < c.booleans[j];
    case kInt32: return c.i32[i] < c.i32[j];
    case kInt64: return c.i64[i] < c.i64[j];
    case kDouble: return c.f64[i] < c.f64[j];
    default: return c.bytes[i] < c.bytes[j];  // unsigned byte-wise
  }
}

struct Expected {
  bool has = false;
  std::string min, max;
  std::int64_t nans = 0;
};

// Bounds of values [a, b): NaN excluded; a zero minimum is -0.0, a zero
// maximum +0.0; byte arrays above 64 bytes truncated as the writer promises.
Expected BoundsOf(const ColumnValues& c, std::size_t a, std::size_t b, bool truncate) {
  Expected e;
  std::size_t lo = 0, hi = 0;
  for (std::size_t i = a; i < b; ++i) {
    if (c.physical_type == kDouble && std::isnan(c.f64[i])) {
      ++e.nans;
      continue;
    }
    if (!e.has) {
      lo = hi = i;
      e.has = true;
    }
    if (Less(c, i, lo)) lo = i;
    if (Less(c, hi, i)) hi = i;
  }
  if (!e.has) return e;
  e.min = Plain(c, lo);
  e.max = Plain(c, hi);
  if (c.physical_type == kDouble) {
    const double z = 0.0, nz = -0.0;
    if (c.f64[lo] == 0.0) e.min.assign(reinterpret_cast<const char*>(&nz), 8);
    if (c.f64[hi] == 0.0) e.max.assign(reinterpret_cast<const char*>(&z), 8);
  }
  if (truncate && e.min.size() > 64) e.min.resize(64);
  if (truncate && e.max.size() > 64) {
    std::string t = e.max.substr(0, 64);
    while (!t.empty() && static_cast<unsigned char>(t.back()) == 0xff) t.pop_back();
    if (!t.empty()) {
      t.back() = static_cast<char>(static_cast<unsigned char>(t.back()) + 1);
      e.max = t;
    }
  }
  return e;
}

// Checks every chunk's statistics, offset index and column index against the
// pages the reader walked and the values it decoded.

}  // namespace

void CheckStatisticsAndPageIndex(const ParquetFileSeen& f) {
  for (std::size_t c = 0; c < kParquetColumnCount; ++c) {
    const ColumnValues& col = f.columns[c];
    const bool truncate = c == Col(ParquetColumn::kValueBytes);
    std::size_t value_at = 0;
    for (std::size_t g = 0; g < f.chunks.size(); ++g) {
      const ChunkSeen& ch = f.chunks[g][c];
      INFO("row group " << g << " column " << f.column_names[c]);
      const std::size_t chunk_begin = value_at;
      std::vector<Expected> pages;
      std::int64_t nulls = 0;
      bool nan_only_page = false;
      for (const PageSeen& p : ch.data_pages) {
        const auto n = static_cast<std::size_t>(p.rows - p.nulls);
        pages.push_back(BoundsOf(col, value_at, value_at + n, truncate));
        if (n > 0 && !pages.back().has) nan_only_page = true;
        value_at += n;
        nulls += p.nulls;
      }
      const Expected all = BoundsOf(col, chunk_begin, value_at, truncate);
      const TValue& st = ch.column_chunk[3][12];
      CHECK(st[3].i == nulls);
      REQUIRE(st.Has(6) == all.has);
      if (all.has) {
        CHECK(st[6].bin == all.min);
        CHECK(st[5].bin == all.max);
      }
      if (col.physical_type == kDouble) {
        CHECK(st[9].i == all.nans);
      } else {
        CHECK(!st.Has(9));
      }

      // A chunk of one page has no page index: its statistics say it all.
      if (ch.data_pages.size() == 1) {
        CHECK(!ch.column_chunk.Has(4));
        CHECK(!ch.has_column_index);
        continue;
      }
      const auto& locations = ch.offset_index[1].list;
      REQUIRE(locations.size() == ch.data_pages.size());
      for (std::size_t p = 0; p < locations.size(); ++p) {
        CHECK(locations[p][1].i == ch.data_pages[p].offset);
        CHECK(locations[p][2].i == ch.data_pages[p].total_size);
        CHECK(locations[p][3].i == ch.data_pages[p].first_row);
      }

      // TYPE_ORDER forbids a column index when a page holds only NaNs.
      REQUIRE(ch.has_column_index == !nan_only_page);
      if (!ch.has_column_index) continue;
      const TValue& ci = ch.column_index;
      REQUIRE(ci[1].list.size() == pages.size());
      bool ascending = true, descending = true;
      std::optional<std::size_t> prev;
      for (std::size_t p = 0; p < pages.size(); ++p) {
        const bool null_page = ch.data_pages[p].rows == ch.data_pages[p].nulls;
        CHECK(ci[1].list[p].b == null_page);
        CHECK(ci[5].list[p].i == ch.data_pages[p].nulls);
        if (null_page) {
          CHECK(ci[2].list[p].bin.empty());
          CHECK(ci[3].list[p].bin.empty());
          continue;
        }
        CHECK(ci[2].list[p].bin == pages[p].min);
        CHECK(ci[3].list[p].bin == pages[p].max);
        if (col.physical_type == kDouble) CHECK(ci[8].list[p].i == pages[p].nans);
        if (prev) {
          // Compare as the writer does, through the decoded bounds' order.
          auto less = [&](const std::string& a, const std::string& b) {
            switch (col.physical_type) {
              case kInt64: {
                std::int64_t x, y;
                std::memcpy(&x, a.data(), 8);
                std::memcpy(&y, b.data(), 8);
                return x < y;
              }
              case kInt32: {
                std::int32_t x, y;
                std::memcpy(&x, a.data(), 4);
                std::memcpy(&y, b.data(), 4);
                return x < y;
              }
              case kDouble: {
                double x, y;
                std::memcpy(&x, a.data(), 8);
                std::memcpy(&y, b.data(), 8);
                return x < y;
              }
              default:
                return a < b;
            }
          };
          const Expected& q = pages[*prev];
          const Expected& r = pages[p];
          if (less(r.min, q.min) || less(r.max, q.max)) ascending = false;
          if (less(q.min, r.min) || less(q.max, r.max)) descending = false;
        }
        prev = p;
      }
      if (col.physical_type != kDouble && !truncate) {
        CHECK(ci[4].i == (ascending ? 1 : descending ? 2 : 0));
      }
    }
  }
}

}  // namespace sluice::sync::testing
