// ExportObjects: partition objects as CSV and JSON Lines that read back to
// the exact values, in a documented order, with errors naming the file.
#include "sync/export.h"

#include <doctest/doctest.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>

#include "sync/partition.h"
#include "temp_dir.h"

namespace sluice::sync {
namespace {

using store::SeriesId;
using store::ValueType;
using I64 = std::numeric_limits<std::int64_t>;

const double kInf = std::numeric_limits<double>::infinity();
const double kPayloadNan = std::bit_cast<double>(std::uint64_t{0x7ff4000000c0ffee});
const double kCanonicalNan = std::bit_cast<double>(std::uint64_t{0x7ff8000000000000});

// One series of each type, plus an empty one and a name that CSV must quote.
std::string EveryTypeObject() {
  PartitionWriter w(PartitionIdentity{"edge-01", "plant-a", 0, 0, 0, false});
  REQUIRE(w.AddSeries({SeriesId{1}, "m/temp", ValueType::kFloat64, "degC"}).ok());
  REQUIRE(w.AddSeries({SeriesId{2}, "m/count", ValueType::kInt64, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{3}, "m/on", ValueType::kBool, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{4}, "m/raw", ValueType::kBytes, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{5}, "m/empty", ValueType::kFloat64, ""}).ok());
  REQUIRE(w.AddSeries({SeriesId{6}, "odd,\"name\"", ValueType::kInt64, ""}).ok());
  const std::vector<double> f = {1.5, -0.0, 1.0, 1e22, 0.1, kCanonicalNan, kPayloadNan, kInf,
                                 -kInf, std::numeric_limits<double>::denorm_min()};
  std::vector<std::int64_t> ts;
  for (std::size_t i = 0; i < f.size(); ++i) ts.push_back(static_cast<std::int64_t>(i));
  REQUIRE(w.AppendColumns(SeriesId{1}, {ts, f}).ok());
  REQUIRE(w.AppendColumns(SeriesId{2}, {{I64::min(), I64::max(), -1},
                                        std::vector<std::int64_t>{I64::min(), I64::max(), 0}})
              .ok());
  REQUIRE(w.AppendColumns(SeriesId{3}, {{5, 4}, std::vector<std::uint8_t>{1, 0}}).ok());
  REQUIRE(w.AppendColumns(SeriesId{4}, {{1, 2, 3, 4},
                                        std::vector<std::string>{"", std::string("\0\xff", 2),
                                                                 "abc", "abcd"}})
              .ok());
  REQUIRE(w.AppendColumns(SeriesId{6}, {{7}, std::vector<std::int64_t>{42}}).ok());
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  return std::move(bytes).value();
}

// A float series "<prefix>/v" with value i at time base + i.
std::string CounterObject(const std::string& name, std::int64_t base, int n) {
  PartitionWriter w(PartitionIdentity{"edge-01", "plant-a", base, 0, 0, false});
  REQUIRE(w.AddSeries({SeriesId{1}, name, ValueType::kFloat64, ""}).ok());
  for (int i = 0; i < n; ++i) {
    REQUIRE(w.Append({SeriesId{1}, base + i, static_cast<double>(i)}).ok());
  }
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  return std::move(bytes).value();
}

std::string WriteFile(const std::filesystem::path& p, const std::string& bytes) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << bytes;
  return p.string();
}

std::string Export(const ExportOptions& o) {
  std::ostringstream out;
  auto r = ExportObjects(o, out);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  return out.str();
}

std::vector<std::string> Lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

TEST_CASE("CSV spells every type so that it reads back exactly") {
  testing::TempDir dir;
  ExportOptions o;
  o.inputs = {WriteFile(dir.path() / "a.slp", EveryTypeObject())};
  const std::string csv = Export(o);
  const std::string e = "1970-01-01T00:00:00.00000000";
  CHECK(csv ==
        "series,timestamp_ns,timestamp,value,type\n"
        "m/temp,0," + e + "0Z,1.5,float64\n"
        "m/temp,1," + e + "1Z,-0.0,float64\n"
        "m/temp,2," + e + "2Z,1.0,float64\n"
        "m/temp,3," + e + "3Z,1e+22,float64\n"
        "m/temp,4," + e + "4Z,0.1,float64\n"
        "m/temp,5," + e + "5Z,NaN,float64\n"
        "m/temp,6," + e + "6Z,NaN(0x7ff4000000c0ffee),float64\n"
        "m/temp,7," + e + "7Z,Infinity,float64\n"
        "m/temp,8," + e + "8Z,-Infinity,float64\n"
        "m/temp,9," + e + "9Z,5e-324,float64\n"
        "m/count,-9223372036854775808,1677-09-21T00:12:43.145224192Z,-9223372036854775808,int64\n"
        "m/count,9223372036854775807,2262-04-11T23:47:16.854775807Z,9223372036854775807,int64\n"
        "m/count,-1,1969-12-31T23:59:59.999999999Z,0,int64\n"
        "m/on,5," + e + "5Z,true,bool\n"
        "m/on,4," + e + "4Z,false,bool\n"
        "m/raw,1," + e + "1Z,,bytes\n"
        "m/raw,2," + e + "2Z,AP8=,bytes\n"
        "m/raw,3," + e + "3Z,YWJj,bytes\n"
        "m/raw,4," + e + "4Z,YWJjZA==,bytes\n"
        "\"odd,\"\"name\"\"\",7," + e + "7Z,42,int64\n");
}

TEST_CASE("JSON Lines quotes the non-finite spellings and escapes names") {
  testing::TempDir dir;
  ExportOptions o;
  o.inputs = {WriteFile(dir.path() / "a.slp", EveryTypeObject())};
  o.format = ExportFormat::kJsonLines;
  auto lines = Lines(Export(o));
  REQUIRE(lines.size() == 20);  // no header
  CHECK(lines[1] ==
        R"({"series":"m/temp","timestamp_ns":1,"timestamp":"1970-01-01T00:00:00.000000001Z",)"
        R"("value":-0.0,"type":"float64"})");
  CHECK(lines[6].find(R"j("value":"NaN(0x7ff4000000c0ffee)")j") != std::string::npos);
  CHECK(lines[8].find(R"("value":"-Infinity")") != std::string::npos);
  CHECK(lines[10].find(R"("value":-9223372036854775808,"type":"int64")") != std::string::npos);
  CHECK(lines[13].find(R"("value":true,"type":"bool")") != std::string::npos);
  CHECK(lines[16].find(R"("value":"AP8=","type":"bytes")") != std::string::npos);
  CHECK(lines[19].find(R"({"series":"odd,\"name\"",)") == 0);
}

// Inverse of the documented float spelling, as a consumer would write it.
double ParseExported(const std::string& s) {
  if (s == "NaN") return kCanonicalNan;
  if (s == "Infinity") return kInf;
  if (s == "-Infinity") return -kInf;
  if (s.rfind("NaN(0x", 0) == 0) return std::bit_cast<double>(std::stoull(s.substr(6), nullptr, 16));
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  REQUIRE(r.ptr == s.data() + s.size());
  return v;
}

TEST_CASE("random float64 bit patterns survive CSV bit for bit") {
  std::mt19937_64 rng(20250131);
  std::vector<double> values;
  for (int i = 0; i < 5000; ++i) values.push_back(std::bit_cast<double>(rng()));
  for (int i = 0; i < 1000; ++i) values.push_back(static_cast<double>(rng() % 100000) / 1000.0);
  std::vector<std::int64_t> ts(values.size(), 0);
  PartitionWriter w(PartitionIdentity{"gw", "site", 0, 0, 0, false});
  REQUIRE(w.AddSeries({SeriesId{1}, "x", ValueType::kFloat64, ""}).ok());
  REQUIRE(w.AppendColumns(SeriesId{1}, {ts, values}).ok());
  auto bytes = w.Finish();
  REQUIRE(bytes.ok());
  testing::TempDir dir;
  ExportOptions o;
  o.inputs = {WriteFile(dir.path() / "r.slp", *bytes)};
  o.header = false;
  auto lines = Lines(Export(o));
  REQUIRE(lines.size() == values.size());
  std::size_t mismatches = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const std::string& l = lines[i];
    const std::size_t a = l.find(',', l.find(',', 2) + 1) + 1;  // after the timestamp
    const std::string v = l.substr(a, l.rfind(',') - a);
    mismatches += std::bit_cast<std::uint64_t>(ParseExported(v)) !=
                  std::bit_cast<std::uint64_t>(values[i]);
  }
  CHECK(mismatches == 0);
}

TEST_CASE("the time range is half-open and unbounded where unset") {
  testing::TempDir dir;
  ExportOptions o;
  o.inputs = {WriteFile(dir.path() / "a.slp", EveryTypeObject())};
  o.series = {"m/count"};
  o.header = false;
  CHECK(Lines(Export(o)).size() == 3);  // INT64_MIN and INT64_MAX included
  o.start_ns = -1;
  CHECK(Lines(Export(o)).size() == 2);
  o.end_ns = I64::max();
  CHECK(Lines(Export(o)).size() == 1);  // the end is exclusive
  o.series = {"m/temp"};
  o.start_ns = 2;
  o.end_ns = 4;
  auto lines = Lines(Export(o));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].find(",1.0,") != std::string::npos);
  CHECK(lines[1].find(",1e+22,") != std::string::npos);
}

TEST_CASE("series are chosen by exact name or glob, misses are reported") {
  testing::TempDir dir;
  ExportOptions o;
  o.inputs = {WriteFile(dir.path() / "a.slp", EveryTypeObject())};
  o.header = false;
  o.series = {"m/on", "m/typo"};
  o.series_globs = {"*/r?w", "nothing*"};
  std::ostringstream out;
  auto r = ExportObjects(o, out);
  REQUIRE(r.ok());
  CHECK(r->records == 6);
  CHECK(r->series == 2);
  CHECK(r->unmatched == std::vector<std::string>{"m/typo", "nothing*"});
  o.series = {};
  o.series_globs = {"*"};  // `*` crosses `/`
  CHECK(Lines(Export(o)).size() == 20);
  o.series_globs = {"m/[!t]*"};
  CHECK(Lines(Export(o)).size() == 3 + 2 + 4);
}

TEST_CASE("objects come out in input order, folders in path order") {
  testing::TempDir dir;
  const auto f = dir.path() / "objs";
  WriteFile(f / "hour=01" / "b.slp", CounterObject("b", 100, 2));
  WriteFile(f / "hour=00" / "z.slp", CounterObject("z", 0, 1));
  WriteFile(f / "hour=00" / "notes.txt", "not an object");
  const auto single = WriteFile(dir.path() / "first.slp", CounterObject("first", 50, 1));
  ExportOptions o;
  o.inputs = {single, f.string()};
  o.header = false;
  auto lines = Lines(Export(o));
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].rfind("first,50,", 0) == 0);
  CHECK(lines[1].rfind("z,0,", 0) == 0);
  CHECK(lines[2].rfind("b,100,", 0) == 0);
  CHECK(lines[3].rfind("b,101,", 0) == 0);

  o.inputs = {(dir.path() / "empty").string()};
  std::filesystem::create_directories(dir.path() / "empty");
  std::ostringstream out;
  auto r = ExportObjects(o, out);
  CHECK(r.status().code() == StatusCode::kNotFound);
}

TEST_CASE("a damaged object is a Corruption naming the file and the series") {
  testing::TempDir dir;
  std::string bytes = CounterObject("pump/flow", 0, 200);
  bytes[kPartitionHeaderSize + 3] ^= 0x10;  // inside the first chunk
  const auto bad = WriteFile(dir.path() / "bad.slp", bytes);
  ExportOptions o;
  o.inputs = {bad};
  std::ostringstream out;
  auto r = ExportObjects(o, out);
  REQUIRE(r.status().code() == StatusCode::kCorruption);
  CHECK(r.status().message().find(bad) != std::string::npos);
  CHECK(r.status().message().find("pump/flow") != std::string::npos);
  CHECK(r.status().message().find("bad CRC") != std::string::npos);

  const auto cut = WriteFile(dir.path() / "cut.slp", bytes.substr(0, bytes.size() - 5));
  o.inputs = {cut};
  r = ExportObjects(o, out);
  REQUIRE(r.status().code() == StatusCode::kCorruption);
  CHECK(r.status().message().find(cut) != std::string::npos);

  o.inputs = {(dir.path() / "missing.slp").string()};
  r = ExportObjects(o, out);
  CHECK(r.status().code() == StatusCode::kNotFound);
  CHECK(r.status().message().find("missing.slp") != std::string::npos);
}

TEST_CASE("export to a file appears whole or not at all") {
  testing::TempDir dir;
  const auto good = WriteFile(dir.path() / "good.slp", CounterObject("a", 0, 3));
  std::string bytes = CounterObject("b", 0, 3);
  bytes[kPartitionHeaderSize] ^= 1;
  const auto bad = WriteFile(dir.path() / "bad.slp", bytes);
  const std::string out = (dir.path() / "out.jsonl").string();
  ExportOptions o;
  o.format = ExportFormat::kJsonLines;
  o.inputs = {good, bad};
  auto r = ExportObjectsToFile(o, out);
  CHECK(r.status().code() == StatusCode::kCorruption);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(out + ".tmp"));
  o.inputs = {good};
  r = ExportObjectsToFile(o, out);
  REQUIRE_MESSAGE(r.ok(), r.status().ToString());
  CHECK(r->records == 3);
  std::ifstream in(out);
  std::stringstream got;
  got << in.rdbuf();
  CHECK(Lines(got.str()).size() == 3);
}

TEST_CASE("options are validated before anything is read") {
  ExportOptions o;
  std::ostringstream out;
  CHECK(ExportObjects(o, out).status().code() == StatusCode::kInvalidArgument);
  o.inputs = {"x.slp"};
  o.start_ns = 5;
  o.end_ns = 5;
  CHECK(ExportObjects(o, out).status().code() == StatusCode::kInvalidArgument);
  o.end_ns = I64::min();
  o.start_ns.reset();
  CHECK(o.Validate().code() == StatusCode::kInvalidArgument);
  o.end_ns.reset();
  o.series_globs = {""};
  CHECK(o.Validate().code() == StatusCode::kInvalidArgument);
  CHECK(ParseExportFormat("jsonl").ok());
  CHECK(ParseExportFormat("xml").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("times parse from ns or RFC 3339 and format back as RFC 3339 UTC") {
  CHECK(FormatRfc3339Nanos(0) == "1970-01-01T00:00:00.000000000Z");
  CHECK(FormatRfc3339Nanos(1'738'324'800'123'456'789) == "2025-01-31T12:00:00.123456789Z");
  CHECK(FormatRfc3339Nanos(I64::min()) == "1677-09-21T00:12:43.145224192Z");
  CHECK(FormatRfc3339Nanos(I64::max()) == "2262-04-11T23:47:16.854775807Z");
  CHECK(*ParseExportTime("-5") == -5);
  CHECK(*ParseExportTime("2025-01-31T12:00:00Z") == 1'738'324'800'000'000'000);
  CHECK(*ParseExportTime("2025-01-31 13:00:00.5+01:00") == 1'738'324'800'500'000'000);
  CHECK(*ParseExportTime("1677-09-21T00:12:43.145224192Z") == I64::min());
  CHECK(*ParseExportTime("2262-04-11T23:47:16.854775807Z") == I64::max());
  for (const char* bad : {"", "2025-01-31", "2025-02-30T00:00:00Z", "2025-01-31T12:00:00",
                          "2262-04-11T23:47:16.854775808Z", "2025-01-31T12:00:00.1234567891Z",
                          "99999999999999999999", "12x"}) {
    CHECK_MESSAGE(ParseExportTime(bad).status().code() == StatusCode::kInvalidArgument, bad);
  }
}

}  // namespace
}  // namespace sluice::sync
