#include "log_file.h"

#include "base/kill_point.h"
#include "base/coding.h"
#include "base/crc32c.h"

namespace sluice::store {
namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr std::size_t kFrameBytes = 8;

std::span<const std::byte> AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

}  // namespace

std::string EncodeLogHeader(const LogFileFormat& format) {
  std::string h;
  PutFixed32(h, format.magic);
  PutFixed32(h, format.version);
  PutFixed32(h, MaskCrc(Crc32c(h.data(), h.size())));
  return h;
}

std::string EncodeLogEntry(std::string_view payload) {
  std::string frame;
  PutFixed32(frame, static_cast<std::uint32_t>(payload.size()));
  PutFixed32(frame, MaskCrc(Crc32c(payload.data(), payload.size())));
  frame += payload;
  return frame;
}

std::vector<std::string_view> ParseLogImage(std::string_view image, const LogFileFormat& format,
                                            LogRecovery& recovery) {
  std::vector<std::string_view> out;
  recovery = {};
  if (image.empty()) return out;
  if (image.size() < kHeaderBytes || image.substr(0, kHeaderBytes) != EncodeLogHeader(format)) {
    recovery.header_corrupt = true;
    recovery.discarded_bytes = image.size();
    return out;
  }
  std::size_t pos = kHeaderBytes;
  while (pos < image.size()) {
    ByteReader frame(image.substr(pos));
    std::uint32_t len = 0, crc = 0;
    std::string_view payload;
    if (!frame.GetFixed32(len) || !frame.GetFixed32(crc) || len > format.max_entry_bytes ||
        !frame.GetBytes(len, payload) ||
        UnmaskCrc(crc) != Crc32c(payload.data(), payload.size())) {
      break;
    }
    out.push_back(payload);
    pos += kFrameBytes + len;
  }
  recovery.entries = out.size();
  recovery.discarded_bytes = image.size() - pos;
  return out;
}

Result<std::string> LogFile::ReadAll(Env* env, const std::string& path) {
  std::string image;
  if (!env->Exists(path)) return image;
  SLUICE_ASSIGN_OR_RETURN(auto f, env->OpenFile(path, {}));
  SLUICE_ASSIGN_OR_RETURN(auto size, f->Size());
  image.resize(size);
  SLUICE_ASSIGN_OR_RETURN(auto n,
                          f->Read(0, {reinterpret_cast<std::byte*>(image.data()), image.size()}));
  image.resize(n);
  return image;
}

Result<std::string> LogFile::ReadTail(Env* env, const std::string& path, std::uint64_t offset) {
  std::string image;
  if (offset < kHeaderBytes || !env->Exists(path)) return image;
  SLUICE_ASSIGN_OR_RETURN(auto f, env->OpenFile(path, {}));
  SLUICE_ASSIGN_OR_RETURN(auto size, f->Size());
  if (size < offset) return image;
  image.resize(kHeaderBytes + (size - offset));
  SLUICE_ASSIGN_OR_RETURN(auto head,
                          f->Read(0, {reinterpret_cast<std::byte*>(image.data()), kHeaderBytes}));
  auto tail = f->Read(offset, {reinterpret_cast<std::byte*>(image.data()) + kHeaderBytes,
                                  image.size() - kHeaderBytes});
  if (!tail.ok()) return tail.status();
  if (head != kHeaderBytes) return std::string();
  image.resize(kHeaderBytes + *tail);
  return image;
}

Status LogFile::Defer(Status why, const LogFileFormat& format,
                      const std::vector<std::string_view>& entries, bool set_aside) {
  if (why.ok() || why.code() != StatusCode::kNoSpace) return why;
  PendingRewrite p{format, {}, set_aside && env_->Exists(path_)};
  for (auto e : entries) p.entries.emplace_back(e);
  pending_ = std::move(p);
  file_.reset();
  return Status::Ok();
}

Status LogFile::Rewrite(const LogFileFormat& format, const std::vector<std::string_view>& entries,
                        bool set_aside) {
  if (set_aside) SLUICE_RETURN_IF_ERROR(env_->Rename(path_, path_ + ".corrupt"));
  std::string fresh = EncodeLogHeader(format);
  for (auto e : entries) fresh += EncodeLogEntry(e);
  const std::string tmp = path_ + ".tmp";
  {
    SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(tmp, {.create = true}));
    SLUICE_RETURN_IF_ERROR(f->Write(0, AsBytes(fresh)));
    SLUICE_RETURN_IF_ERROR(f->Sync());
  }
  SLUICE_RETURN_IF_ERROR(env_->Rename(tmp, path_));
  SLUICE_RETURN_IF_ERROR(env_->SyncDir(dir_));
  SLUICE_ASSIGN_OR_RETURN(auto f, env_->OpenFile(path_, {}));
  file_ = std::move(f);
  end_ = fresh.size();
  return Status::Ok();
}

Status LogFile::Append(std::string_view payload) {
  SLUICE_RETURN_IF_ERROR(FinishPendingRewrite());
  const std::string entry = EncodeLogEntry(payload);
  Status s = file_->Write(end_, AsBytes(entry));
  KillPoint("manifest_append");
  if (s.ok()) s = file_->Sync();
  // On failure end_ stays: the next append overwrites the partial entry,
  // and until then recovery would discard it as a torn tail.
  if (!s.ok()) return s;
  end_ += entry.size();
  return Status::Ok();
}

Status LogFile::FinishPendingRewrite() {
  if (!pending_) return Status::Ok();
  const std::vector<std::string_view> entries(pending_->entries.begin(), pending_->entries.end());
  SLUICE_RETURN_IF_ERROR(Rewrite(pending_->format, entries, pending_->set_aside));
  pending_.reset();
  return Status::Ok();
}

Status LogFile::AppendBatch(std::span<const std::string> payloads) {
  if (payloads.empty()) return Status::Ok();
  SLUICE_RETURN_IF_ERROR(FinishPendingRewrite());
  std::string entries;
  for (const std::string& p : payloads) entries += EncodeLogEntry(p);
  Status s = file_->Write(end_, AsBytes(entries));
  KillPoint("manifest_append");
  if (s.ok()) s = file_->Sync();
  if (!s.ok()) {
    // Whole stale entries past end_ could read back as valid after later
    // appends that end exactly where one of them starts: zero them. If that
    // fails too, recovery may keep some of them: entries a caller asked
    // for (series with no records), after every entry appended since.
    (void)file_->Write(end_, AsBytes(std::string(entries.size(), '\0')));
    return s;
  }
  end_ += entries.size();
  return Status::Ok();
}

}  // namespace sluice::store
