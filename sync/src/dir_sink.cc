// Directory sink: objects as files under a root, for air-gapped sites.
//
// Layout: key "a/b/c.slp" is root/a/b/c.slp, with root/a/b/c.slp.sha256 beside
// it in sha256sum format ("<hex>  c.slp\n", so `sha256sum -c` verifies it).
// The .sha256 file is written after the object is durable: its presence
// marks a complete object, and a reader may ignore objects without one.
//
// Atomicity: bytes go to a dot-named temp file in the target directory, are
// fsynced, then renamed into place without replacing (renameat2
// RENAME_NOREPLACE), then the directory is fsynced. A crash leaves either no
// object or the whole object; at worst a stale ".sluice-tmp-*" file, which
// readers skip because of the leading dot.
//
// PutMode::kReplace (the watermark object): the same temp file, renamed over
// the old object (rename(2) replaces atomically). Its sidecar is removed
// first and written afresh after, so that a crash in between leaves an
// object without a sidecar (incomplete to a checking reader), never one
// whose sidecar names other bytes.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <random>
#include <vector>

#include "s3_source.h"
#include "sync/sink.h"

namespace sluice::sync {
namespace {

using detail::Hex;
using detail::ObjectSource;

constexpr std::string_view kSidecarSuffix = ".sha256";
constexpr std::string_view kTempPrefix = ".sluice-tmp-";

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

Status WriteAll(int fd, const std::byte* data, std::size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("write " + path, errno);
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Status SyncPath(const std::string& path, bool directory) {
  Fd fd(::open(path.c_str(), (directory ? O_DIRECTORY : 0) | O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus("open " + path, errno);
  if (::fsync(fd.get()) != 0) return ErrnoStatus("fsync " + path, errno);
  return Status::Ok();
}

Result<std::string> ReadSmallFile(const std::string& path, std::size_t limit) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return ErrnoStatus("open " + path, errno);
  }
  std::string out(limit, '\0');
  std::size_t done = 0;
  while (done < limit) {
    const ssize_t n = ::read(fd.get(), out.data() + done, limit - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ErrnoStatus("read " + path, errno);
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

class DirSink final : public Sink {
 public:
  explicit DirSink(DirSinkOptions options) : options_(std::move(options)) {}

  Result<PutResult> Put(const PutRequest& request) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<std::vector<std::byte>> Get(std::string_view key) override;
  std::string Describe() const override { return "dir:" + options_.root; }
  Status List(std::string_view prefix, const ListFn& visit) override;
  Status Delete(std::string_view key) override;

 private:
  // Lists `rel_dir` (relative to root, "" for root) and below, in byte order
  // of names per directory; false once `visit` asked to stop.
  Result<bool> Walk(const std::string& rel_dir, std::string_view prefix, const ListFn& visit);
  // root/<key>, after the checks that keep the key inside root and clear of
  // our own sidecar and temp names.
  Result<std::string> PathFor(std::string_view key) const;
  // Creates the missing directories between root and `dir`, syncing each new
  // entry so that the object's path survives a crash too.
  Status MakeDirs(const std::string& key_dir);
  // Writes `source` (or `text` when source is null) to `final_path` via a
  // synced temp file and a no-replace rename. kAlreadyExists when the final
  // name is taken.
  // With PutMode::kReplace the rename replaces an existing file instead.
  Status WriteAtomically(const std::string& dir, const std::string& final_path,
                         ObjectSource* source, std::string_view text,
                         const PaceFn* pace = nullptr, PutMode mode = PutMode::kCreateOnly);
  // Writes the .sha256 sidecar for `path` unless an identical one exists.
  Status WriteSidecar(const std::string& dir, const std::string& path, const std::string& sha);

  DirSinkOptions options_;
  std::mt19937_64 rng_{std::random_device{}()};
};

Result<std::string> DirSink::PathFor(std::string_view key) const {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(key));
  std::string_view rest = key;
  while (true) {
    const auto slash = rest.find('/');
    const std::string_view seg = rest.substr(0, slash);
    // A leading dot would collide with temp files (and hide the object).
    if (seg.front() == '.') {
      return InvalidArgument("object key '" + std::string(key) +
                             "': a segment may not start with '.' in a directory sink");
    }
    if (seg.size() > 255) {
      return InvalidArgument("object key '" + std::string(key) + "': a segment exceeds 255 bytes");
    }
    if (slash == std::string_view::npos) {
      if (seg.ends_with(kSidecarSuffix)) {
        return InvalidArgument("object key '" + std::string(key) +
                               "' ends in .sha256, which the directory sink uses for checksums");
      }
      break;
    }
    rest = rest.substr(slash + 1);
  }
  return options_.root + "/" + std::string(key);
}

Status DirSink::MakeDirs(const std::string& key_dir) {
  std::string path = options_.root;
  std::string_view rest = key_dir;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string parent = path;
    path += "/" + std::string(rest.substr(0, slash));
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (::mkdir(path.c_str(), 0755) == 0) {
      if (options_.sync) SLUICE_RETURN_IF_ERROR(SyncPath(parent, true));
    } else if (errno != EEXIST) {
      return ErrnoStatus("mkdir " + path, errno);
    } else {
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        return InvalidArgument(path + " exists and is not a directory");
      }
    }
  }
  return Status::Ok();
}

Status DirSink::WriteAtomically(const std::string& dir, const std::string& final_path,
                                ObjectSource* source, std::string_view text, const PaceFn* pace,
                                PutMode mode) {
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "%016llx", static_cast<unsigned long long>(rng_()));
  const std::string tmp = dir + "/" + std::string(kTempPrefix) + suffix;
  Status st;
  {
    Fd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
    if (fd.get() < 0) return ErrnoStatus("create " + tmp, errno);
    if (source != nullptr) {
      std::vector<std::byte> buf(std::min<std::uint64_t>(source->size(), 1u << 20));
      for (std::uint64_t off = 0; off < source->size() && st.ok();) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(source->size() - off, buf.size()));
        if (pace != nullptr && *pace && !(*pace)(n)) {
          st = Aborted("write of " + final_path + " stopped while waiting for bandwidth");
          break;
        }
        st = source->ReadAt(off, std::span(buf).first(n));
        if (st.ok()) st = WriteAll(fd.get(), buf.data(), n, tmp);
        off += n;
      }
    } else {
      st = WriteAll(fd.get(), reinterpret_cast<const std::byte*>(text.data()), text.size(), tmp);
    }
    if (st.ok() && options_.sync && ::fsync(fd.get()) != 0) st = ErrnoStatus("fsync " + tmp, errno);
  }
  if (st.ok() && mode == PutMode::kReplace) {
    if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
      st = ErrnoStatus("rename " + tmp + " to " + final_path, errno);
    }
  } else if (st.ok()) {
    // No-replace rename: never overwrite an object another writer (or an
    // earlier attempt) put there in the meantime. Filesystems without it
    // (vfat, exFAT, some network shares) fall back to link()+unlink(), which
    // fails with EEXIST just the same; only when that is unsupported as well
    // do we check-then-rename, racy against a concurrent writer only.
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, final_path.c_str(), RENAME_NOREPLACE) != 0) {
      int err = errno;
      if (err == EINVAL || err == ENOSYS || err == ENOTSUP) {
        if (::link(tmp.c_str(), final_path.c_str()) == 0) {
          ::unlink(tmp.c_str());
          err = 0;
        } else {
          err = errno;
          if (err == EPERM || err == ENOTSUP) {
            struct stat ignored {};
            if (::lstat(final_path.c_str(), &ignored) == 0) {
              err = EEXIST;
            } else {
              err = ::rename(tmp.c_str(), final_path.c_str()) == 0 ? 0 : errno;
            }
          }
        }
      }
      if (err == EEXIST) st = AlreadyExists(final_path + " already exists");
      else if (err != 0) st = ErrnoStatus("rename " + tmp + " to " + final_path, err);
    }
  }
  if (!st.ok()) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (options_.sync) SLUICE_RETURN_IF_ERROR(SyncPath(dir, true));
  return Status::Ok();
}

Status DirSink::WriteSidecar(const std::string& dir, const std::string& path,
                             const std::string& sha) {
  const std::string name = path.substr(path.rfind('/') + 1);
  const std::string want = sha + "  " + name + "\n";
  const std::string sidecar = path + std::string(kSidecarSuffix);
  auto have = ReadSmallFile(sidecar, 4096);
  if (have.ok()) {
    if (*have == want) return Status::Ok();
    // The object was verified identical just before: a sidecar that
    // disagrees was damaged or hand-edited; say so rather than rewrite it.
    return Corruption(sidecar + " does not match the object's SHA-256 " + sha);
  }
  if (have.status().code() != StatusCode::kNotFound) return have.status();
  Status st = WriteAtomically(dir, sidecar, nullptr, want);
  // Lost a race against a concurrent identical Put: check what it wrote.
  if (st.code() == StatusCode::kAlreadyExists) return WriteSidecar(dir, path, sha);
  return st;
}

Result<PutResult> DirSink::Put(const PutRequest& request) {
  SLUICE_ASSIGN_OR_RETURN(auto path, PathFor(request.key));
  SLUICE_ASSIGN_OR_RETURN(auto source, detail::OpenSource(request));
  ObjectSource& src = *source;
  SLUICE_ASSIGN_OR_RETURN(auto digests, detail::DigestRange(src, 0, src.size()));
  PutResult result;
  result.size = src.size();
  result.sha256 = Hex(digests.sha256);
  if (!request.expected_sha256.empty() && request.expected_sha256 != result.sha256) {
    return Corruption("object for key '" + request.key + "' (" + src.name() + ") has SHA-256 " +
                      result.sha256 + ", expected " + request.expected_sha256);
  }

  const auto slash = request.key.rfind('/');
  const std::string key_dir = slash == std::string::npos ? "" : request.key.substr(0, slash);
  const std::string dir = key_dir.empty() ? options_.root : options_.root + "/" + key_dir;
  SLUICE_RETURN_IF_ERROR(MakeDirs(key_dir));
  if (request.mode == PutMode::kReplace) {
    const std::string sidecar = path + std::string(kSidecarSuffix);
    if (::unlink(sidecar.c_str()) == 0) {
      if (options_.sync) SLUICE_RETURN_IF_ERROR(SyncPath(dir, true));
    } else if (errno != ENOENT) {
      return ErrnoStatus("unlink " + sidecar, errno);
    }
    SLUICE_RETURN_IF_ERROR(
        WriteAtomically(dir, path, &src, {}, &request.pace, PutMode::kReplace)
            .WithContext("put '" + request.key + "'"));
    SLUICE_RETURN_IF_ERROR(WriteSidecar(dir, path, result.sha256));
    return result;
  }
  Status st = WriteAtomically(dir, path, &src, {}, &request.pace);
  if (st.code() == StatusCode::kAlreadyExists) {
    // Idempotent retry or a conflict: compare the bytes themselves; reading
    // a local file back is cheap and leaves no doubt.
    PutRequest existing_req;
    existing_req.file = path;
    SLUICE_ASSIGN_OR_RETURN(auto existing, detail::OpenSource(existing_req));
    SLUICE_ASSIGN_OR_RETURN(auto have, detail::DigestRange(*existing, 0, existing->size()));
    if (existing->size() != result.size || have.sha256 != digests.sha256) {
      return AlreadyExists("key '" + request.key + "' already holds a different object (" +
                           std::to_string(existing->size()) + " bytes, SHA-256 " +
                           Hex(have.sha256) + "; refused to overwrite with " +
                           std::to_string(result.size) + " bytes, SHA-256 " + result.sha256 +
                           ")");
    }
    result.outcome = PutOutcome::kAlreadyIdentical;
  } else if (!st.ok()) {
    return st.WithContext("put '" + request.key + "'");
  }
  // Also after kAlreadyIdentical: a crash may have come between the object's
  // rename and its sidecar's.
  SLUICE_RETURN_IF_ERROR(WriteSidecar(dir, path, result.sha256));
  return result;
}

Result<ObjectInfo> DirSink::Head(std::string_view key) {
  SLUICE_ASSIGN_OR_RETURN(auto path, PathFor(key));
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT)
      return NotFound("key '" + std::string(key) + "' not found in " + options_.root);
    return ErrnoStatus("stat " + path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return InvalidArgument("key '" + std::string(key) + "': " + path + " is not a regular file");
  }
  ObjectInfo info;
  info.size = static_cast<std::uint64_t>(st.st_size);
  auto sidecar = ReadSmallFile(path + std::string(kSidecarSuffix), 4096);
  if (sidecar.ok() && sidecar->size() > 64 && detail::IsSha256Hex(sidecar->substr(0, 64))) {
    info.sha256 = sidecar->substr(0, 64);
  }
  return info;
}

Result<std::vector<std::byte>> DirSink::Get(std::string_view key) {
  SLUICE_ASSIGN_OR_RETURN(auto path, PathFor(key));
  PutRequest req;
  req.file = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return NotFound("key '" + std::string(key) + "' not found in " + options_.root);
  }
  SLUICE_ASSIGN_OR_RETURN(auto source, detail::OpenSource(req));
  std::vector<std::byte> out(static_cast<std::size_t>(source->size()));
  SLUICE_RETURN_IF_ERROR(source->ReadAt(0, out));
  return out;
}

Status DirSink::List(std::string_view prefix, const ListFn& visit) {
  // Start in the deepest directory the prefix names whole.
  const auto slash = prefix.rfind('/');
  const std::string start = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
  if (!start.empty() && !ValidateSinkKey(start).ok()) return Status::Ok();  // names nothing we hold
  auto walked = Walk(start, prefix, visit);
  return walked.ok() ? Status::Ok() : walked.status();
}

Result<bool> DirSink::Walk(const std::string& rel_dir, std::string_view prefix,
                           const ListFn& visit) {
  const std::string dir = rel_dir.empty() ? options_.root : options_.root + "/" + rel_dir;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT || errno == ENOTDIR) return true;  // nothing under this prefix
    return ErrnoStatus("opendir " + dir, errno);
  }
  std::vector<std::string> names;
  errno = 0;
  while (const dirent* e = ::readdir(d)) {
    // Hidden names are ours (temp files) or not objects at all.
    if (e->d_name[0] != '.') names.emplace_back(e->d_name);
  }
  const int err = errno;
  ::closedir(d);
  if (err != 0) return ErrnoStatus("readdir " + dir, err);
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    const std::string key = rel_dir.empty() ? name : rel_dir + "/" + name;
    // Prune subtrees that cannot hold a key with the prefix.
    const std::string_view k = key;
    if (!k.starts_with(prefix.substr(0, std::min(prefix.size(), k.size())))) continue;
    struct stat st {};
    if (::lstat((dir + "/" + name).c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // deleted while we looked
      return ErrnoStatus("stat " + dir + "/" + name, errno);
    }
    if (S_ISDIR(st.st_mode)) {
      if (!ValidateSinkKey(key).ok()) continue;
      auto more = Walk(key, prefix, visit);
      if (!more.ok() || !*more) return more;
      continue;
    }
    if (!S_ISREG(st.st_mode) || !k.starts_with(prefix) || name.ends_with(kSidecarSuffix) ||
        !ValidateSinkKey(key).ok()) {
      continue;
    }
    if (!visit(ListedObject{key, static_cast<std::uint64_t>(st.st_size), {}})) return false;
  }
  return true;
}

Status DirSink::Delete(std::string_view key) {
  SLUICE_ASSIGN_OR_RETURN(auto path, PathFor(key));
  // The object first: a crash in between leaves a sidecar without an object,
  // which lists as nothing, rather than an object that looks incomplete.
  for (const std::string& p : {path, path + std::string(kSidecarSuffix)}) {
    if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + p, errno);
  }
  if (options_.sync) {
    const std::string dir = path.substr(0, path.rfind('/'));
    SLUICE_RETURN_IF_ERROR(SyncPath(dir, true));
  }
  return Status::Ok();
}

}  // namespace

Status DirSinkOptions::Validate() const {
  if (root.empty()) return InvalidArgument("directory sink: root is empty");
  if (root.front() != '/')
    return InvalidArgument("directory sink: root '" + root + "' is not absolute");
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0) return ErrnoStatus("directory sink: root " + root, errno);
  if (!S_ISDIR(st.st_mode))
    return InvalidArgument("directory sink: root " + root + " is not a directory");
  return Status::Ok();
}

Result<std::unique_ptr<Sink>> OpenDirSink(const DirSinkOptions& options) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  DirSinkOptions o = options;
  while (o.root.size() > 1 && o.root.back() == '/') o.root.pop_back();
  return std::unique_ptr<Sink>(new DirSink(std::move(o)));
}

}  // namespace sluice::sync
