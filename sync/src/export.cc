#include "sync/export.h"

#include <fnmatch.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <ostream>
#include <span>
#include <unordered_set>

#include "base/civil_time.h"
#include "sync/partition.h"

namespace sluice::sync {
namespace {

// Lines are gathered and handed to the output in slices of about this size.
constexpr std::size_t kFlushBytes = 1 << 20;
constexpr std::uint64_t kCanonicalNan = 0x7ff8000000000000;

// ---- Value spelling (the contract is in export.h). ------------------------

void AppendBase64(std::string* out, std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    const std::uint32_t n = (static_cast<std::uint8_t>(in[i]) << 16) |
                            (static_cast<std::uint8_t>(in[i + 1]) << 8) |
                            static_cast<std::uint8_t>(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out->push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i + 1 == in.size()) {
    const std::uint32_t n = static_cast<std::uint8_t>(in[i]) << 16;
    out->push_back(kAlphabet[(n >> 18) & 63]);
    out->push_back(kAlphabet[(n >> 12) & 63]);
    out->append("==");
  } else if (i + 2 == in.size()) {
    const std::uint32_t n = (static_cast<std::uint8_t>(in[i]) << 16) |
                            (static_cast<std::uint8_t>(in[i + 1]) << 8);
    for (int shift : {18, 12, 6}) out->push_back(kAlphabet[(n >> shift) & 63]);
    out->push_back('=');
  }
}

// Non-finite values are spelled as words: JSON has no literal for them, and
// a NaN's payload is part of the value (bit-exact promise), so it is kept.
void AppendDouble(std::string* out, double v, bool quote_words) {
  const auto bits = std::bit_cast<std::uint64_t>(v);
  if (!std::isfinite(v)) {
    char word[32];
    if (std::isinf(v)) {
      std::snprintf(word, sizeof word, "%s", v < 0 ? "-Infinity" : "Infinity");
    } else if (bits == kCanonicalNan) {
      std::snprintf(word, sizeof word, "NaN");
    } else {
      std::snprintf(word, sizeof word, "NaN(0x%016llx)", static_cast<unsigned long long>(bits));
    }
    if (quote_words) out->push_back('"');
    out->append(word);
    if (quote_words) out->push_back('"');
    return;
  }
  char buf[40];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  std::string_view s(buf, static_cast<std::size_t>(r.ptr - buf));
  out->append(s);
  // "1" would read back as an integer in JSON (and -0 as 0): keep it a float.
  if (s.find_first_of(".e") == std::string_view::npos) out->append(".0");
}

void AppendCsvField(std::string* out, std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(s);
    return;
  }
  out->push_back('"');
  for (char c : s) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// Series names are UTF-8 (the writer and protobuf enforce it), so only
// quotes, backslashes and control characters need escaping.
void AppendJsonString(std::string* out, std::string_view s) {
  out->push_back('"');
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
      out->append(esc);
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// ---- Output targets. --------------------------------------------------------

class Output {
 public:
  virtual ~Output() = default;
  virtual Status Write(std::string_view bytes) = 0;
};

class StreamOutput final : public Output {
 public:
  explicit StreamOutput(std::ostream& out) : out_(out) {}
  Status Write(std::string_view bytes) override {
    out_.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out_) return IoError("export: writing to the output stream failed");
    return Status::Ok();
  }

 private:
  std::ostream& out_;
};

class FileOutput final : public Output {
 public:
  explicit FileOutput(store::File& file) : file_(file) {}
  Status Write(std::string_view bytes) override {
    SLUICE_RETURN_IF_ERROR(file_.Write(offset_, std::as_bytes(std::span(bytes))));
    offset_ += bytes.size();
    return Status::Ok();
  }

 private:
  store::File& file_;
  std::uint64_t offset_ = 0;
};

// ---- The export proper. -------------------------------------------------------

// Which series to keep, remembering which selectors ever matched.
class SeriesFilter {
 public:
  explicit SeriesFilter(const ExportOptions& o)
      : names_(o.series.begin(), o.series.end()), globs_(o.series_globs),
        name_hit_(), glob_hit_(o.series_globs.size(), false), options_(o) {}

  bool Keep(const std::string& name) {
    if (names_.empty() && globs_.empty()) return true;
    bool keep = false;
    if (names_.count(name) != 0) {
      name_hit_.insert(name);
      keep = true;
    }
    for (std::size_t i = 0; i < globs_.size(); ++i) {
      if (fnmatch(globs_[i].c_str(), name.c_str(), 0) == 0) keep = glob_hit_[i] = true;
    }
    return keep;
  }

  std::vector<std::string> Unmatched() const {
    std::vector<std::string> out;
    for (const auto& n : options_.series) {
      if (name_hit_.count(n) == 0) out.push_back(n);
    }
    for (std::size_t i = 0; i < globs_.size(); ++i) {
      if (!glob_hit_[i]) out.push_back(globs_[i]);
    }
    return out;
  }

 private:
  std::unordered_set<std::string> names_;
  std::vector<std::string> globs_;
  std::unordered_set<std::string> name_hit_;
  std::vector<bool> glob_hit_;
  const ExportOptions& options_;
};

// Inputs with folders replaced by their objects, in the documented order.
Result<std::vector<std::string>> ExpandInputs(const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const std::string& in : inputs) {
    std::error_code ec;
    if (!fs::is_directory(in, ec)) {
      files.push_back(in);  // a missing file is reported when it is opened
      continue;
    }
    std::vector<std::string> found;
    for (fs::recursive_directory_iterator it(in, ec), end; !ec && it != end; it.increment(ec)) {
      if (it->is_regular_file(ec) && it->path().extension() == ".slp") {
        found.push_back(it->path().string());
      }
    }
    if (ec) return IoError("export: listing folder " + in + ": " + ec.message());
    if (found.empty()) return NotFound("export: folder " + in + " holds no *.slp objects");
    std::sort(found.begin(), found.end());
    files.insert(files.end(), found.begin(), found.end());
  }
  return files;
}

// Appends one series' records (already filtered by time) as lines.
void AppendLines(std::string* buf, ExportFormat format, const SeriesEntry& s,
                 const SeriesColumns& cols, std::size_t i) {
  const bool json = format == ExportFormat::kJsonLines;
  const std::int64_t t = cols.timestamps[i];
  const std::string stamp = FormatRfc3339Nanos(t);
  if (json) {
    buf->append("{\"series\":");
    AppendJsonString(buf, s.info.name);
    buf->append(",\"timestamp_ns\":").append(std::to_string(t));
    buf->append(",\"timestamp\":\"").append(stamp).append("\",\"value\":");
  } else {
    AppendCsvField(buf, s.info.name);
    buf->append(",").append(std::to_string(t)).append(",").append(stamp).append(",");
  }
  std::visit(
      [&](const auto& col) {
        using T = typename std::decay_t<decltype(col)>::value_type;
        if constexpr (std::is_same_v<T, double>) {
          AppendDouble(buf, col[i], json);
        } else if constexpr (std::is_same_v<T, std::int64_t>) {
          buf->append(std::to_string(col[i]));
        } else if constexpr (std::is_same_v<T, std::uint8_t>) {
          buf->append(col[i] != 0 ? "true" : "false");
        } else {
          if (json) buf->push_back('"');
          AppendBase64(buf, col[i]);  // base64 needs no CSV or JSON escaping
          if (json) buf->push_back('"');
        }
      },
      cols.values);
  if (json) {
    buf->append(",\"type\":\"").append(store::ValueTypeName(s.info.type)).append("\"}\n");
  } else {
    buf->append(",").append(store::ValueTypeName(s.info.type)).append("\n");
  }
}

// The real file system unless the caller brought an Env (tests inject faults).
Status DefaultEnv(store::Env** env, std::unique_ptr<store::Env>* own) {
  if (*env != nullptr) return Status::Ok();
  SLUICE_ASSIGN_OR_RETURN(auto e, store::NewPosixEnv(store::IoEngine::kPwrite));
  *own = std::move(e);
  *env = own->get();
  return Status::Ok();
}

// REQUIRES: env != nullptr.
Result<ExportStats> Run(const ExportOptions& options, Output& out, store::Env* env) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  SLUICE_ASSIGN_OR_RETURN(auto files, ExpandInputs(options.inputs));

  TimeRange range;
  if (options.start_ns) range.min_ns = *options.start_ns;
  if (options.end_ns) range.max_ns = *options.end_ns - 1;  // Validate(): end > INT64_MIN

  SeriesFilter filter(options);
  ExportStats stats;
  std::string buf;
  if (options.header && options.format == ExportFormat::kCsv) {
    buf = "series,timestamp_ns,timestamp,value,type\n";
  }
  for (const std::string& path : files) {
    auto reader = PartitionReader::OpenFile(*env, path);
    if (!reader.ok()) {
      // OpenFile names the path in its own messages ("open <path>: ...",
      // "<path>: footer ..."); prefix only what does not.
      const std::string& m = reader.status().message();
      if (m.find(path) != std::string::npos) return reader.status();
      return reader.status().WithContext(path);
    }
    ++stats.objects;
    for (std::size_t si = 0; si < reader->series_count(); ++si) {
      const SeriesEntry& s = reader->series(si);
      if (!filter.Keep(s.info.name)) continue;
      auto cols = reader->ReadColumns(si, range);
      if (!cols.ok()) return cols.status().WithContext(path);
      if (cols->timestamps.empty()) continue;
      ++stats.series;
      for (std::size_t i = 0; i < cols->timestamps.size(); ++i) {
        AppendLines(&buf, options.format, s, *cols, i);
        if (buf.size() >= kFlushBytes) {
          SLUICE_RETURN_IF_ERROR(out.Write(buf));
          buf.clear();
        }
      }
      stats.records += cols->timestamps.size();
    }
  }
  if (!buf.empty()) SLUICE_RETURN_IF_ERROR(out.Write(buf));
  stats.unmatched = filter.Unmatched();
  return stats;
}

}  // namespace

Result<ExportFormat> ParseExportFormat(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "jsonl" || name == "json-lines" || name == "ndjson") return ExportFormat::kJsonLines;
  return InvalidArgument("export format '" + std::string(name) + "': expected csv or jsonl");
}

Status ExportOptions::Validate() const {
  if (inputs.empty()) return InvalidArgument("export: no input objects or folders");
  for (const auto& in : inputs) {
    if (in.empty()) return InvalidArgument("export: empty input path");
  }
  for (const auto& n : series) {
    if (n.empty()) return InvalidArgument("export: empty series name");
  }
  for (const auto& g : series_globs) {
    if (g.empty()) return InvalidArgument("export: empty series pattern");
  }
  if (end_ns && *end_ns == std::numeric_limits<std::int64_t>::min()) {
    return InvalidArgument("export: the time range ends before every timestamp");
  }
  if (start_ns && end_ns && *start_ns >= *end_ns) {
    return InvalidArgument("export: time range start " + FormatRfc3339Nanos(*start_ns) +
                           " is not before its end " + FormatRfc3339Nanos(*end_ns));
  }
  if (format != ExportFormat::kCsv && format != ExportFormat::kJsonLines) {
    return InvalidArgument("export: unknown format");
  }
  return Status::Ok();
}

Result<ExportStats> ExportObjects(const ExportOptions& options, std::ostream& out,
                                  store::Env* env) {
  std::unique_ptr<store::Env> own_env;
  SLUICE_RETURN_IF_ERROR(DefaultEnv(&env, &own_env));
  StreamOutput o(out);
  auto r = Run(options, o, env);
  if (r.ok()) {
    out.flush();
    if (!out) return IoError("export: flushing the output stream failed");
  }
  return r;
}

Result<ExportStats> ExportObjectsToFile(const ExportOptions& options,
                                        const std::string& output_path, store::Env* env) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  if (output_path.empty()) return InvalidArgument("export: empty output path");
  std::unique_ptr<store::Env> own_env;
  SLUICE_RETURN_IF_ERROR(DefaultEnv(&env, &own_env));
  // Written beside the target and renamed over it, so readers of the output
  // never see half an export, and a failure leaves the old file untouched.
  const std::string tmp = output_path + ".tmp";
  if (env->Exists(tmp)) SLUICE_RETURN_IF_ERROR(env->Remove(tmp));
  store::FileOptions fo;
  fo.create = true;
  auto file = env->OpenFile(tmp, fo);
  if (!file.ok()) return file.status().WithContext("export: output");
  FileOutput o(**file);
  auto r = Run(options, o, env);
  Status s = r.ok() ? (*file)->Sync() : r.status();
  file->reset();
  if (s.ok()) s = env->Rename(tmp, output_path);
  if (s.ok()) {
    std::string dir = std::filesystem::path(output_path).parent_path().string();
    s = env->SyncDir(dir.empty() ? "." : dir);
  }
  if (!s.ok()) {
    (void)env->Remove(tmp);  // best effort; the error below is what matters
    return s;
  }
  return r;
}

Result<std::int64_t> ParseExportTime(std::string_view text) {
  const bool integer =
      !text.empty() && text.find_first_not_of("-0123456789") == std::string_view::npos;
  std::int64_t ns = 0;
  if (integer) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), ns);
    if (ec == std::errc() && ptr == text.data() + text.size()) return ns;
  } else if (auto t = ParseRfc3339(text); t.ok()) {
    return *t;
  }
  return InvalidArgument("time '" + std::string(text) +
                         "': expected ns since the epoch or RFC 3339 "
                         "(2025-01-31T12:00:00Z, 2025-01-31T13:00:00.5+01:00) inside "
                         "1677-09-21..2262-04-11");
}

std::string FormatRfc3339Nanos(std::int64_t ns) {
  return FormatRfc3339(ns, Rfc3339Precision::kNanos);
}

}  // namespace sluice::sync
