// parquet_write_driver: CSV records in, one Parquet file out, through
// WriteParquet. For the cross-engine harness (DuckDB, arrow-rs) that reads
// what Sluice writes; not a test itself.
//
//   parquet_write_driver [flags] INPUT.csv OUTPUT.parquet     (INPUT "-": stdin)
//
// Input: one record per line, `series,type,unit,timestamp_ns,value`, in any
// order (sorted here, by series then time). Empty lines and lines starting
// with '#' are skipped. The series and unit must not contain commas; the
// value is the rest of the line. type is float64, int64, bool or bytes:
//   float64  anything strtod reads (nan, inf, -0, 1e-300), or 0x and 16 hex
//            digits for the exact IEEE bits (NaN payloads)
//   int64    decimal
//   bool     true, false, 1 or 0
//   bytes    the text as is, or hex: followed by hex digits for any bytes
//
// Flags:
//   --encoding compatible|compact   --zstd N (0 = uncompressed)
//   --page-version 1|2              --row-group-rows N
//   --page-bytes N                  --page-rows N
//   --dictionary-bytes N            --no-dictionary
//   --force-encoding COLUMN=ENCODING   (repeatable; e.g. value_double=BYTE_STREAM_SPLIT)
//   --gateway ID  --site NAME  --shard N  --window-start-ns N  --window-length-ns N
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "sync/parquet.h"

namespace {

using sluice::sync::ParquetColumn;
using sluice::sync::ParquetEncoding;

[[noreturn]] void Die(const std::string& message) {
  std::cerr << "parquet_write_driver: " << message << "\n";
  std::exit(2);
}

std::uint64_t ParseUnsigned(const std::string& flag, const std::string& v) {
  std::uint64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) Die(flag + ": not a number: " + v);
  return out;
}

std::int64_t ParseSigned(const std::string& what, std::string_view v) {
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || p != v.data() + v.size()) Die(what + ": not an integer: " + std::string(v));
  return out;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string Hex(const std::string& where, std::string_view h) {
  if (h.size() % 2 != 0) Die(where + ": odd number of hex digits");
  std::string out;
  for (std::size_t i = 0; i < h.size(); i += 2) {
    const int a = HexDigit(h[i]), b = HexDigit(h[i + 1]);
    if (a < 0 || b < 0) Die(where + ": bad hex digit");
    out.push_back(static_cast<char>(a * 16 + b));
  }
  return out;
}

sluice::store::ValueType TypeNamed(const std::string& where, std::string_view t) {
  if (t == "float64") return sluice::store::ValueType::kFloat64;
  if (t == "int64") return sluice::store::ValueType::kInt64;
  if (t == "bool") return sluice::store::ValueType::kBool;
  if (t == "bytes") return sluice::store::ValueType::kBytes;
  Die(where + ": unknown type '" + std::string(t) + "'");
}

sluice::store::Value ParseValue(const std::string& where, sluice::store::ValueType type,
                                std::string_view v) {
  switch (type) {
    case sluice::store::ValueType::kFloat64: {
      if (v.size() == 18 && v.substr(0, 2) == "0x") {
        std::uint64_t bits = 0;
        for (char c : v.substr(2)) {
          const int d = HexDigit(c);
          if (d < 0) Die(where + ": bad hex float bits");
          bits = bits * 16 + static_cast<std::uint64_t>(d);
        }
        double d;
        std::memcpy(&d, &bits, 8);
        return d;
      }
      const std::string s(v);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (s.empty() || end != s.c_str() + s.size()) Die(where + ": not a float64: " + s);
      return d;
    }
    case sluice::store::ValueType::kInt64:
      return ParseSigned(where, v);
    case sluice::store::ValueType::kBool:
      if (v == "true" || v == "1") return true;
      if (v == "false" || v == "0") return false;
      Die(where + ": not a bool: " + std::string(v));
    case sluice::store::ValueType::kBytes:
      if (v.substr(0, 4) == "hex:") return Hex(where, v.substr(4));
      return std::string(v);
  }
  Die(where + ": unknown type");
}

ParquetColumn ColumnNamed(const std::string& name) {
  for (std::size_t c = 0; c < sluice::sync::kParquetColumnCount; ++c) {
    const auto col = static_cast<ParquetColumn>(c);
    if (name == sluice::sync::ParquetColumnName(col)) return col;
  }
  Die("unknown column '" + name + "'");
}

ParquetEncoding EncodingNamed(const std::string& name) {
  for (auto e : {ParquetEncoding::kPlain, ParquetEncoding::kRle, ParquetEncoding::kDeltaBinaryPacked,
                 ParquetEncoding::kDeltaLengthByteArray, ParquetEncoding::kDeltaByteArray,
                 ParquetEncoding::kRleDictionary, ParquetEncoding::kByteStreamSplit}) {
    if (name == sluice::sync::ParquetEncodingName(e)) return e;
  }
  Die("unknown encoding '" + name + "'");
}

}  // namespace

int main(int argc, char** argv) {
  sluice::sync::ParquetOptions options;
  sluice::sync::PartitionIdentity identity;
  identity.gateway_id = "driver";
  identity.site = "test";
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--encoding") {
      const std::string v = next();
      if (v == "compatible") {
        options.encodings = sluice::sync::ParquetEncodingSet::kCompatible;
      } else if (v == "compact") {
        options.encodings = sluice::sync::ParquetEncodingSet::kCompact;
      } else {
        Die("--encoding compatible|compact");
      }
    } else if (flag == "--zstd") {
      options.zstd_level = static_cast<int>(ParseUnsigned(flag, next()));
    } else if (flag == "--page-version") {
      const std::string v = next();
      if (v == "1") {
        options.page_version = sluice::sync::ParquetPageVersion::kV1;
      } else if (v == "2") {
        options.page_version = sluice::sync::ParquetPageVersion::kV2;
      } else {
        Die("--page-version 1|2");
      }
    } else if (flag == "--row-group-rows") {
      options.max_row_group_rows = ParseUnsigned(flag, next());
    } else if (flag == "--page-bytes") {
      options.target_page_bytes = ParseUnsigned(flag, next());
    } else if (flag == "--page-rows") {
      options.max_page_rows = ParseUnsigned(flag, next());
    } else if (flag == "--dictionary-bytes") {
      options.max_dictionary_bytes = ParseUnsigned(flag, next());
    } else if (flag == "--no-dictionary") {
      options.disable_dictionary = true;
    } else if (flag == "--force-encoding") {
      const std::string v = next();
      const std::size_t eq = v.find('=');
      if (eq == std::string::npos) Die("--force-encoding COLUMN=ENCODING");
      options.force_encoding[static_cast<std::size_t>(ColumnNamed(v.substr(0, eq)))] =
          EncodingNamed(v.substr(eq + 1));
    } else if (flag == "--gateway") {
      identity.gateway_id = next();
    } else if (flag == "--site") {
      identity.site = next();
    } else if (flag == "--shard") {
      identity.shard = static_cast<std::uint32_t>(ParseUnsigned(flag, next()));
    } else if (flag == "--window-start-ns") {
      identity.window_start_ns = ParseSigned(flag, next());
    } else if (flag == "--window-length-ns") {
      identity.window_length_ns = ParseSigned(flag, next());
    } else if (flag == "--help" || flag == "-h") {
      std::cout << "usage: parquet_write_driver [flags] INPUT.csv OUTPUT.parquet\n"
                   "see tests/sync/parquet_write_driver.cc for the input format and flags\n";
      return 0;
    } else if (flag.size() > 1 && flag[0] == '-' && flag != "-") {
      Die("unknown flag " + flag);
    } else {
      paths.push_back(flag);
    }
  }
  if (paths.size() != 2) Die("usage: parquet_write_driver [flags] INPUT.csv OUTPUT.parquet");
  if (sluice::Status s = options.Validate(); !s.ok()) Die(s.ToString());

  std::ifstream file;
  std::istream* in = &std::cin;
  if (paths[0] != "-") {
    file.open(paths[0]);
    if (!file) Die("cannot open " + paths[0]);
    in = &file;
  }
  sluice::sync::ParquetInputBuilder builder(identity);
  std::map<std::string, sluice::store::SeriesInfo, std::less<>> series;
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(*in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    const std::string where = paths[0] + ":" + std::to_string(line_no);
    std::string_view rest = line;
    std::string_view fields[4];
    for (auto& f : fields) {
      const std::size_t comma = rest.find(',');
      if (comma == std::string_view::npos) Die(where + ": expected series,type,unit,timestamp_ns,value");
      f = rest.substr(0, comma);
      rest.remove_prefix(comma + 1);
    }
    const sluice::store::ValueType type = TypeNamed(where, fields[1]);
    auto it = series.find(fields[0]);
    if (it == series.end()) {
      sluice::store::SeriesInfo info;
      info.id.value = static_cast<std::uint32_t>(series.size() + 1);
      info.name = std::string(fields[0]);
      info.type = type;
      info.unit = std::string(fields[2]);
      if (sluice::Status s = builder.AddSeries(info); !s.ok()) Die(where + ": " + s.ToString());
      it = series.emplace(info.name, info).first;
    } else if (it->second.type != type || it->second.unit != fields[2]) {
      Die(where + ": series '" + it->first + "' changes its type or unit");
    }
    sluice::store::Record r;
    r.series = it->second.id;
    r.timestamp_ns = ParseSigned(where, fields[3]);
    r.value = ParseValue(where, type, rest);
    if (sluice::Status s = builder.Append(r); !s.ok()) Die(where + ": " + s.ToString());
  }
  sluice::Result<std::string> bytes = sluice::sync::WriteParquet(builder.Finish(), options);
  if (!bytes.ok()) Die(bytes.status().ToString());
  std::ofstream out(paths[1], std::ios::binary | std::ios::trunc);
  out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  out.close();
  if (!out) Die("cannot write " + paths[1]);
  std::cerr << "wrote " << bytes->size() << " bytes, " << series.size() << " series\n";
  return 0;
}
