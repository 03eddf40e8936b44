// One HTTP exchange at a time over a reused libcurl easy handle, signed with
// AWS SigV4 by curl. Knows HTTP and SigV4, not S3 semantics (s3_sink.cc).
//
// Not thread-safe: one HttpClient per thread (it is owned by one S3 sink).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "s3_credentials.h"
#include "s3_source.h"

namespace sluice::sync::detail {

struct HttpClientOptions {
  std::string region;
  std::string ca_file;  // empty: system store
  std::chrono::milliseconds connect_timeout{10'000};
  std::uint32_t low_speed_limit_bytes_per_s = 1024;
  std::chrono::seconds low_speed_time{60};
};

struct HttpRequest {
  std::string method;  // GET, HEAD, PUT, POST or DELETE
  std::string url;     // already canonical: see ObjectUrl()
  std::vector<std::string> headers;  // "Name: value"; x-amz-content-sha256 is added
  // The body, if any: `source` bytes [offset, offset+length) when source is
  // set, else `bytes`. Both must outlive Perform().
  ObjectSource* source = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
  std::span<const std::byte> bytes;
  // Called before each chunk of the body goes to curl (PutRequest::pace).
  const PaceFn* pace = nullptr;
  // Lowercase hex SHA-256 of the body (SigV4 signs it; the server checks it).
  std::string payload_sha256;
  // Response bytes kept; more is an error. Error bodies are small; GET of
  // an object raises this.
  std::size_t max_response_bytes = 1u << 20;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lowercased; last value wins
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> Create(HttpClientOptions options,
                                                    S3Credentials credentials);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Any HTTP status is a response; transport failures (connect, timeout,
  // reset, stuck transfer) are kUnavailable, TLS verification failures and
  // a bad CA file kInvalidArgument, a failed source read its own Status.
  Result<HttpResponse> Perform(const HttpRequest& request);

 private:
  HttpClient(HttpClientOptions options, S3Credentials credentials, void* curl)
      : options_(std::move(options)), credentials_(std::move(credentials)), curl_(curl) {}

  HttpClientOptions options_;
  S3Credentials credentials_;
  void* curl_;  // CURL*; kept out of this header so that curl.h stays private
};

// SHA-256 of the empty string, the payload hash of body-less requests.
inline constexpr char kEmptySha256[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

}  // namespace sluice::sync::detail
