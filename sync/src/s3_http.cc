#include "s3_http.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace sluice::sync::detail {
namespace {

// State shared with curl's callbacks during one Perform().
struct Transfer {
  const HttpRequest* request = nullptr;
  std::uint64_t sent = 0;  // body bytes handed to curl so far
  Status read_error;
  HttpResponse* response = nullptr;
  bool too_large = false;
};

std::size_t OnRead(char* out, std::size_t size, std::size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const HttpRequest& r = *t->request;
  const std::uint64_t total = r.source != nullptr ? r.length : r.bytes.size();
  const std::size_t n =
      static_cast<std::size_t>(std::min<std::uint64_t>(size * nitems, total - t->sent));
  if (n == 0) return 0;
  if (r.pace != nullptr && *r.pace && !(*r.pace)(n)) {
    t->read_error = Aborted("upload stopped while waiting for bandwidth");
    return CURL_READFUNC_ABORT;
  }
  auto dst = std::span(reinterpret_cast<std::byte*>(out), n);
  if (r.source != nullptr) {
    t->read_error = r.source->ReadAt(r.offset + t->sent, dst);
    if (!t->read_error.ok()) return CURL_READFUNC_ABORT;
  } else {
    std::copy_n(r.bytes.data() + t->sent, n, dst.data());
  }
  t->sent += n;
  return n;
}

// curl rewinds the body when it must send it again on the same request
// (e.g. after a connection it reused turned out to be closed).
int OnSeek(void* user, curl_off_t offset, int origin) {
  auto* t = static_cast<Transfer*>(user);
  if (origin != SEEK_SET || offset < 0) return CURL_SEEKFUNC_CANTSEEK;
  t->sent = static_cast<std::uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

std::size_t OnWrite(char* data, std::size_t size, std::size_t nmemb, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * nmemb;
  if (t->response->body.size() + n > t->request->max_response_bytes) {
    t->too_large = true;
    return 0;  // aborts the transfer with CURLE_WRITE_ERROR
  }
  t->response->body.append(data, n);
  return n;
}

std::size_t OnHeader(char* data, std::size_t size, std::size_t nitems, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t n = size * nitems;
  std::string_view line(data, n);
  // A new status line (after "100 Continue", say) starts a new header set.
  if (line.starts_with("HTTP/")) {
    t->response->headers.clear();
    return n;
  }
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name(line.substr(0, colon));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string_view value = line.substr(colon + 1);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
    value.remove_suffix(1);
  }
  t->response->headers[name] = std::string(value);
  return n;
}

Status CurlError(CURLcode code, const char* errbuf, const std::string& what) {
  std::string m = what + ": " + (errbuf[0] != '\0' ? errbuf : curl_easy_strerror(code));
  switch (code) {
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      // A person must fix the configuration or the certificate; retrying
      // unchanged would only hide the problem.
      return InvalidArgument(std::move(m));
    default:
      // Connect failures, timeouts, resets, stuck transfers, DNS.
      return Unavailable(std::move(m));
  }
}

}  // namespace

Result<std::unique_ptr<HttpClient>> HttpClient::Create(HttpClientOptions options,
                                                       S3Credentials credentials) {
  static std::once_flag once;
  static CURLcode global = CURLE_OK;
  std::call_once(once, [] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) return Unavailable("curl_global_init failed");
  CURL* curl = curl_easy_init();
  if (curl == nullptr) return Unavailable("curl_easy_init failed");
  return std::unique_ptr<HttpClient>(
      new HttpClient(std::move(options), std::move(credentials), curl));
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpResponse> HttpClient::Perform(const HttpRequest& r) {
  CURL* c = static_cast<CURL*>(curl_);
  // Reset clears the previous request's options but keeps the connection
  // cache: the next request reuses the open connection.
  curl_easy_reset(c);
  HttpResponse response;
  Transfer t;
  t.request = &r;
  t.response = &response;
  char errbuf[CURL_ERROR_SIZE] = {0};
  const std::string what = r.method + " " + r.url;
  const std::string sigv4 = "aws:amz:" + options_.region + ":s3";

  curl_slist* headers = nullptr;
  std::vector<std::string> lines = r.headers;
  lines.push_back("x-amz-content-sha256: " + r.payload_sha256);
  // Do not add "Expect:" to suppress 100-continue: curl 7.88 signs the empty
  // header but does not send it, and the server answers
  // SignatureDoesNotMatch. curl's own Expect (large bodies) is unsigned and
  // harmless: a 412 then arrives before the body is sent.
  for (const auto& h : lines) {
    curl_slist* next = curl_slist_append(headers, h.c_str());
    if (next == nullptr) {
      curl_slist_free_all(headers);
      return Unavailable("out of memory building headers");
    }
    headers = next;
  }

  const std::uint64_t body_size = r.source != nullptr ? r.length : r.bytes.size();
  curl_easy_setopt(c, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(c, CURLOPT_USERNAME, credentials_.access_key_id.c_str());
  curl_easy_setopt(c, CURLOPT_PASSWORD, credentials_.secret_access_key.c_str());
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT,
                   static_cast<long>(options_.low_speed_limit_bytes_per_s));
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.low_speed_time.count()));
  curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, OnWrite);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(c, CURLOPT_READFUNCTION, OnRead);
  curl_easy_setopt(c, CURLOPT_READDATA, &t);
  curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, OnSeek);
  curl_easy_setopt(c, CURLOPT_SEEKDATA, &t);

  if (r.method == "PUT") {
    curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (r.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_size));
  } else if (r.method == "HEAD") {
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  } else if (r.method == "DELETE") {
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    SLUICE_CHECK(r.method == "GET");
  }

  const CURLcode rc = curl_easy_perform(c);
  // The handle outlives this call: leave it no pointers into our frame.
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(headers);
  if (!t.read_error.ok()) return t.read_error;
  if (t.too_large) {
    return Unavailable(what + ": response larger than " + std::to_string(r.max_response_bytes) +
                       " bytes");
  }
  if (rc != CURLE_OK) return CurlError(rc, errbuf, what);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace sluice::sync::detail
