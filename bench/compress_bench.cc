// Bytes per point and speed of Sluice partition objects on real sensor data,
// against baselines computed in the same run: the CSV itself, CSV + zstd -3,
// CSV + gzip -6 (zlib), CSV + xz -9 (liblzma, when built with it), Gorilla
// (VLDB 2015: delta-of-delta timestamps in seconds with its bucket codes, XOR
// values) and the previous writer (codec revision 1). Prints whether the
// issue's targets are met.
//
//   compress_bench [--skab DIR] [--nab FILE] [--repeat N] [--verbose]
//
// Defaults: the shared datasets beside the checkout (../shared/datasets).
// A point is one (timestamp, float64) pair; throughput counts 16 raw bytes a
// point, per core: bytes over the thread's CPU time (one thread), so that
// other work on the box does not count against it; wall-clock rates follow.
#include <time.h>
#include <zlib.h>
#ifdef SLUICE_HAVE_LZMA
#include <lzma.h>
#endif

#include <algorithm>
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

// The targets.
constexpr double kSkabTarget = 1.3;        // bytes per point, at most
constexpr double kNabTarget = 3.8;         // machine_temperature, at most
constexpr double kEncodeTargetMBs = 100;   // raw MB/s per core, at least

struct Dataset {
  std::string name;
  double target = 0;                     // bytes per point; 0: none
  std::vector<testing::CsvTable> parts;  // one partition object each
  std::vector<std::string> csv;          // the CSV text of each part
  std::size_t points = 0;
};

double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double WallSeconds() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

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

std::size_t GzipSize(const std::string& in, int level) {
  z_stream z{};
  SLUICE_CHECK(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out(deflateBound(&z, in.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  SLUICE_CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
  std::size_t n = z.total_out;
  deflateEnd(&z);
  return n;
}

#ifdef SLUICE_HAVE_LZMA
std::size_t XzSize(const std::string& in, std::uint32_t preset) {
  std::string out(lzma_stream_buffer_bound(in.size()), '\0');
  std::size_t pos = 0;
  SLUICE_CHECK(lzma_easy_buffer_encode(preset, LZMA_CHECK_CRC64, nullptr,
                                       reinterpret_cast<const std::uint8_t*>(in.data()), in.size(),
                                       reinterpret_cast<std::uint8_t*>(out.data()), &pos,
                                       out.size()) == LZMA_OK);
  return pos;
}
#endif

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
  double encode_cpu = 0, decode_cpu = 0, encode_wall = 0, decode_wall = 0;
};

// Best of `repeat` runs (each run encodes, then decodes and checks, every part).
Run Measure(const Dataset& d, const PartitionWriterOptions& opt, int repeat) {
  Run best;
  for (int r = 0; r < repeat; ++r) {
    std::vector<std::string> objects;
    double c0 = ThreadSeconds(), w0 = WallSeconds();
    for (const auto& t : d.parts) objects.push_back(Encode(t, opt));
    double c1 = ThreadSeconds(), w1 = WallSeconds();
    std::uint64_t sum = 0;
    for (const auto& o : objects) sum += DecodeAll(o);
    double c2 = ThreadSeconds(), w2 = WallSeconds();
    SLUICE_CHECK(sum == 2 * d.points);
    Run run;
    for (const auto& o : objects) run.bytes += o.size();
    if (r == 0 || c1 - c0 < best.encode_cpu) best.encode_cpu = c1 - c0;
    if (r == 0 || c2 - c1 < best.decode_cpu) best.decode_cpu = c2 - c1;
    if (r == 0 || w1 - w0 < best.encode_wall) best.encode_wall = w1 - w0;
    if (r == 0 || w2 - w1 < best.decode_wall) best.decode_wall = w2 - w1;
    best.bytes = run.bytes;
  }
  return best;
}

double PerPoint(std::size_t bytes, const Dataset& d) {
  return static_cast<double>(bytes) / static_cast<double>(d.points);
}

double RawMB(const Dataset& d) { return static_cast<double>(d.points) * 16 / 1e6; }

void Row(const char* what, std::size_t bytes, const Dataset& d, double csv_bytes,
         const Run* run = nullptr) {
  std::printf("  %-46s %9zu  %6.3f  %6.2fx", what, bytes, PerPoint(bytes, d),
              csv_bytes / static_cast<double>(bytes));
  if (run != nullptr) {
    std::printf("  %6.0f  %6.0f  %6.0f  %6.0f", RawMB(d) / run->encode_cpu,
                RawMB(d) / run->decode_cpu, RawMB(d) / run->encode_wall,
                RawMB(d) / run->decode_wall);
  }
  std::printf("\n");
}

const char* CodecName(ChunkCodec c) {
  switch (c) {
    case ChunkCodec::kTimestampDeltaOfDelta: return "dod";
    case ChunkCodec::kTimestampScaledDeltaOfDelta: return "scaled-dod";
    case ChunkCodec::kFloatRaw: return "raw";
    case ChunkCodec::kFloatXor: return "xor";
    case ChunkCodec::kFloatDecimal: return "decimal";
    case ChunkCodec::kFloatDecimalDigits: return "digits";
    case ChunkCodec::kFloatDecimalDigits32: return "digits32";
    case ChunkCodec::kFloatDictionary: return "dictionary";
    default: return "other";
  }
}

// Where the bytes go: per column (values), the shared clocks, and the rest
// (header, metadata, footer), in bytes per point of the whole dataset.
struct Breakdown {
  std::map<std::string, std::size_t> values;
  std::size_t timestamps = 0, framing = 0, total = 0;
  std::map<std::string, int> codecs;
};

Breakdown Analyse(const Dataset& d, const PartitionWriterOptions& opt) {
  Breakdown b;
  for (const auto& t : d.parts) {
    std::string obj = Encode(t, opt);
    auto r = PartitionReader::Open(obj);
    SLUICE_CHECK(r.ok());
    std::size_t chunks = 0;
    std::vector<std::uint64_t> clocks;
    for (std::size_t i = 0; i < r->series_count(); ++i) {
      const SeriesEntry& s = r->series(i);
      b.values[s.info.name] += s.values.length;
      chunks += s.values.length;
      if (std::find(clocks.begin(), clocks.end(), s.timestamps.offset) == clocks.end()) {
        clocks.push_back(s.timestamps.offset);
        b.timestamps += s.timestamps.length;
        chunks += s.timestamps.length;
        ++b.codecs[std::string("ts:") + CodecName(s.timestamps.codec)];
      }
      ++b.codecs[std::string(CodecName(s.values.codec)) +
                 (s.values.compression == ChunkCompression::kZstd ? "+zstd" : "")];
    }
    b.total += obj.size();
    b.framing += obj.size() - chunks;
  }
  return b;
}

void PrintBreakdown(const Dataset& d, const Breakdown& before, const Breakdown& after) {
  std::printf("  where the bytes go, B/pt of all points: revision 1 (before) -> 2 (after)\n");
  for (const auto& [name, bytes] : after.values) {
    // Per column also per point of that column.
    const double cols = static_cast<double>(after.values.size());
    std::printf("    values %-24s %6.3f -> %6.3f   (per point of the column %6.3f -> %6.3f)\n",
                name.c_str(), PerPoint(before.values.at(name), d), PerPoint(bytes, d),
                PerPoint(before.values.at(name), d) * cols, PerPoint(bytes, d) * cols);
  }
  std::printf("    timestamps (shared clock)         %6.3f -> %6.3f\n", PerPoint(before.timestamps, d),
              PerPoint(after.timestamps, d));
  std::printf("    header, metadata, footer          %6.3f -> %6.3f\n", PerPoint(before.framing, d),
              PerPoint(after.framing, d));
  std::printf("    total                             %6.3f -> %6.3f\n", PerPoint(before.total, d),
              PerPoint(after.total, d));
  for (const auto* b : {&before, &after}) {
    std::printf("  chunk codecs chosen, revision %d:", b == &before ? 1 : 2);
    for (const auto& [k, v] : b->codecs) std::printf(" %s=%d", k.c_str(), v);
    std::printf("\n");
  }
}

bool Verdict(const char* what, bool met) {
  std::printf("  target %-58s %s\n", what, met ? "MET" : "NOT MET");
  return met;
}

bool Report(const Dataset& d, int repeat, bool verbose) {
  std::size_t csv = 0, csv_zstd = 0, csv_gzip = 0, csv_xz = 0;
  for (const auto& c : d.csv) {
    csv += c.size();
    csv_zstd += codec::ZstdCompress(c, 3).size();
    csv_gzip += GzipSize(c, 6);
#ifdef SLUICE_HAVE_LZMA
    csv_xz += XzSize(c, 9);
#endif
  }
  std::printf("\n%s: %zu objects, %zu points\n", d.name.c_str(), d.parts.size(), d.points);
  std::printf("  %-46s %9s  %6s  %7s  %6s  %6s  %6s  %6s\n", "format", "bytes", "B/pt", "vs CSV",
              "enc", "dec", "enc", "dec");
  std::printf("  %-46s %9s  %6s  %7s  %14s  %14s\n", "", "", "", "", "MB/s per core", "MB/s wall");
  const double base = static_cast<double>(csv);
  Row("CSV", csv, d, base);
  Row("CSV + zstd -3", csv_zstd, d, base);
  Row("CSV + gzip -6 (zlib)", csv_gzip, d, base);
  if (csv_xz != 0) Row("CSV + xz -9 (liblzma)", csv_xz, d, base);
  Row("Gorilla (dod seconds + XOR values)", GorillaBytes(d), d, base);

  PartitionWriterOptions v1;
  v1.revision = CodecRevision::k1;
  Run old = Measure(d, v1, repeat);
  Row("Sluice revision 1 (before), zstd 3", old.bytes, d, base, &old);
  PartitionWriterOptions def;
  Run r = Measure(d, def, repeat);
  Row("Sluice revision 2 (default), zstd 3", r.bytes, d, base, &r);
  PartitionWriterOptions enc;
  enc.selection = CodecSelection::kSmallestEncoded;
  Run re = Measure(d, enc, repeat);
  Row("Sluice rev 2, smallest encoded", re.bytes, d, base, &re);
  PartitionWriterOptions none;
  none.compress = false;
  Run rn = Measure(d, none, repeat);
  Row("Sluice rev 2, no zstd", rn.bytes, d, base, &rn);
  for (int level : {1, 9, 19}) {
    PartitionWriterOptions o;
    o.zstd_level = level;
    std::size_t bytes = 0;
    for (const auto& t : d.parts) bytes += Encode(t, o).size();
    std::string what = "Sluice rev 2, zstd " + std::to_string(level) + " per chunk";
    Row(what.c_str(), bytes, d, base);
  }
  // The alternative layout: chunks uncompressed, zstd -3 over the whole object.
  std::size_t whole = 0;
  for (const auto& t : d.parts) whole += codec::ZstdCompress(Encode(t, none), 3).size();
  Row("Sluice rev 2 chunks, zstd -3 over the object", whole, d, base);
  PrintBreakdown(d, Analyse(d, v1), Analyse(d, def));
  if (verbose) {
    std::printf("  ratios: Sluice rev 2 is %.2fx smaller than CSV + zstd -3, %.2fx than Gorilla\n",
                static_cast<double>(csv_zstd) / static_cast<double>(r.bytes),
                static_cast<double>(GorillaBytes(d)) / static_cast<double>(r.bytes));
  }

  bool met = true;
  if (d.target > 0) {
    char what[96];
    std::snprintf(what, sizeof(what), "<= %.1f B/pt (%.3f)", d.target, PerPoint(r.bytes, d));
    met &= Verdict(what, PerPoint(r.bytes, d) <= d.target);
  }
  const double enc_mbs = RawMB(d) / r.encode_cpu, dec_mbs = RawMB(d) / r.decode_cpu;
  char what[96];
  std::snprintf(what, sizeof(what), "encode >= %.0f MB/s per core (%.0f)", kEncodeTargetMBs, enc_mbs);
  met &= Verdict(what, enc_mbs >= kEncodeTargetMBs);
  std::snprintf(what, sizeof(what), "decode faster than encode (%.0f > %.0f)", dec_mbs, enc_mbs);
  met &= Verdict(what, dec_mbs > enc_mbs);
  return met;
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
  const std::vector<std::string> skab_files = testing::SkabFiles(skab);
  std::printf("compress_bench: SKAB %zu files under %s; NAB %s; best of %d runs\n",
              skab_files.size(), skab.c_str(), nab.c_str(), repeat);
  Dataset s{"SKAB, 8 sensor columns, one object per file", kSkabTarget, {}, {}, 0};
  Dataset n{"NAB machine_temperature, one object", kNabTarget, {}, {}, 0};
  if (skab_files.empty() || !Load(&s, skab_files, ';', 8) || !Load(&n, {nab}, ',', 1)) {
    std::fprintf(stderr, "cannot load the datasets (pass --skab DIR --nab FILE)\n");
    return 1;
  }
  bool met = Report(s, repeat, verbose);
  met &= Report(n, repeat, verbose);
  std::printf("\nall targets %s\n", met ? "MET" : "NOT MET");
  return 0;  // a missed target is a finding, not a failure of the benchmark
}
