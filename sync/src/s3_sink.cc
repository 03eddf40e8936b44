// S3 sink: conditional, checksummed uploads to S3-compatible storage.
//
// Every Put is "create only": a single PUT carries If-None-Match: *, so a
// retry after a lost response gets 412 instead of overwriting; the existing
// object is then compared (size, and SHA-256 from its x-amz-meta-sha256
// metadata, or ETag = MD5 for objects without it) before we report
// kAlreadyIdentical. Integrity on the wire: x-amz-content-sha256 (SigV4
// payload hash, checked by the server) and Content-MD5 on every body.
//
// Multipart (objects >= multipart_threshold_bytes): HEAD first, and the
// conditional header on CompleteMultipartUpload. Ceph 16 RGW ignores
// If-None-Match on Complete (checked by tests/integration/s3_sink_test.cc),
// so there the HEAD is what prevents an overwrite; between the HEAD and the
// Complete a concurrent writer of the same key could still win. Keys carry
// the gateway id, so the only such writer would be this gateway's own
// concurrent retry, which the sync engine does not start.
//
// PutMode::kReplace (the watermark object): a plain single PUT without the
// condition, which S3 applies atomically; refused above the multipart
// threshold, where a replacement would not be one request.
#include <algorithm>
#include <vector>

#include "base/kill_point.h"
#include "s3_credentials.h"
#include "s3_http.h"
#include "s3_list.h"
#include "s3_request.h"
#include "s3_source.h"
#include "sync/sink.h"

namespace sluice::sync {
namespace {

using detail::Digests;
using detail::Hex;
using detail::HttpRequest;
using detail::HttpResponse;
using detail::ObjectSource;

constexpr std::uint64_t kMaxParts = 10'000;  // S3's limit

class S3Sink final : public Sink {
 public:
  S3Sink(S3SinkOptions options, detail::Endpoint ep, std::unique_ptr<detail::HttpClient> http)
      : options_(std::move(options)), ep_(std::move(ep)), http_(std::move(http)) {}

  Result<PutResult> Put(const PutRequest& request) override;
  Result<ObjectInfo> Head(std::string_view key) override;
  Result<std::vector<std::byte>> Get(std::string_view key) override;
  std::string Describe() const override {
    return "s3://" + options_.bucket + "/" + options_.key_prefix + " at " + options_.endpoint;
  }
  Status List(std::string_view prefix, const ListFn& visit) override;
  Status Delete(std::string_view key) override;
  Status ListIncompleteUploads(std::string_view prefix, const IncompleteUploadFn& visit) override;
  Status AbortIncompleteUpload(const IncompleteUpload& upload) override;

 private:
  // prefix/relative, for listing ("prefix/" + "" lists everything below).
  std::string FullPrefix(std::string_view relative) const {
    return options_.key_prefix.empty() ? std::string(relative)
                                       : options_.key_prefix + "/" + std::string(relative);
  }
  // The key relative to our prefix, or empty when it is not below it.
  std::string Relative(std::string_view full_key) const {
    if (options_.key_prefix.empty()) return std::string(full_key);
    const std::string p = options_.key_prefix + "/";
    if (!full_key.starts_with(p)) return {};
    return std::string(full_key.substr(p.size()));
  }
  std::string Url(std::string_view full_key, std::vector<detail::QueryParam> query = {}) const {
    return detail::ObjectUrl(ep_, options_, full_key, std::move(query));
  }
  Status ErrorFrom(const HttpResponse& r, std::string_view what) const {
    return detail::HttpError(r.status, detail::XmlTagText(r.body, "Code"),
                             detail::XmlTagText(r.body, "Message"), what);
  }
  Result<ObjectInfo> HeadFull(const std::string& full_key);
  Result<PutOutcome> PutSingle(const std::string& full_key, ObjectSource& src, const Digests& d,
                               const PaceFn& pace, PutMode mode);
  Result<PutOutcome> PutMultipart(const std::string& full_key, ObjectSource& src, const Digests& d,
                                  const PaceFn& pace);
  // After a 412 or a HEAD hit: kAlreadyIdentical, or why not.
  Result<PutOutcome> CheckExisting(const std::string& full_key, std::uint64_t size,
                                   const Digests& d);
  void AbortUpload(const std::string& full_key, const std::string& upload_id);

  S3SinkOptions options_;
  detail::Endpoint ep_;
  std::unique_ptr<detail::HttpClient> http_;
};

Result<PutResult> S3Sink::Put(const PutRequest& request) {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(request.key));
  const std::string full_key = detail::FullKey(options_.key_prefix, request.key);
  SLUICE_ASSIGN_OR_RETURN(auto source, detail::OpenSource(request));
  ObjectSource& src = *source;
  const bool multipart = src.size() >= options_.multipart_threshold_bytes;
  if (multipart && request.mode == PutMode::kReplace) {
    return InvalidArgument("object for key '" + request.key + "' is too large to replace (" +
                           std::to_string(src.size()) + " bytes; at most " +
                           std::to_string(options_.multipart_threshold_bytes - 1) + ")");
  }
  if (multipart &&
      (src.size() + options_.multipart_part_bytes - 1) / options_.multipart_part_bytes >
          kMaxParts) {
    return InvalidArgument("object for key '" + request.key + "' needs more than 10000 parts of " +
                           std::to_string(options_.multipart_part_bytes) + " bytes");
  }
  SLUICE_ASSIGN_OR_RETURN(auto digests, detail::DigestRange(src, 0, src.size()));
  PutResult result;
  result.size = src.size();
  result.sha256 = Hex(digests.sha256);
  if (!request.expected_sha256.empty() && request.expected_sha256 != result.sha256) {
    return Corruption("object for key '" + request.key + "' (" + src.name() + ") has SHA-256 " +
                      result.sha256 + ", expected " + request.expected_sha256);
  }
  auto outcome =
      multipart ? PutMultipart(full_key, src, digests, request.pace)
                : PutSingle(full_key, src, digests, request.pace, request.mode);
  if (!outcome.ok()) return outcome.status();
  result.outcome = *outcome;
  return result;
}

Result<PutOutcome> S3Sink::PutSingle(const std::string& full_key, ObjectSource& src,
                                     const Digests& d, const PaceFn& pace, PutMode mode) {
  HttpRequest req;
  req.method = "PUT";
  req.url = Url(full_key);
  req.headers = {"Content-Type: application/octet-stream",
                 "Content-MD5: " + detail::Base64(d.md5),
                 "x-amz-meta-sha256: " + Hex(d.sha256)};
  if (mode == PutMode::kCreateOnly) req.headers.push_back("If-None-Match: *");
  req.source = &src;
  req.length = src.size();
  req.pace = &pace;
  req.payload_sha256 = Hex(d.sha256);
  SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
  if (r.status == 200) return PutOutcome::kCreated;
  if (r.status == 412) return CheckExisting(full_key, src.size(), d);
  return ErrorFrom(r, "PUT key '" + full_key + "'");
}

Result<PutOutcome> S3Sink::CheckExisting(const std::string& full_key, std::uint64_t size,
                                         const Digests& d) {
  auto info = HeadFull(full_key);
  if (info.status().code() == StatusCode::kNotFound) {
    // 412 said it exists, HEAD says it does not: deleted in between. A
    // retry will create it.
    return Unavailable("key '" + full_key + "' existed at PUT and vanished before HEAD; retry");
  }
  if (!info.ok()) return info.status();
  const std::string sha = Hex(d.sha256);
  const auto differ = [&](std::string_view why) {
    return AlreadyExists("key '" + full_key + "' already holds a different object (" +
                         std::string(why) + "); refused to overwrite it with " +
                         std::to_string(size) + " bytes, SHA-256 " + sha);
  };
  if (info->size != size) return differ(std::to_string(info->size) + " bytes");
  if (!info->sha256.empty()) {
    if (info->sha256 == sha) return PutOutcome::kAlreadyIdentical;
    return differ("x-amz-meta-sha256 " + info->sha256);
  }
  // Written by another tool without our metadata: a single-part ETag is the
  // MD5 of the bytes; a multipart one ("...-N") is not, and proves nothing.
  if (info->etag.find('-') == std::string::npos) {
    if (info->etag == Hex(d.md5)) return PutOutcome::kAlreadyIdentical;
    return differ("ETag " + info->etag);
  }
  return AlreadyExists("key '" + full_key +
                       "' already exists with the same size, but without x-amz-meta-sha256 "
                       "and with a multipart ETag, so it cannot be verified identical");
}

Result<PutOutcome> S3Sink::PutMultipart(const std::string& full_key, ObjectSource& src,
                                        const Digests& d, const PaceFn& pace) {
  const std::string sha = Hex(d.sha256);
  // The conditional Complete is not honoured by every server (Ceph 16):
  // look before uploading gigabytes that might overwrite.
  auto existing = HeadFull(full_key);
  if (existing.ok()) return CheckExisting(full_key, src.size(), d);
  if (existing.status().code() != StatusCode::kNotFound) return existing.status();

  HttpRequest create;
  create.method = "POST";
  create.url = Url(full_key, {{"uploads", ""}});
  create.headers = {"Content-Type: application/octet-stream", "x-amz-meta-sha256: " + sha};
  create.payload_sha256 = detail::kEmptySha256;
  SLUICE_ASSIGN_OR_RETURN(auto cr, http_->Perform(create));
  if (cr.status != 200) return ErrorFrom(cr, "CreateMultipartUpload key '" + full_key + "'");
  const std::string upload_id = detail::XmlTagText(cr.body, "UploadId");
  if (upload_id.empty()) {
    return Unavailable("CreateMultipartUpload key '" + full_key + "': no UploadId in the response");
  }

  // From here on every failure aborts the upload, so the server frees the
  // parts. A crash leaves them behind: a bucket lifecycle rule
  // (AbortIncompleteMultipartUpload) cleans those up; see docs/sinks.md.
  std::vector<detail::PartETag> parts;
  std::vector<std::byte> buf(static_cast<std::size_t>(
      std::min<std::uint64_t>(options_.multipart_part_bytes, src.size())));
  Status failed;
  for (std::uint64_t off = 0; off < src.size() && failed.ok(); off += buf.size()) {
    const int number = static_cast<int>(parts.size()) + 1;
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), src.size() - off));
    const auto part = std::span<const std::byte>(buf).first(n);
    failed = src.ReadAt(off, std::span(buf).first(n));
    if (!failed.ok()) break;
    const Digests pd = detail::DigestOf(part);
    HttpRequest put;
    put.method = "PUT";
    put.url = Url(full_key, {{"partNumber", std::to_string(number)}, {"uploadId", upload_id}});
    put.headers = {"Content-MD5: " + detail::Base64(pd.md5)};
    put.bytes = part;
    put.pace = &pace;
    put.payload_sha256 = Hex(pd.sha256);
    auto pr = http_->Perform(put);
    if (!pr.ok()) {
      failed = pr.status();
    } else if (pr->status != 200 || pr->header("etag").empty()) {
      failed =
          ErrorFrom(*pr, "UploadPart " + std::to_string(number) + " of key '" + full_key + "'");
    } else {
      parts.push_back({number, pr->header("etag")});
      // Crash tests (tests/integration/lake_kill_test.cc) die here, with an
      // incomplete upload on the server.
      KillPoint("s3_multipart_part");
    }
  }
  if (!failed.ok()) {
    AbortUpload(full_key, upload_id);
    return failed;
  }

  HttpRequest complete;
  complete.method = "POST";
  complete.url = Url(full_key, {{"uploadId", upload_id}});
  const std::string xml = detail::CompleteMultipartXml(parts);
  complete.bytes = std::as_bytes(std::span(xml));
  complete.headers = {"Content-Type: application/xml", "If-None-Match: *"};
  complete.payload_sha256 = Hex(detail::DigestOf(complete.bytes).sha256);
  auto fin = http_->Perform(complete);
  if (!fin.ok()) {
    // The outcome is unknown (the server may have completed it): do not
    // abort blindly; a retry HEADs first and sorts it out.
    return fin.status();
  }
  if (fin->status == 412) {
    AbortUpload(full_key, upload_id);
    return CheckExisting(full_key, src.size(), d);
  }
  // Complete may answer 200 and report an error in the body.
  if (fin->status != 200 || !detail::XmlTagText(fin->body, "Code").empty()) {
    Status st = ErrorFrom(*fin, "CompleteMultipartUpload key '" + full_key + "'");
    if (fin->status == 200) st = Unavailable(st.message());
    AbortUpload(full_key, upload_id);
    return st;
  }
  // Confirm what the server now holds before the caller marks it synced.
  auto info = HeadFull(full_key);
  if (!info.ok()) return info.status().WithContext("HEAD after CompleteMultipartUpload");
  if (info->size != src.size() || info->sha256 != sha) {
    return Corruption("key '" + full_key + "' after multipart upload has " +
                      std::to_string(info->size) + " bytes, x-amz-meta-sha256 '" + info->sha256 +
                      "'; uploaded " + std::to_string(src.size()) + " bytes, SHA-256 " + sha);
  }
  return PutOutcome::kCreated;
}

void S3Sink::AbortUpload(const std::string& full_key, const std::string& upload_id) {
  HttpRequest del;
  del.method = "DELETE";
  del.url = Url(full_key, {{"uploadId", upload_id}});
  del.payload_sha256 = detail::kEmptySha256;
  // Best effort: the lifecycle rule covers what this misses.
  (void)http_->Perform(del);
}

Result<ObjectInfo> S3Sink::HeadFull(const std::string& full_key) {
  HttpRequest req;
  req.method = "HEAD";
  req.url = Url(full_key);
  req.payload_sha256 = detail::kEmptySha256;
  SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
  if (r.status == 404)
    return NotFound("key '" + full_key + "' not found in bucket " + options_.bucket);
  // HEAD responses have no body, hence no S3 error code.
  if (r.status != 200) return ErrorFrom(r, "HEAD key '" + full_key + "'");
  ObjectInfo info;
  const std::string length = r.header("content-length");
  if (length.empty() || length.find_first_not_of("0123456789") != std::string::npos) {
    return Unavailable("HEAD key '" + full_key + "': no valid Content-Length");
  }
  info.size = std::stoull(length);
  info.etag = detail::StripETag(r.header("etag"));
  const std::string sha = r.header("x-amz-meta-sha256");
  if (detail::IsSha256Hex(sha)) info.sha256 = sha;
  return info;
}

Result<ObjectInfo> S3Sink::Head(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(key));
  return HeadFull(detail::FullKey(options_.key_prefix, key));
}

Result<std::vector<std::byte>> S3Sink::Get(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(key));
  const std::string full_key = detail::FullKey(options_.key_prefix, key);
  HttpRequest req;
  req.method = "GET";
  req.url = Url(full_key);
  req.payload_sha256 = detail::kEmptySha256;
  req.max_response_bytes = std::size_t{1} << 32;
  SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
  if (r.status == 404)
    return NotFound("key '" + full_key + "' not found in bucket " + options_.bucket);
  if (r.status != 200) return ErrorFrom(r, "GET key '" + full_key + "'");
  const auto bytes = std::as_bytes(std::span(r.body));
  return std::vector<std::byte>(bytes.begin(), bytes.end());
}

Status S3Sink::List(std::string_view prefix, const ListFn& visit) {
  const std::string full_prefix = FullPrefix(prefix);
  std::string token;
  while (true) {
    std::vector<detail::QueryParam> query = {{"list-type", "2"}, {"max-keys", "1000"}};
    if (!full_prefix.empty()) query.push_back({"prefix", full_prefix});
    if (!token.empty()) query.push_back({"continuation-token", token});
    HttpRequest req;
    req.method = "GET";
    req.url = Url("", std::move(query));
    req.payload_sha256 = detail::kEmptySha256;
    req.max_response_bytes = std::size_t{16} << 20;
    SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
    if (r.status != 200) return ErrorFrom(r, "ListObjectsV2 prefix '" + full_prefix + "'");
    SLUICE_ASSIGN_OR_RETURN(auto page, detail::ParseListObjectsV2(r.body));
    for (auto& o : page.objects) {
      o.key = Relative(o.key);
      if (o.key.empty() || !ValidateSinkKey(o.key).ok()) continue;  // not one of ours
      if (!visit(o)) return Status::Ok();
    }
    if (!page.truncated) return Status::Ok();
    if (page.next_token == token) {
      return Unavailable("ListObjectsV2 prefix '" + full_prefix + "': continuation token repeats");
    }
    token = std::move(page.next_token);
  }
}

Status S3Sink::Delete(std::string_view key) {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(key));
  const std::string full_key = detail::FullKey(options_.key_prefix, key);
  HttpRequest req;
  req.method = "DELETE";
  req.url = Url(full_key);
  req.payload_sha256 = detail::kEmptySha256;
  SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
  // S3 answers 204 also for a key that holds nothing; some servers 404.
  if (r.status == 204 || r.status == 200 || r.status == 404) return Status::Ok();
  return ErrorFrom(r, "DELETE key '" + full_key + "'");
}

Status S3Sink::ListIncompleteUploads(std::string_view prefix, const IncompleteUploadFn& visit) {
  const std::string full_prefix = FullPrefix(prefix);
  std::string key_marker, id_marker;
  while (true) {
    std::vector<detail::QueryParam> query = {{"uploads", ""}};
    if (!full_prefix.empty()) query.push_back({"prefix", full_prefix});
    if (!key_marker.empty()) query.push_back({"key-marker", key_marker});
    if (!id_marker.empty()) query.push_back({"upload-id-marker", id_marker});
    HttpRequest req;
    req.method = "GET";
    req.url = Url("", std::move(query));
    req.payload_sha256 = detail::kEmptySha256;
    req.max_response_bytes = std::size_t{16} << 20;
    SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(req));
    if (r.status != 200) return ErrorFrom(r, "ListMultipartUploads prefix '" + full_prefix + "'");
    SLUICE_ASSIGN_OR_RETURN(auto page, detail::ParseListMultipartUploads(r.body));
    for (auto& u : page.uploads) {
      u.key = Relative(u.key);
      if (u.key.empty() || !ValidateSinkKey(u.key).ok()) continue;
      if (!visit(u)) return Status::Ok();
    }
    if (!page.truncated) return Status::Ok();
    if (page.next_key_marker == key_marker && page.next_upload_id_marker == id_marker) {
      return Unavailable("ListMultipartUploads prefix '" + full_prefix + "': markers repeat");
    }
    key_marker = std::move(page.next_key_marker);
    id_marker = std::move(page.next_upload_id_marker);
  }
}

Status S3Sink::AbortIncompleteUpload(const IncompleteUpload& upload) {
  SLUICE_RETURN_IF_ERROR(ValidateSinkKey(upload.key));
  const std::string full_key = detail::FullKey(options_.key_prefix, upload.key);
  HttpRequest del;
  del.method = "DELETE";
  del.url = Url(full_key, {{"uploadId", upload.upload_id}});
  del.payload_sha256 = detail::kEmptySha256;
  SLUICE_ASSIGN_OR_RETURN(auto r, http_->Perform(del));
  if (r.status == 204 || r.status == 200 || r.status == 404) return Status::Ok();
  return ErrorFrom(r, "AbortMultipartUpload key '" + full_key + "'");
}

}  // namespace

Result<std::unique_ptr<Sink>> OpenS3Sink(const S3SinkOptions& options) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  SLUICE_ASSIGN_OR_RETURN(auto ep, detail::ParseEndpoint(options.endpoint));
  auto creds = options.credentials_file.empty()
                   ? detail::LoadCredentialsFromEnv()
                   : detail::LoadCredentialsFile(options.credentials_file);
  if (!creds.ok()) return creds.status();
  detail::HttpClientOptions http;
  http.region = options.region;
  http.ca_file = options.ca_file;
  http.connect_timeout = options.connect_timeout;
  http.low_speed_limit_bytes_per_s = options.low_speed_limit_bytes_per_s;
  http.low_speed_time = options.low_speed_time;
  SLUICE_ASSIGN_OR_RETURN(auto client,
                          detail::HttpClient::Create(std::move(http), std::move(*creds)));
  return std::unique_ptr<Sink>(new S3Sink(options, std::move(ep), std::move(client)));
}

}  // namespace sluice::sync
