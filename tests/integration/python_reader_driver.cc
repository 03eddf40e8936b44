// Test driver for python_reader_test.py: writes partition objects with
// PartitionWriter and exports them with sync/export.h, standing in for
// `sluice export` so that the comparison does not wait for the CLI.
//
//   python_reader_driver gen <dir>       objects covering every codec, value
//                                        type and edge case, plus the real
//                                        datasets when present
//   python_reader_driver export [--format csv|jsonl] [--series NAME]...
//        [--glob PATTERN]... [--start T] [--end T] [--output PATH] INPUT...
#include <bit>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "datasets.h"
#include "sync/export.h"
#include "sync/partition.h"

namespace sluice::sync {
namespace {

using store::SeriesId;
using store::ValueType;
using I64 = std::numeric_limits<std::int64_t>;

int Fail(const std::string& what) {
  std::cerr << "python_reader_driver: " << what << "\n";
  return 1;
}

bool Save(const std::filesystem::path& path, PartitionWriter& w) {
  auto bytes = w.Finish();
  if (!bytes.ok()) {
    std::cerr << path << ": " << bytes.status().ToString() << "\n";
    return false;
  }
  std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << *bytes;
  return static_cast<bool>(out);
}

#define ADD(w, ...) \
  if (!(w).AddSeries(__VA_ARGS__).ok()) return false
#define PUT(w, id, ...) \
  if (!(w).AppendColumns(SeriesId{id}, __VA_ARGS__).ok()) return false

// Edge values of every type, odd names, unordered and duplicate timestamps.
bool EdgeObject(const std::filesystem::path& path, PartitionWriterOptions opt) {
  PartitionWriter w(PartitionIdentity{"edge-01", "plant-a", 1'738'324'800'000'000'000,
                                      3'600'000'000'000, 2, false},
                    opt);
  ADD(w, {SeriesId{1}, "press/temp", ValueType::kFloat64, "degC"}, {{"area", "n"}, {"line", "1"}});
  ADD(w, {SeriesId{2}, "press/count", ValueType::kInt64, "1"});
  ADD(w, {SeriesId{3}, "press/on", ValueType::kBool, ""});
  ADD(w, {SeriesId{4}, "press/raw", ValueType::kBytes, ""});
  ADD(w, {SeriesId{5}, "press/never", ValueType::kFloat64, "bar"});
  ADD(w, {SeriesId{6}, "odd, \"quoted\"\nname/\xc3\xa9t\xc3\xa9", ValueType::kFloat64, "m/s"});
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<double> f = {1.5, -0.0, 0.0, std::bit_cast<double>(std::uint64_t{0x7ff4000000c0ffee}),
                           std::bit_cast<double>(std::uint64_t{0xfff8000000000001}),
                           std::bit_cast<double>(std::uint64_t{0x7ff8000000000000}),
                           std::bit_cast<double>(std::uint64_t{0xfff8000000000000}), inf, -inf,
                           std::numeric_limits<double>::denorm_min(),
                           std::numeric_limits<double>::max(), -std::numeric_limits<double>::min(),
                           1e22, 1.0, 0.1, 21.37};
  std::vector<std::int64_t> ft = {100, 50, 50, I64::min(), I64::max(), 0, 0, 7, 7, -1, 1, 2, 3,
                                  4, 5, 6};
  PUT(w, 1, {ft, f});
  PUT(w, 2, {{I64::min(), I64::max(), 0, -1, 5},
             std::vector<std::int64_t>{I64::min(), I64::max(), 0, -1, I64::min()}});
  std::vector<std::int64_t> bt;
  std::vector<std::uint8_t> bv;
  for (int i = 0; i < 19; ++i) {
    bt.push_back(1000 - i);
    bv.push_back(i % 4 == 1);
  }
  PUT(w, 3, {bt, bv});
  PUT(w, 4, {{5, 5, 4, 3}, std::vector<std::string>{"", std::string("\0binary\xff", 8),
                                                     "{\"a\":1}", std::string(300, 'x')}});
  PUT(w, 6, {{1, 2}, std::vector<double>{3.25, -7.5}});
  return Save(path, w);
}

// Columns shaped so that the writer picks each codec and packing somewhere:
// random bits (raw), smooth non-decimal data (XOR), decimals with exceptions
// (decimal), wide and narrow integers, bools, bytes, and a shared clock.
bool CodecObject(const std::filesystem::path& path, PartitionWriterOptions opt, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  PartitionWriter w(PartitionIdentity{"edge-02", "plant-b", 0, 0, 0, true}, opt);
  const std::size_t n = 1000 + seed % 300;  // not a multiple of 128 or 8
  std::vector<std::int64_t> clock(n), jitter(n);
  for (std::size_t i = 0; i < n; ++i) {
    clock[i] = 1'700'000'000'000'000'000 + static_cast<std::int64_t>(i) * 1'000'000'000;
    jitter[i] = clock[i] + static_cast<std::int64_t>(rng() % 2000) - 1000;
  }
  std::vector<double> random_bits(n), smooth(n), decimal(n), decimal_hi(n);
  std::vector<std::int64_t> narrow(n), wide(n), ramp(n);
  std::vector<std::uint8_t> flags(n);
  std::vector<std::string> blobs(n);
  for (std::size_t i = 0; i < n; ++i) {
    random_bits[i] = std::bit_cast<double>(rng());
    smooth[i] = std::sin(static_cast<double>(i / 4) * 0.01) * 3.0;  // repeats, not decimal
    decimal[i] = static_cast<double>(static_cast<std::int64_t>(rng() % 20000) - 10000) / 100.0;
    if (i % 97 == 0) decimal[i] = std::nan("");  // exceptions
    if (i % 89 == 0) decimal[i] = -0.0;
    decimal_hi[i] = 1e6 + static_cast<double>(i) * 0.000125;
    narrow[i] = static_cast<std::int64_t>(rng() % 16);
    wide[i] = static_cast<std::int64_t>(rng());
    ramp[i] = 1000 + static_cast<std::int64_t>(i) * 3;
    flags[i] = (rng() % 3) == 0;
    blobs[i] = std::string(rng() % 40, static_cast<char>('a' + i % 26));
  }
  const std::vector<std::pair<const char*, ValueColumn>> cols = {
      {"raw/bits", random_bits}, {"xor/smooth", smooth}, {"dec/cents", decimal},
      {"dec/fine", decimal_hi},  {"int/narrow", narrow}, {"int/wide", wide},
      {"int/ramp", ramp},        {"bool/flags", flags},  {"bytes/blobs", blobs}};
  std::uint32_t id = 1;
  for (const auto& [name, col] : cols) {
    const auto type = static_cast<ValueType>(col.index() + 1);  // variant order = ValueType
    ADD(w, {SeriesId{id}, name, type, ""});
    PUT(w, id, {id % 2 == 0 ? jitter : clock, col});  // odd ids share one clock
    ++id;
  }
  return Save(path, w);
}

// One object of a table's float64 columns on its shared clock.
bool TableObject(const testing::CsvTable& t, const std::filesystem::path& path) {
  PartitionWriter w(PartitionIdentity{"edge-ds", "lab", t.timestamps_ns.front(), 0, 0, false});
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    SeriesId sid{static_cast<std::uint32_t>(c + 1)};
    if (!w.AddSeries({sid, t.names[c], ValueType::kFloat64, ""}).ok()) return false;
    if (!w.AppendColumns(sid, {t.timestamps_ns, t.columns[c]}).ok()) return false;
  }
  return Save(path, w);
}

bool DatasetObjects(const std::filesystem::path& dir) {
  auto one = TableObject;
  for (const auto& f : testing::SkabFiles()) {
    auto t = testing::LoadCsv(f, ';', 8);
    if (!t.ok()) {
      Fail(t.status().ToString());
      return false;
    }
    auto rel = std::filesystem::relative(f, testing::DatasetsDir());
    if (!one(*t, dir / "datasets" / rel.replace_extension(".slp"))) return false;
  }
  for (const char* name : {"machine_temperature_system_failure", "ambient_temperature_system_failure"}) {
    auto t = testing::LoadCsv(testing::DatasetsDir() + "/nab/" + name + ".csv", ',', 1);
    if (!t.ok()) {
      Fail(t.status().ToString());
      return false;
    }
    if (!one(*t, dir / "datasets" / "nab" / (std::string(name) + ".slp"))) return false;
  }
  return true;
}

int Gen(const std::filesystem::path& dir) {
  PartitionWriterOptions plain;
  plain.compress = false;
  PartitionWriterOptions encoded;
  encoded.selection = CodecSelection::kSmallestEncoded;
  encoded.zstd_level = 19;
  PartitionWriterOptions compat;  // revision 1: the codecs older readers know
  compat.revision = CodecRevision::k1;
  bool ok = EdgeObject(dir / "edge" / "default.slp", {}) &&
            EdgeObject(dir / "edge" / "uncompressed.slp", plain);
  for (std::uint64_t seed = 1; ok && seed <= 3; ++seed) {
    ok = CodecObject(dir / "codecs" / ("default-" + std::to_string(seed) + ".slp"), {}, seed) &&
         CodecObject(dir / "codecs" / ("plain-" + std::to_string(seed) + ".slp"), plain, seed) &&
         CodecObject(dir / "codecs" / ("encoded-" + std::to_string(seed) + ".slp"), encoded, seed) &&
         CodecObject(dir / "codecs" / ("compat-" + std::to_string(seed) + ".slp"), compat, seed);
  }
  // Readings that passed through float32 (codecs 14 and 15): noisy, and
  // sampled and held.
  for (std::uint64_t seed = 1; ok && seed <= 2; ++seed) {
    ok = TableObject(testing::Float32Readings(8, 2000, seed, 0.25, seed == 2 ? 0.7 : 0.0),
                     dir / "float32" / ("readings-" + std::to_string(seed) + ".slp"));
  }
  if (!ok) return Fail("writing objects failed");
  if (!std::filesystem::exists(testing::DatasetsDir())) {
    std::cerr << "python_reader_driver: no datasets at " << testing::DatasetsDir() << "\n";
    return 3;  // the caller decides whether that is a failure
  }
  return DatasetObjects(dir) ? 0 : Fail("writing dataset objects failed");
}

int Export(int argc, char** argv) {
  ExportOptions o;
  std::string output;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--format" && has_value) {
      auto f = ParseExportFormat(argv[++i]);
      if (!f.ok()) return Fail(f.status().ToString());
      o.format = *f;
    } else if ((a == "--start" || a == "--end") && has_value) {
      auto t = ParseExportTime(argv[++i]);
      if (!t.ok()) return Fail(t.status().ToString());
      (a == "--start" ? o.start_ns : o.end_ns) = *t;
    } else if (a == "--series" && has_value) {
      o.series.push_back(argv[++i]);
    } else if (a == "--glob" && has_value) {
      o.series_globs.push_back(argv[++i]);
    } else if (a == "--output" && has_value) {
      output = argv[++i];
    } else if (a.rfind("--", 0) == 0) {
      return Fail("unknown or incomplete option " + a);
    } else {
      o.inputs.push_back(a);
    }
  }
  auto r = output.empty() ? ExportObjects(o, std::cout) : ExportObjectsToFile(o, output);
  if (!r.ok()) return Fail(r.status().ToString());
  for (const auto& u : r->unmatched) std::cerr << "warning: '" << u << "' matched no series\n";
  std::cerr << "exported " << r->records << " records of " << r->series << " series from "
            << r->objects << " objects\n";
  return 0;
}

}  // namespace
}  // namespace sluice::sync

int main(int argc, char** argv) {
  const std::string cmd = argc >= 2 ? argv[1] : "";
  if (cmd == "gen" && argc == 3) return sluice::sync::Gen(argv[2]);
  if (cmd == "export") return sluice::sync::Export(argc, argv);
  std::cerr << "usage: python_reader_driver gen <dir> | export [options] INPUT...\n";
  return 2;
}
