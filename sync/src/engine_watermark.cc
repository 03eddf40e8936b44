#include "engine_watermark.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <span>

namespace sluice::sync {
namespace {

constexpr std::size_t kMaxStateBytes = 64 * 1024;

// T and counts equal: nothing new to write (written_at aside).
bool SameContent(const Watermark& a, const Watermark& b) {
  return a.watermark_ns == b.watermark_ns && a.records_confirmed == b.records_confirmed &&
         a.objects_confirmed == b.objects_confirmed && a.late_records == b.late_records;
}

Status WriteAll(int fd, std::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + path, errno);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return ErrnoStatus("open " + path, errno);
  }
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus("read " + path, err);
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (out.size() > kMaxStateBytes) {
      ::close(fd);
      return Corruption(path + " is larger than " + std::to_string(kMaxStateBytes) + " bytes");
    }
  }
  ::close(fd);
  return out;
}

std::string KeyOrEmpty(const SyncEngineOptions& options) {
  auto key = WatermarkKey(options.key_prefix, options.site, options.gateway_id);
  return key.ok() ? *key : std::string();
}

}  // namespace

WatermarkTracker::WatermarkTracker(store::Store* store, const SyncEngineOptions& options,
                                   ClockFn wall_ns)
    : store_(store),
      key_(KeyOrEmpty(options)),
      options_(options),
      wall_ns_(std::move(wall_ns)) {}

void WatermarkTracker::Load() {
  if (options_.watermark_state_file.empty()) return;
  auto text = ReadFile(options_.watermark_state_file);
  MutexLock lock(mu_);
  if (text.status().code() == StatusCode::kNotFound) return;
  Result<Watermark> w = text.ok() ? ParseWatermark(*text) : Result<Watermark>(text.status());
  if (!w.ok()) {
    error_ = "state file " + options_.watermark_state_file + ": " + w.status().ToString() +
             " (ignored; T resumes from the upstream object)";
    error_ns_ = wall_ns_();
    return;
  }
  t_ns_ = w->watermark_ns;
  records_ = w->records_confirmed;
  objects_ = w->objects_confirmed;
  late_ = w->late_records;
  local_loaded_ = true;
}

std::int64_t WatermarkTracker::LateBefore() const {
  MutexLock lock(mu_);
  return t_ns_.value_or(std::numeric_limits<std::int64_t>::min());
}

void WatermarkTracker::AddConfirmed(std::uint64_t objects, std::uint64_t records,
                                    std::uint64_t late) {
  MutexLock lock(mu_);
  objects_ += objects;
  records_ += records;
  late_ += late;
}

void WatermarkTracker::Merge(const Watermark& w) {
  t_ns_ = std::max(t_ns_.value_or(w.watermark_ns), w.watermark_ns);
  if (!local_loaded_) {
    // No local history: the upstream counts are the life so far, and what
    // this run confirmed comes on top.
    records_ += w.records_confirmed;
    objects_ += w.objects_confirmed;
    late_ += w.late_records;
    local_loaded_ = true;
  } else {
    // The state file is saved before each upstream write, so it is ahead,
    // unless an old copy was restored: never report less than upstream did.
    records_ = std::max(records_, w.records_confirmed);
    objects_ = std::max(objects_, w.objects_confirmed);
    late_ = std::max(late_, w.late_records);
  }
}

Watermark WatermarkTracker::DocumentLocked() const {
  Watermark w;
  w.site = options_.site;
  w.gateway_id = options_.gateway_id;
  w.watermark_ns = t_ns_.value_or(0);
  w.records_confirmed = records_;
  w.objects_confirmed = objects_;
  w.late_records = late_;
  return w;
}

Status WatermarkTracker::Write(Sink& sink) {
  const auto fail = [&](Status s) {
    const std::int64_t at = wall_ns_();
    MutexLock lock(mu_);
    error_ = s.ToString();
    error_ns_ = at;
    return s;
  };
  if (key_.empty()) return fail(InvalidArgument("no valid watermark key"));
  bool read_upstream = false;
  {
    MutexLock lock(mu_);
    read_upstream = !upstream_read_;
  }
  if (read_upstream) {
    // Once per run, before the first write: a lost or older state file must
    // not take T below what the fleet was already told.
    auto got = sink.Get(key_);
    if (got.ok()) {
      auto w = ParseWatermark(
          std::string_view(reinterpret_cast<const char*>(got->data()), got->size()));
      if (!w.ok()) {
        return fail(w.status().WithContext(
            "upstream watermark " + key_ +
            " is unreadable; not overwritten (delete it to let the gateway start afresh)"));
      }
      MutexLock lock(mu_);
      Merge(*w);
    } else if (got.status().code() != StatusCode::kNotFound) {
      return fail(got.status().WithContext("reading upstream watermark " + key_));
    }
    MutexLock lock(mu_);
    upstream_read_ = true;
  }

  Watermark doc;
  {
    // Listing and moving T under one lock: see the header.
    MutexLock lock(mu_);
    const auto partitions = store_->ListPartitions();
    const std::int64_t wall = wall_ns_();
    t_ns_ = NextWatermark(partitions, t_ns_.value_or(std::numeric_limits<std::int64_t>::min()),
                          wall, std::chrono::nanoseconds(options_.watermark_min_lag).count());
    doc = DocumentLocked();
    doc.written_at_ns = wall;
    if (last_written_ && SameContent(*last_written_, doc)) return Status::Ok();
  }
  // Saved before it goes upstream: upstream never holds a T that a restart
  // could fall behind.
  if (Status s = SaveDocument(doc); !s.ok()) return fail(s.WithContext("watermark state file"));
  const std::string text = FormatWatermark(doc);
  PutRequest request;
  request.key = key_;
  request.bytes = std::as_bytes(std::span(text.data(), text.size()));
  request.mode = PutMode::kReplace;
  auto put = sink.Put(request);
  if (!put.ok()) return fail(put.status().WithContext("writing watermark " + key_));
  MutexLock lock(mu_);
  last_written_ = doc;
  error_.clear();
  error_ns_ = 0;
  return Status::Ok();
}

Status WatermarkTracker::SaveState() {
  Watermark doc;
  {
    MutexLock lock(mu_);
    if (!t_ns_) return Status::Ok();  // nothing computed yet: nothing worth keeping
    doc = DocumentLocked();
    doc.written_at_ns = last_written_ ? last_written_->written_at_ns : wall_ns_();
  }
  return SaveDocument(doc);
}

Status WatermarkTracker::SaveDocument(const Watermark& w) const {
  const std::string& path = options_.watermark_state_file;
  if (path.empty()) return Status::Ok();
  // Temp file, fsync, rename over, fsync the directory: the file holds the
  // old document or the new one after any crash.
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus("create " + tmp, errno);
  Status s = WriteAll(fd, FormatWatermark(w), tmp);
  if (s.ok() && ::fsync(fd) != 0) s = ErrnoStatus("fsync " + tmp, errno);
  ::close(fd);
  if (s.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) {
    s = ErrnoStatus("rename " + tmp + " to " + path, errno);
  }
  if (!s.ok()) {
    ::unlink(tmp.c_str());
    return s;
  }
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return ErrnoStatus("open " + dir, errno);
  const int rc = ::fsync(dfd);
  const int err = errno;
  ::close(dfd);
  if (rc != 0) return ErrnoStatus("fsync " + dir, err);
  return Status::Ok();
}

WatermarkHealth WatermarkTracker::health() const {
  MutexLock lock(mu_);
  WatermarkHealth h;
  if (last_written_) {
    h.written_ns = last_written_->watermark_ns;
    h.written_at_ns = last_written_->written_at_ns;
  }
  h.late_records = late_;
  h.error = error_;
  h.error_ns = error_ns_;
  return h;
}

}  // namespace sluice::sync
