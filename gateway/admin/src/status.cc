// `sluice status`: fetches /v1/status and /metrics over HTTP or HTTPS
// (Beast, synchronous, bounded by timeouts) and draws status_view's lines, once or
// in place until Ctrl-C.
#include "gateway/admin/status.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <thread>

#include "base/clock.h"
#include "gateway/admin/admin_server.h"

namespace sluice::gateway::status {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr auto kTimeout = std::chrono::seconds(5);

std::atomic<bool> g_interrupted{false};

void OnSignal(int) { g_interrupted.store(true); }

struct Endpoint {
  std::string host, port, base;  // base: path prefix without a trailing '/'
  bool tls = false;
};

Result<Endpoint> ParseUrl(std::string url) {
  Endpoint e;
  if (url.starts_with("https://")) {
    e.tls = true;
    url.erase(0, 8);
  } else if (url.starts_with("http://")) {
    url.erase(0, 7);
  } else if (url.find("://") != std::string::npos) {
    return InvalidArgument("--admin " + url + ": the scheme must be http:// or https://");
  }
  const auto slash = url.find('/');
  if (slash != std::string::npos) {
    e.base = url.substr(slash);
    url.resize(slash);
    while (!e.base.empty() && e.base.back() == '/') e.base.pop_back();
  }
  std::string hostport = url;
  if (hostport.starts_with('[')) {  // [::1]:9464
    const auto close = hostport.find(']');
    if (close == std::string::npos) return InvalidArgument("--admin: unbalanced '[' in " + url);
    e.host = hostport.substr(1, close - 1);
    e.port = close + 2 <= hostport.size() && hostport[close + 1] == ':' ? hostport.substr(close + 2)
                                                                        : "";
  } else {
    const auto colon = hostport.rfind(':');
    e.host = hostport.substr(0, colon);
    e.port = colon == std::string::npos ? "" : hostport.substr(colon + 1);
  }
  if (e.port.empty()) e.port = "9464";
  if (e.host.empty()) return InvalidArgument("--admin: no host in '" + url + "'");
  return e;
}

struct HttpAnswer {
  int status = 0;
  std::string body;
};

// What one reading needs: where, with which token, trusting what.
struct Client {
  Endpoint endpoint;
  std::string token;
  std::optional<asio::ssl::context> tls;  // set for https://
};

// TLS 1.2 or later, the peer verified against `ca_file` or the system store.
Result<asio::ssl::context> ClientTls(const std::string& ca_file) {
  try {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                    asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                    asio::ssl::context::no_tlsv1_1);
    beast::error_code ec;
    if (ca_file.empty()) {
      ctx.set_default_verify_paths(ec);
      if (ec) return InvalidArgument("the system's trust store: " + ec.message());
    } else {
      ctx.load_verify_file(ca_file, ec);
      if (ec) return InvalidArgument("--ca-file " + ca_file + ": " + ec.message());
    }
    ctx.set_verify_mode(asio::ssl::verify_peer);
    return ctx;
  } catch (const boost::system::system_error& e) {
    return Unavailable(std::string("TLS: ") + e.what());
  }
}

template <class Stream>
Result<HttpAnswer> Exchange(Stream& stream, const Endpoint& e, const std::string& path,
                            const std::string& token) {
  beast::error_code ec;
  http::request<http::empty_body> req(http::verb::get, e.base + path, 11);
  req.set(http::field::host, e.host);
  req.set(http::field::user_agent, "sluice-status");
  if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
  req.keep_alive(false);
  beast::get_lowest_layer(stream).expires_after(kTimeout);
  http::write(stream, req, ec);
  if (ec) return Unavailable("send to " + e.host + ":" + e.port + ": " + ec.message());
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64u << 20);
  http::read(stream, buffer, parser, ec);
  if (ec) {
    return Unavailable("read from " + e.host + ":" + e.port + ": " + ec.message() +
                       (e.tls ? "" : " (does it speak https?)"));
  }
  return HttpAnswer{static_cast<int>(parser.get().result_int()), parser.get().body()};
}

Result<HttpAnswer> Get(Client& c, const std::string& path) {
  const Endpoint& e = c.endpoint;
  try {
    asio::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    beast::error_code ec;
    const auto results = resolver.resolve(e.host, e.port, ec);
    if (ec) return Unavailable("resolve " + e.host + ": " + ec.message());
    stream.expires_after(kTimeout);
    stream.connect(results, ec);
    if (ec) return Unavailable("connect " + e.host + ":" + e.port + ": " + ec.message());
    if (!c.tls) {
      auto a = Exchange(stream, e, path, c.token);
      stream.socket().shutdown(tcp::socket::shutdown_both, ec);
      return a;
    }
    beast::ssl_stream<beast::tcp_stream> tls(std::move(stream), *c.tls);
    // The name (or address) in the URL is what the certificate must name;
    // a host name also goes out as SNI.
    boost::system::error_code not_ip;
    asio::ip::make_address(e.host, not_ip);
    // SSL_set_tlsext_host_name, whose macro form casts old-style.
    if (not_ip &&
        SSL_ctrl(tls.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name,
                 static_cast<void*>(const_cast<char*>(e.host.c_str()))) != 1) {
      return Unavailable("TLS: cannot set the server name " + e.host);
    }
    tls.set_verify_callback(asio::ssl::host_name_verification(e.host));
    beast::get_lowest_layer(tls).expires_after(kTimeout);
    tls.handshake(asio::ssl::stream_base::client, ec);
    if (ec) {
      return Unavailable("TLS handshake with " + e.host + ":" + e.port + ": " + ec.message() +
                         (ec.category() == asio::error::get_ssl_category()
                              ? " (is --ca-file the CA that signed its certificate?)"
                              : ""));
    }
    auto a = Exchange(tls, e, path, c.token);
    beast::get_lowest_layer(tls).expires_after(std::chrono::seconds(1));
    tls.shutdown(ec);  // close_notify; a peer that skips its own is fine here
    return a;
  } catch (const std::exception& ex) {  // Asio throws only on resource exhaustion here
    return Unavailable(std::string("admin endpoint: ") + ex.what());
  }
}

Result<Snapshot> Take(Client& c) {
  Snapshot s;
  SLUICE_ASSIGN_OR_RETURN(auto metrics, Get(c, "/metrics"));
  auto refused = [](const char* what, const HttpAnswer& a) {
    std::string body = a.body;
    while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
    return InvalidArgument(std::string(what) + " answered " + std::to_string(a.status) + ": " +
                           body + (a.status == 401 ? " (pass --token-file)" : ""));
  };
  if (metrics.status != 200) return refused("/metrics", metrics);
  s.steady_ns = MonotonicNs();
  s.samples = ParseSamples(metrics.body);
  SLUICE_ASSIGN_OR_RETURN(auto st, Get(c, "/v1/status"));
  if (st.status != 200) return refused("/v1/status", st);
  s.status_json = std::move(st.body);
  return s;
}

// The client of `options`: URL, token and trust; InvalidArgument naming
// the option at fault.
Result<Client> MakeClient(const StatusOptions& options) {
  auto endpoint = ParseUrl(options.admin);
  if (!endpoint.ok()) return endpoint.status();
  Client c;
  c.endpoint = std::move(*endpoint);
  if (!options.ca_file.empty() && !c.endpoint.tls) {
    return InvalidArgument("--ca-file is for an https:// admin URL, not " + options.admin);
  }
  if (c.endpoint.tls) {
    SLUICE_ASSIGN_OR_RETURN(auto tls, ClientTls(options.ca_file));
    c.tls.emplace(std::move(tls));
  }
  if (!options.token_file.empty()) {
    SLUICE_ASSIGN_OR_RETURN(auto t, LoadAdminToken(options.token_file));
    c.token = std::move(t);
  }
  return c;
}

// Sleeps up to `seconds`, waking early on Ctrl-C.
void SleepInterruptibly(double seconds) {
  const auto until = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         std::chrono::duration<double>(seconds));
  while (!g_interrupted.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

bool Utf8Terminal() {
  for (const char* name : {"LC_ALL", "LC_CTYPE", "LANG"}) {
    const char* v = std::getenv(name);
    if (v != nullptr && *v != '\0') {
      const std::string s(v);
      return s.find("UTF-8") != std::string::npos || s.find("utf8") != std::string::npos ||
             s.find("UTF8") != std::string::npos || s.find("utf-8") != std::string::npos;
    }
  }
  return false;
}

std::string SecondsText(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

}  // namespace

Result<Snapshot> TakeSnapshot(const StatusOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(auto client, MakeClient(options));
  return Take(client);
}

int RunStatus(const StatusOptions& options) {
  if (options.watch_s < 0 || (options.watch_s > 0 && options.watch_s < 0.2)) {
    std::fprintf(stderr, "sluice status: --watch: at least 0.2 seconds\n");
    return 2;
  }
  auto made = MakeClient(options);
  if (!made.ok()) {
    std::fprintf(stderr, "sluice status: %s\n", made.status().message().c_str());
    return 2;
  }
  Client& client = *made;
  RenderOptions ro;
  ro.source = options.admin;
  ro.unicode = Utf8Terminal();

  if (options.watch_s == 0) {
    // Two samples a second apart, for the rates.
    auto first = Take(client);
    if (first.ok()) SleepInterruptibly(1.0);
    auto second = first.ok() ? Take(client) : first;
    if (!second.ok()) {
      std::fprintf(stderr, "sluice status: %s: %s\n", options.admin.c_str(),
                   second.status().message().c_str());
      return 1;
    }
    auto lines = Render(*second, &*first, ro);
    if (!lines.ok()) {
      std::fprintf(stderr, "sluice status: %s\n", lines.status().message().c_str());
      return 1;
    }
    for (const auto& l : *lines) std::printf("%s\n", l.c_str());
    return 0;
  }

  // --watch: redraw in place until Ctrl-C (or SIGTERM).
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const bool tty = isatty(STDOUT_FILENO) != 0;
  std::printf("%s", tty ? "\x1b[?25l\x1b[2J" : "");  // hide the cursor, clear
  std::optional<Snapshot> before;
  while (!g_interrupted.load()) {
    auto now = Take(client);
    std::vector<std::string> lines;
    if (now.ok()) {
      auto r = Render(*now, before ? &*before : nullptr, ro);
      lines = r.ok() ? *r : std::vector<std::string>{r.status().message()};
      before = std::move(*now);
    } else {
      lines = {"sluice status: " + options.admin + ": " + now.status().message(),
               "retrying every " + SecondsText(options.watch_s) + " s; Ctrl-C stops"};
      before.reset();
    }
    std::string frame = tty ? "\x1b[H" : "";
    for (const auto& l : lines) frame += l + (tty ? "\x1b[K\n" : "\n");
    frame += tty ? "\x1b[J" : "\n";
    std::fwrite(frame.data(), 1, frame.size(), stdout);
    std::fflush(stdout);
    SleepInterruptibly(options.watch_s);
  }
  std::printf("%s", tty ? "\x1b[?25h" : "");
  std::fflush(stdout);
  return 0;
}

}  // namespace sluice::gateway::status
