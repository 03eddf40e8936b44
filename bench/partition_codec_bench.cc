// Bytes per point and speed of Sluice partition objects on real sensor data,
// against baselines computed in the same run: the CSV itself, CSV + zstd -3
// (libzstd on the CSV bytes) and Gorilla (VLDB 2015: delta-of-delta
// timestamps in seconds with its bucket codes, XOR values).
//
//   partition_codec_bench [--skab DIR] [--nab FILE] [--repeat N] [--verbose]
//
// Defaults: the shared datasets beside the checkout (../shared/datasets).
// A point is one (timestamp, float64) pair; "raw" throughput counts 16 bytes
// a point.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "chunk_compression.h"
#include "datasets.h"
#include "float_codec.h"
#include "sync/partition.h"

namespace sluice::sync {
namespace {

using Clock = std::chrono::steady_clock;

struct Dataset {
  std::string name;
  std::vector<testing::CsvTable> parts;  // one partition object each
  std::vector<std::string> csv;          // the CSV text of each part
  std::size_t points = 0;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The CSV restricted to the first `fields` fields of each line, as the
// published SKAB figures count only the 8 sensor columns.
std::string KeepFields(const std::string& text, char sep, std::size_t fields) {
  std::string out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::size_t pos = 0;
    for (std::size_t f = 0; f < fields && pos != std::string::npos; ++f) {
      pos = line.find(sep, pos == 0 && f == 0 ? 0 : pos + 1);
    }
    out.append(line.substr(0, pos));
    out.push_back('\n');
  }
  return out;
}

bool Load(Dataset* d, const std::vector<std::string>& files, char sep, std::size_t cols) {
  for (const auto& f : files) {
    auto t = testing::LoadCsv(f, sep, cols);
    if (!t.ok()) {
      std::fprintf(stderr, "%s\n", t.status().ToString().c_str());
      return false;
    }
    d->points += t->timestamps_ns.size() * t->columns.size();
    d->csv.push_back(KeepFields(ReadFile(f), sep, cols + 1));
    d->parts.push_back(std::move(t).value());
  }
  return true;
}

std::string Encode(const testing::CsvTable& t, const PartitionWriterOptions& opt) {
  PartitionWriter w(PartitionIdentity{"bench", "site", t.timestamps_ns.front(), 0, 0, false}, opt);
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    store::SeriesId id{static_cast<std::uint32_t>(c + 1)};
    SLUICE_CHECK(w.AddSeries({id, t.names[c], store::ValueType::kFloat64, ""}).ok());
    SLUICE_CHECK(w.AppendColumns(id, {t.timestamps_ns, t.columns[c]}).ok());
  }
  auto bytes = w.Finish();
  SLUICE_CHECK(bytes.ok());
  return std::move(bytes).value();
}

// Decodes every series; returns a checksum so the work is not optimised away.
std::uint64_t DecodeAll(const std::string& object) {
  auto r = PartitionReader::Open(object);
  SLUICE_CHECK(r.ok());
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < r->series_count(); ++i) {
    auto cols = r->ReadColumns(i);
    SLUICE_CHECK(cols.ok());
    sum += cols->timestamps.size() + std::get<std::vector<double>>(cols->values).size();
  }
  return sum;
}

// Gorilla's timestamp bits: first delta 14 bits, then per dod (in seconds)
// '0' | '10'+7 | '110'+9 | '1110'+12 | '1111'+32, plus a 64-bit header.
std::size_t GorillaTimestampBits(const std::vector<std::int64_t>& ts_ns) {
  std::size_t bits = 64;
  if (ts_ns.size() > 1) bits += 14;
  for (std::size_t i = 2; i < ts_ns.size(); ++i) {
    std::int64_t dod = (ts_ns[i] - ts_ns[i - 1]) / 1'000'000'000 -
                       (ts_ns[i - 1] - ts_ns[i - 2]) / 1'000'000'000;
    if (dod == 0) bits += 1;
    else if (dod >= -63 && dod <= 64) bits += 2 + 7;
    else if (dod >= -255 && dod <= 256) bits += 3 + 9;
    else if (dod >= -2047 && dod <= 2048) bits += 4 + 12;
    else bits += 4 + 32;
  }
  return bits;
}

std::size_t GorillaBytes(const Dataset& d) {
  std::size_t total = 0;
  for (const auto& t : d.parts) {
    for (const auto& col : t.columns) {
      std::string x;
      codec::EncodeFloatXor(col, &x);
      total += x.size() + (GorillaTimestampBits(t.timestamps_ns) + 7) / 8;
    }
  }
  return total;
}

struct Run {
  std::size_t bytes = 0;
  double encode_s = 0, decode_s = 0;
};

Run Measure(const Dataset& d, const PartitionWriterOptions& opt, int repeat, bool timed) {
  Run best;
  for (int r = 0; r < (timed ? repeat : 1); ++r) {
    std::vector<std::string> objects;
    auto t0 = Clock::now();
    for (const auto& t : d.parts) objects.push_back(Encode(t, opt));
    auto t1 = Clock::now();
    std::uint64_t sum = 0;
    if (timed) {
      for (const auto& o : objects) sum += DecodeAll(o);
      SLUICE_CHECK(sum == 2 * d.points);
    }
    auto t2 = Clock::now();
    Run run;
    for (const auto& o : objects) run.bytes += o.size();
    run.encode_s = std::chrono::duration<double>(t1 - t0).count();
    run.decode_s = std::chrono::duration<double>(t2 - t1).count();
    if (r == 0 || run.encode_s < best.encode_s) best.encode_s = run.encode_s;
    if (r == 0 || run.decode_s < best.decode_s) best.decode_s = run.decode_s;
    best.bytes = run.bytes;
  }
  return best;
}

void Row(const char* what, std::size_t bytes, const Dataset& d, double baseline_bytes,
         const Run* run = nullptr) {
  double bpp = static_cast<double>(bytes) / static_cast<double>(d.points);
  std::printf("  %-44s %10zu  %6.3f  %6.2fx", what, bytes, bpp, baseline_bytes / static_cast<double>(bytes));
  if (run != nullptr) {
    double raw_mb = static_cast<double>(d.points) * 16 / 1e6;
    std::printf("  %7.0f  %7.0f", raw_mb / run->encode_s, raw_mb / run->decode_s);
  }
  std::printf("\n");
}

void Codecs(const Dataset& d, const PartitionWriterOptions& opt) {
  std::map<std::string, int> n;
  for (const auto& t : d.parts) {
    auto r = PartitionReader::Open(Encode(t, opt));
    SLUICE_CHECK(r.ok());
    for (std::size_t i = 0; i < r->series_count(); ++i) {
      const SeriesEntry& s = r->series(i);
      static const std::map<ChunkCodec, const char*> kNames = {
          {ChunkCodec::kFloatRaw, "raw"}, {ChunkCodec::kFloatXor, "xor"},
          {ChunkCodec::kFloatDecimal, "decimal"}};
      std::string key = std::string(kNames.at(s.values.codec)) +
                        (s.values.compression == ChunkCompression::kZstd ? "+zstd" : "");
      ++n[key];
    }
  }
  std::printf("  value chunk codecs chosen:");
  for (const auto& [k, v] : n) std::printf(" %s=%d", k.c_str(), v);
  std::printf("\n");
}

void Verbose(const Dataset& d) {
  std::map<std::string, std::pair<std::size_t, std::size_t>> per;  // name -> ts, values bytes
  std::size_t points_per_series = 0;
  for (const auto& t : d.parts) {
    auto r = PartitionReader::Open(Encode(t, {}));
    SLUICE_CHECK(r.ok());
    points_per_series += t.timestamps_ns.size();
    for (std::size_t i = 0; i < r->series_count(); ++i) {
      const SeriesEntry& s = r->series(i);
      per[s.info.name].first += s.timestamps.length;
      per[s.info.name].second += s.values.length;
    }
  }
  for (const auto& [name, b] : per) {
    std::printf("    %-28s timestamps %6.3f B/pt  values %6.3f B/pt\n", name.c_str(),
                static_cast<double>(b.first) / static_cast<double>(points_per_series),
                static_cast<double>(b.second) / static_cast<double>(points_per_series));
  }
}

void Report(const Dataset& d, int repeat, bool verbose) {
  std::size_t csv = 0, csv_zstd = 0;
  std::string all_csv;
  for (const auto& c : d.csv) {
    csv += c.size();
    csv_zstd += codec::ZstdCompress(c, 3).size();
    all_csv += c;
  }
  std::size_t csv_zstd_all = codec::ZstdCompress(all_csv, 3).size();
  std::printf("\n%s: %zu objects, %zu points\n", d.name.c_str(), d.parts.size(), d.points);
  std::printf("  %-44s %10s  %6s  %7s  %7s  %7s\n", "format", "bytes", "B/pt", "vs CSV",
              "enc MB/s", "dec MB/s");
  const double base = static_cast<double>(csv);
  Row("CSV", csv, d, base);
  Row("CSV + zstd -3 (per file)", csv_zstd, d, base);
  Row("CSV + zstd -3 (all files as one)", csv_zstd_all, d, base);
  Row("Gorilla (dod seconds + XOR values)", GorillaBytes(d), d, base);

  PartitionWriterOptions def;
  Run r = Measure(d, def, repeat, true);
  Row("Sluice, zstd 3, smallest compressed (default)", r.bytes, d, base, &r);
  PartitionWriterOptions enc;
  enc.selection = CodecSelection::kSmallestEncoded;
  r = Measure(d, enc, repeat, true);
  Row("Sluice, zstd 3, smallest encoded", r.bytes, d, base, &r);
  PartitionWriterOptions none;
  none.compress = false;
  r = Measure(d, none, repeat, true);
  Row("Sluice, no zstd", r.bytes, d, base, &r);
  for (int level : {1, 9, 19}) {
    PartitionWriterOptions o;
    o.zstd_level = level;
    r = Measure(d, o, 1, false);
    std::string what = "Sluice, zstd " + std::to_string(level) + " per chunk";
    Row(what.c_str(), r.bytes, d, base);
  }
  // The alternative layout: chunks uncompressed, zstd -3 over the whole object.
  std::size_t whole = 0;
  for (const auto& t : d.parts) whole += codec::ZstdCompress(Encode(t, none), 3).size();
  Row("Sluice chunks, zstd -3 over the whole object", whole, d, base);
  Codecs(d, def);
  if (verbose) Verbose(d);
}

}  // namespace
}  // namespace sluice::sync

int main(int argc, char** argv) {
  using namespace sluice::sync;
  std::string datasets = testing::DatasetsDir();
  std::string skab = datasets + "/skab", nab = datasets + "/nab/machine_temperature_system_failure.csv";
  int repeat = 5;
  bool verbose = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--skab" && i + 1 < argc) skab = argv[++i];
    else if (a == "--nab" && i + 1 < argc) nab = argv[++i];
    else if (a == "--repeat" && i + 1 < argc) repeat = std::max(1, std::atoi(argv[++i]));
    else if (a == "--verbose") verbose = true;
    else {
      std::fprintf(stderr, "usage: %s [--skab DIR] [--nab FILE] [--repeat N] [--verbose]\n", argv[0]);
      return 2;
    }
  }
  std::vector<std::string> skab_files;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(skab, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".csv") skab_files.push_back(e.path().string());
  }
  std::sort(skab_files.begin(), skab_files.end());
  std::printf("partition_codec_bench: SKAB %zu files under %s; NAB %s; best of %d runs\n",
              skab_files.size(), skab.c_str(), nab.c_str(), repeat);
  Dataset s{"SKAB, 8 sensor columns, one object per file", {}, {}, 0};
  Dataset n{"NAB machine_temperature, one object", {}, {}, 0};
  if (skab_files.empty() || !Load(&s, skab_files, ';', 8) || !Load(&n, {nab}, ',', 1)) {
    std::fprintf(stderr, "cannot load the datasets (pass --skab DIR --nab FILE)\n");
    return 1;
  }
  Report(s, repeat, verbose);
  Report(n, repeat, verbose);
  return 0;
}
