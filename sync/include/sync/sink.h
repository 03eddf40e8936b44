// Sinks: where finished partition objects go (S3-compatible storage, or a
// directory for air-gapped sites), behind one small interface.
//
// The contract every sink keeps, and the sync engine relies on:
//  - Put never overwrites. A key is written at most once; a Put of a key that
//    already holds exactly the same bytes reports kAlreadyIdentical (this is
//    what makes a retried upload idempotent), a key holding different bytes is
//    a permanent error (kAlreadyExists) naming the key, and the stored object
//    is left unchanged. The one exception is a request with PutMode::kReplace,
//    used only for small objects outside the data layout that are meant to
//    change (the completeness watermark); data objects never use it.
//  - A successful Put means the sink holds the bytes durably and they were
//    checked: SHA-256 (and MD5 on S3) are computed from the source and
//    verified by the receiver before the Put returns.
//  - Errors are values. IsRetryable() tells the engine which ones to retry
//    with backoff (kUnavailable: 5xx, throttling, timeouts, connection
//    failures, bytes damaged in transit); every other code is permanent until
//    a person changes something (credentials, bucket, config, disk).
//  - No secret ever appears in a Status message, a log line or Describe().
//
// Thread-safety: a Sink instance is NOT thread-safe; use one per thread (the
// S3 sink reuses one connection, which is exactly why). Different instances
// may run concurrently, also against the same bucket or directory.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace sluice::sync {

enum class PutOutcome : std::uint8_t {
  kCreated = 0,           // this call stored the object
  kAlreadyIdentical = 1,  // the key already held exactly these bytes
};
std::string_view PutOutcomeName(PutOutcome outcome);

// Whether a Put may replace what a key holds.
enum class PutMode : std::uint8_t {
  kCreateOnly = 0,  // the contract above: create, or find identical, never overwrite
  // Overwrite whatever the key holds, as one atomic replacement: a reader
  // sees the old object or the new one, never a mix. For small mutable
  // objects only (below the S3 sink's multipart threshold); reports kCreated.
  kReplace = 1,
};

// Bandwidth pacing for a Put: called with the number of body bytes the sink
// is about to send or write, before it does; returns once they may go, or
// false to give up (the Put then fails with kAborted and stores nothing).
using PaceFn = std::function<bool(std::uint64_t bytes)>;

struct PutRequest {
  // Object key relative to the sink's prefix, e.g. from BuildObjectKey();
  // checked by ValidateSinkKey().
  std::string key;
  // The object: either `bytes` (used when `file` is empty; must stay valid
  // until Put returns) or the path of a regular file, read and never modified.
  std::span<const std::byte> bytes;
  std::string file;
  // Optional lowercase hex SHA-256 the caller expects the source to have
  // (e.g. computed when the object was encoded). On a mismatch Put returns
  // kCorruption and writes nothing. Empty: not checked.
  std::string expected_sha256;
  // Optional pacing (the caller's bandwidth limit), asked for every chunk
  // of the body as it goes: bytes sent again (a rewound body, a part
  // retried) are paced again, so a limit counts what reaches the wire, and
  // a Put that fails before sending costs nothing. Empty: not paced.
  PaceFn pace;
  // Default: kCreateOnly. Data objects must keep the default.
  PutMode mode = PutMode::kCreateOnly;
};

struct PutResult {
  PutOutcome outcome = PutOutcome::kCreated;
  std::uint64_t size = 0;   // bytes
  std::string sha256;       // lowercase hex SHA-256 of the object
};

struct ObjectInfo {
  std::uint64_t size = 0;   // bytes
  // Lowercase hex SHA-256 as recorded by the sink (S3: user metadata
  // x-amz-meta-sha256; directory: the .sha256 file). Empty when the object
  // was written by something else and carries none.
  std::string sha256;
  std::string etag;         // S3 ETag without quotes; empty for directories
};

// One object found by Sink::List.
struct ListedObject {
  std::string key;          // relative to the sink's prefix, as Put/Head/Get take it
  std::uint64_t size = 0;   // bytes
  std::string etag;         // S3 ETag without quotes; empty for directories
};
// Called for each object listed; return false to stop early.
using ListFn = std::function<bool(const ListedObject&)>;

// A multipart upload begun and neither completed nor aborted (left by a
// crash): it holds parts on the server but is no object.
struct IncompleteUpload {
  std::string key;        // relative to the sink's prefix
  std::string upload_id;
};
using IncompleteUploadFn = std::function<bool(const IncompleteUpload&)>;

class Sink {
 public:
  virtual ~Sink() = default;

  // Stores the object under `request.key` unless it is already there; see
  // the contract at the top of this file.
  virtual Result<PutResult> Put(const PutRequest& request) = 0;
  // kNotFound when the key holds no object.
  virtual Result<ObjectInfo> Head(std::string_view key) = 0;
  // Reads a whole object into memory: for verification and tests, not for
  // bulk reads. kNotFound when missing.
  virtual Result<std::vector<std::byte>> Get(std::string_view key) = 0;
  // Where objects go, for logs and status: "s3://bucket/prefix at
  // https://host" or "dir:/path". Never contains credentials.
  virtual std::string Describe() const = 0;

  // The rest is optional (readers and the `sluice lake` job need it, the
  // sync engine does not); the defaults say kUnsupported or "nothing".

  // Visits every object whose key starts with `prefix` (a plain string
  // prefix relative to the sink's own prefix, not necessarily a whole
  // segment; empty: all). Only complete objects are listed: no temp files,
  // no directory sink .sha256 sidecars, no keys that ValidateSinkKey
  // refuses. No order is promised. Objects put or deleted during the walk
  // may or may not be seen.
  virtual Status List(std::string_view prefix, const ListFn& visit) {
    (void)prefix;
    (void)visit;
    return Status(StatusCode::kUnsupported, Describe() + " cannot list objects");
  }
  // Removes the object (and, for directories, its .sha256). Deleting a key
  // that holds nothing succeeds: a retried delete is idempotent.
  virtual Status Delete(std::string_view key) {
    (void)key;
    return Status(StatusCode::kUnsupported, Describe() + " cannot delete objects");
  }
  // Visits the incomplete multipart uploads of keys starting with `prefix`.
  // Sinks without multipart uploads have none.
  virtual Status ListIncompleteUploads(std::string_view prefix, const IncompleteUploadFn& visit) {
    (void)prefix;
    (void)visit;
    return Status::Ok();
  }
  // Frees an incomplete upload's parts. One that is already gone succeeds.
  virtual Status AbortIncompleteUpload(const IncompleteUpload& upload) {
    (void)upload;
    return Status(StatusCode::kUnsupported, Describe() + " has no multipart uploads");
  }
};

// True for errors worth retrying unchanged after a backoff.
inline bool IsRetryable(const Status& s) { return s.code() == StatusCode::kUnavailable; }

// A key is 1..1024 bytes of [A-Za-z0-9._~=-] in '/'-separated segments,
// none empty, "." or "..": a set that needs no escaping in file names and
// Hive-style paths alike.
Status ValidateSinkKey(std::string_view key);

// ---------------------------------------------------------------------------
// S3-compatible object storage (Ceph RGW, MinIO, AWS S3).

enum class S3Addressing : std::uint8_t {
  kPath = 0,         // https://host/bucket/key: works everywhere, and with IP endpoints
  kVirtualHost = 1,  // https://bucket.host/key: AWS's preferred form; needs DNS
};

struct S3SinkOptions {
  // Scheme, host and optional port, no path: "https://s3.eu-west-1.amazonaws.com",
  // "http://127.0.0.1:7480". Plain http only for loopback and test rigs.
  // Default: none (required).
  std::string endpoint;
  // Region used in the SigV4 scope. For Ceph RGW it is the zonegroup's
  // api_name ("default" on a fresh cluster). Default: "us-east-1".
  std::string region = "us-east-1";
  // Existing bucket (the sink never creates one): 3..63 of [a-z0-9.-],
  // starting and ending with a letter or digit. Default: none (required).
  std::string bucket;
  // Prepended to every key with a '/': "sluice/raw". Same character rules as
  // keys; no leading or trailing '/'. Default: empty.
  std::string key_prefix;
  // Default: kPath. kVirtualHost needs a DNS name endpoint and a bucket
  // without dots (a dot breaks the TLS wildcard certificate).
  S3Addressing addressing = S3Addressing::kPath;
  // PEM file with the CA certificates to trust for https; empty: the system
  // store. Certificates are always verified; there is no switch to turn that off.
  std::string ca_file;
  // Credentials file (format and mode rule in docs/sinks.md): must not be
  // accessible by group or others. Empty: AWS_ACCESS_KEY_ID and
  // AWS_SECRET_ACCESS_KEY from the environment. Default: empty.
  std::string credentials_file;
  // TCP (and TLS) connect timeout. Default: 10 s. Bounds: 100 ms .. 5 min.
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than this many bytes/s for low_speed_time is
  // treated as stuck and aborted with kUnavailable. This, not a total
  // timeout, bounds an upload: a large object on a slow link may take long.
  // Default: 1024 B/s for 60 s. Bounds: limit >= 1, time 1..3600.
  std::uint32_t low_speed_limit_bytes_per_s = 1024;
  std::chrono::seconds low_speed_time{60};
  // Objects of at least this many bytes go up as a multipart upload.
  // Default: 64 MiB. Bounds: >= 5 MiB (S3's minimum part size).
  std::uint64_t multipart_threshold_bytes = 64ull << 20;
  // Size of every part but the last (one part is held in memory).
  // Default: 16 MiB. Bounds: 5 MiB .. 5 GiB (S3's part size limits).
  std::uint64_t multipart_part_bytes = 16ull << 20;

  Status Validate() const;
};

// Loads the credentials and checks the options; does not contact the server
// (the first Put or Head does, and reports a wrong key or bucket then).
Result<std::unique_ptr<Sink>> OpenS3Sink(const S3SinkOptions& options);

// ---------------------------------------------------------------------------
// A local directory (removable media, a mounted share) for air-gapped sites.

struct DirSinkOptions {
  // Existing directory that receives the objects; key segments become
  // subdirectories. It is not created: a missing root usually means the
  // medium is not mounted. Default: none (required).
  std::string root;
  // fsync files and directories before reporting success. Turn off only for
  // tests on tmpfs-like scratch space. Default: true.
  bool sync = true;

  Status Validate() const;
};

Result<std::unique_ptr<Sink>> OpenDirSink(const DirSinkOptions& options);

}  // namespace sluice::sync
