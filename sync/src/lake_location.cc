// Locations of `sluice lake` (s3://bucket/prefix or a directory), its
// options' checks, and opening a sink on a location.
#include <sys/stat.h>

#include <filesystem>

#include "lake_internal.h"

namespace sluice::sync {

std::string LakeLocation::ToString() const {
  if (kind == Kind::kDirectory) return dir;
  return "s3://" + bucket + (prefix.empty() ? "" : "/" + prefix);
}

Result<LakeLocation> ParseLakeLocation(std::string_view text) {
  LakeLocation loc;
  if (text.starts_with("s3://")) {
    loc.kind = LakeLocation::Kind::kS3;
    std::string_view rest = text.substr(5);
    while (rest.ends_with('/')) rest.remove_suffix(1);
    const auto slash = rest.find('/');
    loc.bucket = std::string(rest.substr(0, slash));
    if (slash != std::string_view::npos) loc.prefix = std::string(rest.substr(slash + 1));
    if (loc.bucket.empty()) return InvalidArgument("'" + std::string(text) + "' names no bucket");
    if (!loc.prefix.empty()) {
      SLUICE_RETURN_IF_ERROR(ValidateSinkKey(loc.prefix).WithContext(std::string(text)));
    }
    return loc;
  }
  if (text.find("://") != std::string_view::npos) {
    return InvalidArgument("'" + std::string(text) + "': only s3:// URLs and directories are supported");
  }
  if (text.empty()) return InvalidArgument("empty location");
  std::error_code ec;
  std::filesystem::path p = std::filesystem::absolute(std::string(text), ec);
  if (ec) return InvalidArgument("'" + std::string(text) + "': " + ec.message());
  std::string dir = p.lexically_normal().string();
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  loc.kind = LakeLocation::Kind::kDirectory;
  loc.dir = dir;
  return loc;
}

Status LakeOptions::Validate() const {
  if (from.empty()) return InvalidArgument("lake: no source (--from)");
  if (to.empty()) return InvalidArgument("lake: no target (--to)");
  if (workers < 1 || workers > 64) return InvalidArgument("lake: workers must be 1..64");
  if (shard_count < 1 || shard_count > 65536) return InvalidArgument("lake: shard count must be 1..65536");
  if (shard_index >= shard_count) {
    return InvalidArgument("lake: shard " + std::to_string(shard_index) + " is not below the count " +
                           std::to_string(shard_count));
  }
  if (attempts < 1 || attempts > 100) return InvalidArgument("lake: attempts must be 1..100");
  if (max_object_bytes < 1) return InvalidArgument("lake: max_object_bytes must be >= 1");
  for (const auto& p : prefixes) {
    if (p.empty()) return InvalidArgument("lake: an empty --prefix");
  }
  return parquet.Validate();
}

namespace detail {

// The place a location names, for comparing two of them: "dir:<realpath>"
// or "s3:<bucket>/<prefix>", with a trailing '/' so that a prefix test
// respects segment boundaries.
Result<std::string> PlaceOf(const LakeLocation& loc) {
  if (loc.kind == LakeLocation::Kind::kS3) {
    return "s3:" + loc.bucket + "/" + (loc.prefix.empty() ? "" : loc.prefix + "/");
  }
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(loc.dir, ec);
  if (ec) return InvalidArgument(loc.dir + ": " + ec.message());
  std::string s = canonical.string();
  if (!s.ends_with('/')) s += '/';
  return "dir:" + s;
}

Result<LakePlaces> ComparePlaces(const LakeLocation& from, const LakeLocation& to) {
  SLUICE_ASSIGN_OR_RETURN(auto a, PlaceOf(from));
  SLUICE_ASSIGN_OR_RETURN(auto b, PlaceOf(to));
  if (a == b) return LakePlaces::kSame;
  if (a.starts_with(b) || b.starts_with(a)) {
    return InvalidArgument("lake: " + from.ToString() + " and " + to.ToString() +
                           " overlap (one lies inside the other); use the same place or two apart");
  }
  return LakePlaces::kApart;
}

Result<std::unique_ptr<Sink>> OpenLakeSink(const LakeOptions& options, const LakeLocation& loc) {
  if (options.open_sink) return options.open_sink(loc);
  if (loc.kind == LakeLocation::Kind::kS3) {
    if (options.s3.endpoint.empty()) {
      return InvalidArgument(loc.ToString() + " needs an S3 endpoint (--s3-endpoint)");
    }
    S3SinkOptions s3 = options.s3;
    s3.bucket = loc.bucket;
    s3.key_prefix = loc.prefix;
    return OpenS3Sink(s3);
  }
  DirSinkOptions dir;
  dir.root = loc.dir;
  dir.sync = options.dir_sync;
  return OpenDirSink(dir);
}

Status EnsureTargetDir(const LakeOptions& options, const LakeLocation& to) {
  if (to.kind != LakeLocation::Kind::kDirectory || !options.create_target_dir || options.open_sink) {
    return Status::Ok();
  }
  std::error_code ec;
  std::filesystem::create_directories(to.dir, ec);
  if (ec) return IoError("create " + to.dir + ": " + ec.message());
  return Status::Ok();
}

}  // namespace detail
}  // namespace sluice::sync
