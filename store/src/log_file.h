// An append-only file of checksummed entries: the shape shared by the series
// registry (series.log) and the partition manifest (partitions.log).
//
//   file   := header entry*
//   header := magic:u32  version:u32  masked crc32c(magic, version):u32
//   entry  := length:u32  masked crc32c(payload):u32  payload[length]
//
// Little-endian. Every Append is written and fdatasync()ed before it returns.
// Open keeps the longest valid prefix; a torn or corrupt tail is discarded
// and counted, and the file is rewritten from the valid entries (temp file,
// sync, rename, directory sync) before anything is appended. A file whose
// header is unreadable is renamed to <name>.corrupt and started afresh.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "store/env.h"

namespace sluice::store {

struct LogFileFormat {
  std::uint32_t magic = 0;
  std::uint32_t version = 0;
  std::uint32_t max_entry_bytes = 0;  // a longer length field means corruption
};

struct LogRecovery {
  std::size_t entries = 0;
  std::uint64_t discarded_bytes = 0;
  bool header_corrupt = false;
};

// Splits an image into its valid entries (views into `image`). Pure.
std::vector<std::string_view> ParseLogImage(std::string_view image, const LogFileFormat& format,
                                            LogRecovery& recovery);
std::string EncodeLogHeader(const LogFileFormat& format);
std::string EncodeLogEntry(std::string_view payload);

class LogFile {
 public:
  // Reads the file (creating it when missing). `accept` sees each valid
  // entry in order and returns false to end the valid prefix there (for
  // checks the framing cannot make, such as dense ids).
  template <typename Accept>
  static Result<std::unique_ptr<LogFile>> Open(Env* env, const std::string& dir,
                                               const std::string& name, const LogFileFormat& format,
                                               Accept&& accept, LogRecovery* recovery);

  // Like Open, for a caller that already knows the meaning of the first
  // `offset` bytes (an index checkpoint took them in): reads only the
  // header and the entries after it. When those do not end cleanly at the
  // end of the file (a torn tail, an offset that is not an entry boundary,
  // a file shorter than offset), falls back to Open, `accept` then seeing
  // every entry from the first.
  template <typename Accept>
  static Result<std::unique_ptr<LogFile>> OpenFrom(Env* env, const std::string& dir,
                                                   const std::string& name,
                                                   const LogFileFormat& format,
                                                   std::uint64_t offset, Accept&& accept);

  Status Append(std::string_view payload);
  // Several entries, one write and one sync. A crash or failure part-way
  // leaves a prefix of them readable, or none; on failure the bytes written
  // are zeroed (best effort) so that the next append does not sit in front
  // of stale entries.
  Status AppendBatch(std::span<const std::string> payloads);

  // The whole file as it is on disk; empty when it is missing.
  static Result<std::string> ReadAll(Env* env, const std::string& path);

  // The file's length: where the next entry goes.
  std::uint64_t size() const { return end_; }
  // A repair that met a full disk waits for the next append: size() then
  // does not describe the file.
  bool rewrite_pending() const { return pending_.has_value(); }

 private:
  LogFile(Env* env, std::string dir, std::string path)
      : env_(env), dir_(std::move(dir)), path_(std::move(path)) {}
  // The header and the bytes from `offset` on, joined; empty when the file
  // is missing, shorter than `offset` or `offset` is inside the header.
  static Result<std::string> ReadTail(Env* env, const std::string& path, std::uint64_t offset);
  Status FinishPendingRewrite();
  Status Rewrite(const LogFileFormat& format, const std::vector<std::string_view>& entries,
                 bool set_aside);
  // Keeps a rewrite that met a full disk for the next Append.
  Status Defer(Status why, const LogFileFormat& format,
               const std::vector<std::string_view>& entries, bool set_aside);

  struct PendingRewrite {
    LogFileFormat format;
    std::vector<std::string> entries;
    bool set_aside = false;
  };

  Env* env_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<File> file_;
  std::uint64_t end_ = 0;
  std::optional<PendingRewrite> pending_;
};

template <typename Accept>
Result<std::unique_ptr<LogFile>> LogFile::Open(Env* env, const std::string& dir,
                                               const std::string& name,
                                               const LogFileFormat& format, Accept&& accept,
                                               LogRecovery* recovery) {
  std::unique_ptr<LogFile> log(new LogFile(env, dir, dir + "/" + name));
  SLUICE_ASSIGN_OR_RETURN(auto image, ReadAll(env, log->path_));
  LogRecovery rec;
  auto entries = ParseLogImage(image, format, rec);
  std::size_t kept = 0;
  while (kept < entries.size() && accept(entries[kept])) ++kept;
  if (kept < entries.size()) {
    for (std::size_t i = kept; i < entries.size(); ++i) rec.discarded_bytes += 8 + entries[i].size();
    entries.resize(kept);
    rec.entries = kept;
  }
  const bool clean = !image.empty() && rec.discarded_bytes == 0;
  if (!clean) {
    SLUICE_RETURN_IF_ERROR(log->Defer(log->Rewrite(format, entries, rec.header_corrupt), format,
                                      entries, rec.header_corrupt));
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto f, env->OpenFile(log->path_, {}));
    log->file_ = std::move(f);
    log->end_ = image.size();
  }
  if (recovery) *recovery = rec;
  return log;
}

template <typename Accept>
Result<std::unique_ptr<LogFile>> LogFile::OpenFrom(Env* env, const std::string& dir,
                                                   const std::string& name,
                                                   const LogFileFormat& format,
                                                   std::uint64_t offset, Accept&& accept) {
  std::unique_ptr<LogFile> log(new LogFile(env, dir, dir + "/" + name));
  SLUICE_ASSIGN_OR_RETURN(auto image, ReadTail(env, log->path_, offset));
  LogRecovery rec;
  auto entries = ParseLogImage(image, format, rec);
  bool clean = !image.empty() && rec.discarded_bytes == 0 && !rec.header_corrupt;
  for (std::size_t i = 0; clean && i < entries.size(); ++i) clean = accept(entries[i]);
  if (!clean) {
    return Open(env, dir, name, format, std::forward<Accept>(accept), nullptr);
  }
  SLUICE_ASSIGN_OR_RETURN(auto f, env->OpenFile(log->path_, {}));
  log->file_ = std::move(f);
  log->end_ = offset + (image.size() - EncodeLogHeader(format).size());
  return log;
}

}  // namespace sluice::store
