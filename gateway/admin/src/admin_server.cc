#include "gateway/admin/admin_server.h"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/core/detect_ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstdio>
#include <exception>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "gateway/admin/admin_probe.h"
#include "gateway/admin/admin_util.h"

namespace sluice::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// An admin request is a GET line and a few headers; anything larger is not
// one of ours. Beast's own defaults (8 KiB headers, 1 MiB body) are looser.
constexpr std::uint32_t kHeaderLimit = 16 << 10;
constexpr std::uint64_t kBodyLimit = 4 << 10;
constexpr auto kIdleTimeout = std::chrono::seconds(10);
constexpr auto kLingerTime = std::chrono::seconds(1);
constexpr std::size_t kLingerBytes = 1 << 20;

constexpr const char* kEndpoints =
    "/metrics, /healthz, /readyz, /v1/status, /v1/sources, /v1/series, /v1/partitions";

// Sent with every answer. The console loads its scripts, styles, images
// and fonts from this origin only, talks to this origin only, and is never
// framed; nothing inline runs.
constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'";

// What a plain HTTP client gets from a TLS port, before the close.
constexpr std::string_view kPlainOnTls =
    "HTTP/1.1 400 Bad Request\r\nServer: sluice\r\nContent-Type: text/plain; charset=utf-8\r\n"
    "Cache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; "
    "frame-ancestors 'none'\r\nX-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n"
    "Content-Length: 64\r\nConnection: close\r\n\r\n"
    "this admin endpoint speaks HTTPS only: use https:// to reach it\n";

// What every session reads; owned by the server, outlives the sessions.
struct ServerState {
  AdminHandlers handlers;
  std::string token;  // empty: no token required
  std::optional<asio::ssl::context> tls;  // set: TLS only
  std::atomic<std::uint64_t> requests{0}, client_errors{0}, auth_failures{0}, bad_requests{0};
};

struct Reply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<http::field, std::string>> headers;
};

// Errors under /v1/ are JSON like the answers there; elsewhere plain text.
Reply Error(int status, const std::string& path, const std::string& message) {
  Reply r;
  r.status = status;
  if (path.starts_with("/v1/")) {
    r.content_type = "application/json";
    r.body = admin::JsonError(message);
  } else {
    r.body = message + "\n";
  }
  return r;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

// Empty when the request may pass; else the 401 to send.
std::optional<Reply> CheckToken(const ServerState& s, const http::request<http::string_body>& req,
                                const std::string& path) {
  if (s.token.empty()) return std::nullopt;
  const auto it = req.find(http::field::authorization);
  std::string why;
  std::string challenge = "Bearer realm=\"sluice\"";
  if (it == req.end()) {
    why =
        "unauthorized: this endpoint needs 'Authorization: Bearer <token>' "
        "(the token in admin.token_file)";
  } else {
    const std::string_view value(it->value().data(), it->value().size());
    const auto space = value.find(' ');
    if (space == std::string_view::npos || !IEquals(value.substr(0, space), "Bearer")) {
      why = "unauthorized: only the Bearer scheme is accepted ('Authorization: Bearer <token>')";
      challenge += ", error=\"invalid_request\"";
    } else {
      std::string_view presented = value.substr(space + 1);
      while (!presented.empty() && presented.front() == ' ') presented.remove_prefix(1);
      while (!presented.empty() && presented.back() == ' ') presented.remove_suffix(1);
      if (admin::TokenEquals(presented, s.token)) return std::nullopt;
      why = "unauthorized: bearer token not accepted";
      challenge += ", error=\"invalid_token\"";
    }
  }
  Reply r = Error(401, path, why);
  r.headers.emplace_back(http::field::www_authenticate, challenge);
  return r;
}

// A strong validator of an asset's bytes: FNV-1a, 64 bits, quoted.
std::string ETagOf(std::string_view body) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : body) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return buf;
}

bool IsAssetPath(std::string_view path) { return path == "/" || path.starts_with("/console/"); }

// The console's files: no token (they hold no data), GET and HEAD only.
Reply ServeAsset(const ServerState& s, const http::request<http::string_body>& req,
                 const std::string& path) {
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Reply r = Error(405, path, "method not allowed: only GET and HEAD");
    r.headers.emplace_back(http::field::allow, "GET, HEAD");
    return r;
  }
  const std::optional<StaticAsset> asset = s.handlers.asset(path);
  if (!asset) return Error(404, path, "not found: '" + path + "'");
  Reply r;
  const std::string etag = ETagOf(asset->body);
  // Not content-addressed paths: cached copies are revalidated every time,
  // which costs a 304 when nothing changed.
  r.headers.emplace_back(http::field::cache_control, "no-cache");
  r.headers.emplace_back(http::field::etag, etag);
  const auto match = req.find(http::field::if_none_match);
  if (match != req.end() &&
      std::string_view(match->value().data(), match->value().size()).find(etag) !=
          std::string_view::npos) {
    r.status = 304;
    r.content_type.clear();
    return r;
  }
  r.content_type = std::string(asset->content_type);
  r.body = std::string(asset->body);
  return r;
}

Reply Route(const ServerState& s, const http::request<http::string_body>& req) {
  const std::string target(req.target());
  auto parsed = admin::ParseTarget(target);
  const std::string path = parsed.ok() ? parsed->path : target;
  if (parsed.ok() && s.handlers.asset && IsAssetPath(path)) return ServeAsset(s, req, path);
  if (auto denied = CheckToken(s, req, path)) return *denied;
  if (req.method() != http::verb::get && req.method() != http::verb::head) {
    Reply r = Error(405, path, "method not allowed: only GET and HEAD");
    r.headers.emplace_back(http::field::allow, "GET, HEAD");
    return r;
  }
  if (!parsed.ok()) return Error(400, path, "bad request: " + parsed.status().message());
  const AdminHandlers& h = s.handlers;
  Reply r;
  if (path == "/metrics") {
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = h.registry != nullptr ? h.registry->Render() : h.metrics ? h.metrics() : "";
  } else if (path == "/healthz") {
    const std::string why = h.unhealthy_reason ? h.unhealthy_reason() : "";
    r.status = why.empty() ? 200 : 503;
    r.body = why.empty() ? "ok\n" : why + "\n";
  } else if (path == "/readyz") {
    const std::string why = h.unready_reason ? h.unready_reason() : "";
    r.status = why.empty() ? 200 : 503;
    r.body = why.empty() ? "ready\n" : why + "\n";
  } else if (path == "/v1/status") {
    r.content_type = "application/json";
    r.body = h.status ? h.status() : "{}";
  } else if (path == "/v1/sources" && h.sources) {
    r.content_type = "application/json";
    r.body = h.sources();
  } else if ((path == "/v1/series" || parsed->raw_path.starts_with("/v1/series/")) && h.series) {
    const AdminResponse a = h.series(*parsed);
    r.status = a.status;
    r.content_type = a.content_type;
    r.body = a.body;
  } else if ((path == "/v1/partitions" || path.starts_with("/v1/partitions/")) && h.partitions) {
    const AdminResponse a = h.partitions(*parsed);
    r.status = a.status;
    r.content_type = a.content_type;
    r.body = a.body;
  } else if (path == "/") {
    r.body = std::string("sluice admin endpoint: ") + kEndpoints + "\n";
  } else {
    r = Error(404, path, "not found: '" + path + "'; try " + kEndpoints);
  }
  return r;
}

// One connection: read a request, answer, repeat while keep-alive. Handlers
// run on the server's single thread; they are cheap and bounded (the series
// API caps what one request may return), so a slow request only delays the
// admin surface, never ingest. `Stream` is beast::tcp_stream (plain HTTP)
// or beast::ssl_stream<beast::tcp_stream> (HTTPS, handshake already done).
template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  Session(Stream stream, beast::flat_buffer buffer, ServerState& state)
      : stream_(std::move(stream)), buffer_(std::move(buffer)), state_(state) {}

  void Run() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
      // The bytes read while detecting TLS are the start of the handshake.
      stream_.async_handshake(
          asio::ssl::stream_base::server, buffer_.data(),
          [self = this->shared_from_this()](beast::error_code ec, std::size_t used) {
            self->buffer_.consume(used);
            if (ec) return;  // not TLS after all, or gone: drop
            self->Read();
          });
    } else {
      Read();
    }
  }

 private:
  void Read() {
    parser_.emplace();
    parser_->header_limit(kHeaderLimit);
    parser_->body_limit(kBodyLimit);
    beast::get_lowest_layer(stream_).expires_after(kIdleTimeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (!ec) {
      Answer(parser_->get());
      return;
    }
    if (ec.category() != http::make_error_code(http::error::bad_target).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
      Close();  // closed, reset or timed out: nobody to answer
      return;
    }
    // Unparsable HTTP: say why, then close (the stream is out of step).
    state_.bad_requests.fetch_add(1, std::memory_order_relaxed);
    Reply r;
    r.status = ec == http::error::header_limit ? 431 : ec == http::error::body_limit ? 413 : 400;
    r.body = "bad request: " + ec.message() + "\n";
    Send(11, false, false, std::move(r));
  }

  void Answer(const http::request<http::string_body>& req) {
    Reply r;
    try {
      r = Route(state_, req);
    } catch (const std::exception& e) {
      r = Error(500, std::string(req.target()), std::string("internal error: ") + e.what());
    }
    Send(req.version(), req.keep_alive(), req.method() == http::verb::head, std::move(r));
  }

  void Send(unsigned version, bool keep_alive, bool head, Reply r) {
    state_.requests.fetch_add(1, std::memory_order_relaxed);
    if (r.status >= 400 && r.status < 500)
      state_.client_errors.fetch_add(1, std::memory_order_relaxed);
    if (r.status == 401) state_.auth_failures.fetch_add(1, std::memory_order_relaxed);
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(version);
    res->keep_alive(keep_alive);
    res->result(static_cast<http::status>(r.status));
    res->set(http::field::server, "sluice");
    if (!r.content_type.empty()) res->set(http::field::content_type, r.content_type);
    res->set(http::field::cache_control, "no-store");
    res->set("Content-Security-Policy", kContentSecurityPolicy);
    res->set("X-Content-Type-Options", "nosniff");
    res->set("Referrer-Policy", "no-referrer");
    res->set("X-Frame-Options", "DENY");
    for (auto& [field, value] : r.headers) res->set(field, value);
    res->body() = std::move(r.body);
    if (r.status != 304) res->prepare_payload();  // Content-Length of the GET answer, also for HEAD
    if (head) res->body().clear();
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) {
                          self->Close();
                          return;
                        }
                        self->Read();
                      });
  }

  void Close() {
    if constexpr (kTls) {
      // close_notify, bounded: a peer that never answers it is dropped.
      beast::get_lowest_layer(stream_).expires_after(kLingerTime);
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      // Half-closes, then reads and discards what the client still sends for
      // a moment (a lingering close): closing with unread bytes would reset
      // the connection and could destroy the answer before the client read it.
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      drain_until_ = std::chrono::steady_clock::now() + kLingerTime;
      Drain();
    }
  }

  void Drain() {
    if (drained_ > kLingerBytes || std::chrono::steady_clock::now() >= drain_until_) return;
    stream_.expires_at(drain_until_);
    stream_.async_read_some(asio::buffer(discard_),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec) self->Drain();
                            });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  ServerState& state_;
  std::array<char, 4096> discard_;
  std::size_t drained_ = 0;
  std::chrono::steady_clock::time_point drain_until_{};
};

// A new connection on a TLS port: looks at the first bytes. A TLS
// ClientHello goes on to the handshake; anything else (plain HTTP) gets one
// plain-text 400 saying to use https://, then the connection is closed.
class Detector : public std::enable_shared_from_this<Detector> {
 public:
  Detector(tcp::socket socket, ServerState& state) : stream_(std::move(socket)), state_(state) {}

  void Run() {
    stream_.expires_after(kIdleTimeout);
    beast::async_detect_ssl(
        stream_, buffer_,
        [self = shared_from_this()](beast::error_code ec, bool tls) { self->OnDetect(ec, tls); });
  }

 private:
  void OnDetect(beast::error_code ec, bool tls) {
    if (ec) return;  // closed or timed out before saying anything
    if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
          beast::ssl_stream<beast::tcp_stream>(std::move(stream_), *state_.tls), std::move(buffer_),
          state_)
          ->Run();
      return;
    }
    state_.requests.fetch_add(1, std::memory_order_relaxed);
    state_.client_errors.fetch_add(1, std::memory_order_relaxed);
    state_.bad_requests.fetch_add(1, std::memory_order_relaxed);
    asio::async_write(stream_, asio::buffer(kPlainOnTls.data(), kPlainOnTls.size()),
                      [self = shared_from_this()](beast::error_code, std::size_t) {
                        beast::error_code ignored;
                        self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                        // Read what the client still sends for a moment, so
                        // that closing does not reset the answer away.
                        self->stream_.expires_after(kLingerTime);
                        self->Discard();
                      });
  }

  void Discard() {
    stream_.async_read_some(asio::buffer(discard_),
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->drained_ += n;
                              if (!ec && self->drained_ < kLingerBytes) self->Discard();
                            });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  ServerState& state_;
  std::array<char, 4096> discard_;
  std::size_t drained_ = 0;
};

class AdminServerImpl final : public AdminServer {
 public:
  AdminServerImpl(AdminHandlers handlers, std::string token) : acceptor_(io_) {
    state_.handlers = std::move(handlers);
    state_.token = std::move(token);
  }
  ~AdminServerImpl() override { Stop(); }

  // The endpoint's rules ([endpoint] tls_*): TLS 1.2 or later, the chain
  // and key as PEM, errors naming the field and the file.
  Status InitTls(const AdminOptions& o) {
    try {
      state_.tls.emplace(asio::ssl::context::tls_server);
      state_.tls->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                              asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                              asio::ssl::context::single_dh_use);
    } catch (const boost::system::system_error& e) {
      return Unavailable(std::string("TLS: ") + e.what());
    }
    beast::error_code ec;
    state_.tls->use_certificate_chain_file(o.tls_cert_file, ec);
    if (ec) return InvalidArgument("tls_cert_file: " + o.tls_cert_file + ": " + ec.message());
    state_.tls->use_private_key_file(o.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return InvalidArgument("tls_key_file: " + o.tls_key_file + ": " + ec.message());
    return Status::Ok();
  }

  Status Listen(const AdminOptions& o) {
    beast::error_code ec;
    const auto address = asio::ip::make_address(o.address, ec);
    if (ec) return InvalidArgument("admin address '" + o.address + "': " + ec.message());
    const tcp::endpoint ep(address, o.port);
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return Unavailable("admin endpoint " + o.address + ":" + std::to_string(o.port) + ": " +
                         ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    probe_ = std::make_unique<AdminProbe>(*this, state_.handlers.registry);
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return Status::Ok();
  }

  std::uint16_t port() const override { return port_; }

  AdminCounters counters() const override {
    AdminCounters c;
    c.requests = state_.requests.load(std::memory_order_relaxed);
    c.client_errors = state_.client_errors.load(std::memory_order_relaxed);
    c.auth_failures = state_.auth_failures.load(std::memory_order_relaxed);
    c.bad_requests = state_.bad_requests.load(std::memory_order_relaxed);
    return c;
  }

  void Stop() override {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ignored;
      acceptor_.close(ignored);
    });
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Accept() {
    acceptor_.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec) return;  // closed
      if (state_.tls) {
        std::make_shared<Detector>(std::move(socket), state_)->Run();
      } else {
        std::make_shared<Session<beast::tcp_stream>>(beast::tcp_stream(std::move(socket)),
                                                     beast::flat_buffer(), state_)
            ->Run();
      }
      Accept();
    });
  }

  ServerState state_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
  std::unique_ptr<AdminProbe> probe_;  // destroyed first: its families read counters()
};

}  // namespace

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminOptions& options,
                                                        AdminHandlers handlers) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  std::string token;
  if (!options.token_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto t, LoadAdminToken(options.token_file));
    token = std::move(t);
  }
  auto s = std::make_unique<AdminServerImpl>(std::move(handlers), std::move(token));
  if (options.tls()) SLUICE_RETURN_IF_ERROR(s->InitTls(options));
  SLUICE_RETURN_IF_ERROR(s->Listen(options));
  return std::unique_ptr<AdminServer>(std::move(s));
}

}  // namespace sluice::gateway
