// The admin endpoint over HTTPS: a throwaway CA and server certificate,
// a Beast TLS client, plain HTTP sent to the TLS port, and `sluice status`
// reading a gateway over TLS.
#include <doctest/doctest.h>
#include <openssl/ssl.h>

#include <map>
#include <utility>  // before Asio, whose awaitable.hpp needs std::exchange

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <string>

#include "admin_test_util.h"
#include "gateway/admin/admin_server.h"
#include "gateway/admin/status.h"
#include "temp_dir.h"
#include "test_pki.h"

namespace sluice::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

constexpr const char* kToken = "0123456789abcdef0123456789abcdef";

struct TlsReply {
  bool handshake_ok = false;
  std::string error;  // of the handshake or the exchange
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// GET `target` over TLS, verifying the server against `ca_file`.
// `max_version`: the newest protocol the client offers (0: any).
TlsReply HttpsGet(std::uint16_t port, const std::string& target, const std::string& ca_file,
                  const std::string& authorization = "", int max_version = 0) {
  TlsReply out;
  asio::io_context io;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.load_verify_file(ca_file);
  ctx.set_verify_mode(asio::ssl::verify_peer);
  if (max_version != 0) {
    SSL_CTX_set_min_proto_version(ctx.native_handle(), 0);
    SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
    SSL_CTX_set_security_level(ctx.native_handle(), 0);  // let the client offer TLS 1.1
    SSL_CTX_set_cipher_list(ctx.native_handle(), "ALL:@SECLEVEL=0");
  }
  beast::ssl_stream<beast::tcp_stream> stream(io, ctx);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(5));
  beast::error_code ec;
  beast::get_lowest_layer(stream).connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), ec);
  REQUIRE_MESSAGE(!ec, ec.message());
  stream.set_verify_callback(asio::ssl::host_name_verification("127.0.0.1"));
  stream.handshake(asio::ssl::stream_base::client, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.handshake_ok = true;
  http::request<http::empty_body> req(http::verb::get, target, 11);
  req.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) req.set(http::field::authorization, authorization);
  req.keep_alive(false);
  http::write(stream, req, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> res;
  if (!ec) http::read(stream, buffer, res, ec);
  if (ec) {
    out.error = ec.message();
    return out;
  }
  out.status = static_cast<int>(res.result_int());
  out.body = res.body();
  for (const auto& f : res) out.headers[std::string(f.name_string())] = std::string(f.value());
  stream.shutdown(ec);
  return out;
}

struct TlsServer {
  sluice::testing::TempDir dir{"sluice-admin-tls"};
  sluice::testing::TestPki pki = sluice::testing::MakeTestPki(dir.path());
  std::unique_ptr<AdminServer> server;

  explicit TlsServer(bool with_token = false) {
    AdminOptions o;
    o.port = 0;
    o.tls_cert_file = pki.server_cert;
    o.tls_key_file = pki.server_key;
    if (with_token) {
      testing::WriteFile(dir.path() / "token", std::string(kToken) + "\n", 0600);
      o.token_file = (dir.path() / "token").string();
    }
    AdminHandlers h;
    h.metrics = [] { return std::string("sluice_up 1\n"); };
    h.status = [] { return std::string(R"({"gateway":"edge-tls"})"); };
    h.asset = [](std::string_view path) -> std::optional<StaticAsset> {
      if (path == "/") return StaticAsset{"text/html; charset=utf-8", "<p>login"};
      return std::nullopt;
    };
    auto s = AdminServer::Start(o, std::move(h));
    REQUIRE_MESSAGE(s.ok(), s.status().ToString());
    server = std::move(*s);
  }
  std::uint16_t port() const { return server->port(); }
};

}  // namespace

TEST_CASE("the admin endpoint speaks HTTPS with its certificate, headers and token rules intact") {
  TlsServer t(true);
  const auto metrics = HttpsGet(t.port(), "/metrics", t.pki.ca, std::string("Bearer ") + kToken);
  REQUIRE_MESSAGE(metrics.handshake_ok, metrics.error);
  CHECK(metrics.status == 200);
  CHECK(metrics.body == "sluice_up 1\n");
  CHECK(metrics.headers.at("X-Frame-Options") == "DENY");
  CHECK(metrics.headers.at("Content-Security-Policy").starts_with("default-src 'none'"));
  CHECK(HttpsGet(t.port(), "/v1/status", t.pki.ca).status == 401);
  CHECK(HttpsGet(t.port(), "/", t.pki.ca).body == "<p>login");
  CHECK(t.server->counters().auth_failures == 1);
}

TEST_CASE("plain HTTP sent to the HTTPS port gets a clear 400 and a close, and changes nothing") {
  TlsServer t;
  const auto plain = testing::Get(t.port(), "/metrics");
  CHECK(plain.status == 400);
  CHECK(plain.body == "this admin endpoint speaks HTTPS only: use https:// to reach it\n");
  CHECK(plain.HeadHas("Connection: close"));
  CHECK(plain.HeadHas("X-Content-Type-Options: nosniff"));
  CHECK(plain.body.find("sluice_up") == std::string::npos);  // no data in the clear
  CHECK(t.server->counters().bad_requests == 1);
  // Still serving TLS afterwards.
  CHECK(HttpsGet(t.port(), "/metrics", t.pki.ca).status == 200);
}

TEST_CASE("the HTTPS port refuses TLS older than 1.2 and certificates it cannot verify") {
  TlsServer t;
  const auto old = HttpsGet(t.port(), "/metrics", t.pki.ca, "", TLS1_1_VERSION);
  CHECK_FALSE(old.handshake_ok);
  // A client trusting another CA refuses the server: no silent acceptance.
  sluice::testing::TempDir other("sluice-admin-tls-other");
  const auto other_pki = sluice::testing::MakeTestPki(other.path());
  CHECK_FALSE(HttpsGet(t.port(), "/metrics", other_pki.ca).handshake_ok);
  CHECK(HttpsGet(t.port(), "/metrics", t.pki.ca).status == 200);
}

TEST_CASE("sluice status reads an HTTPS admin endpoint and never falls back to trusting it") {
  TlsServer t(true);
  testing::WriteFile(t.dir.path() / "status-token", std::string(kToken) + "\n", 0600);
  status::StatusOptions o;
  o.admin = "https://127.0.0.1:" + std::to_string(t.port());
  o.ca_file = t.pki.ca;
  o.token_file = (t.dir.path() / "status-token").string();
  auto snap = status::TakeSnapshot(o);
  REQUIRE_MESSAGE(snap.ok(), snap.status().ToString());
  CHECK(snap->status_json == R"({"gateway":"edge-tls"})");
  CHECK(snap->samples.at("sluice_up") == 1);

  // The system store does not know the test CA: refused, with a hint.
  status::StatusOptions system_store = o;
  system_store.ca_file.clear();
  auto untrusted = status::TakeSnapshot(system_store);
  REQUIRE_FALSE(untrusted.ok());
  CHECK(untrusted.status().code() == StatusCode::kUnavailable);
  CHECK(untrusted.status().message().find("TLS handshake with 127.0.0.1") != std::string::npos);
  CHECK(untrusted.status().message().find("--ca-file") != std::string::npos);

  // The certificate names 127.0.0.1, not localhost.
  status::StatusOptions wrong_name = o;
  wrong_name.admin = "https://localhost:" + std::to_string(t.port());
  CHECK_FALSE(status::TakeSnapshot(wrong_name).ok());

  // http:// to the TLS port: the server's own answer says what to do.
  status::StatusOptions plain = o;
  plain.admin = "http://127.0.0.1:" + std::to_string(t.port());
  plain.ca_file.clear();
  auto refused = status::TakeSnapshot(plain);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "/metrics answered 400: this admin endpoint speaks HTTPS only: use https:// to reach it");

  plain.ca_file = t.pki.ca;
  auto misuse = status::TakeSnapshot(plain);
  REQUIRE_FALSE(misuse.ok());
  CHECK(misuse.status().message().starts_with("--ca-file is for an https:// admin URL"));
  status::StatusOptions missing_ca = o;
  missing_ca.ca_file = (t.dir.path() / "absent.pem").string();
  CHECK(status::TakeSnapshot(missing_ca)
            .status()
            .message()
            .starts_with("--ca-file " + missing_ca.ca_file + ": "));
  status::StatusOptions ftp = o;
  ftp.admin = "ftp://127.0.0.1:1";
  CHECK(status::TakeSnapshot(ftp).status().message().find("http:// or https://") !=
        std::string::npos);
}

TEST_CASE("a gateway with admin.tls_cert_file and admin.tls_key_file serves HTTPS only") {
  sluice::testing::TempDir dir("sluice-admin-tls-app");
  const auto pki = sluice::testing::MakeTestPki(dir.path());
  auto only_cert = ParseConfig("[admin]\ntls_cert_file = \"" + pki.server_cert + "\"\n", "t.toml");
  REQUIRE_FALSE(only_cert.ok());
  CHECK(only_cert.status().message().find(
            "'admin.tls_key_file': HTTPS needs both tls_cert_file and tls_key_file") !=
        std::string::npos);
  auto typo = ParseConfig("[admin]\ntls_ca_file = \"" + pki.ca + "\"\n", "t.toml");
  REQUIRE_FALSE(typo.ok());
  CHECK(typo.status().message().find("tls_ca_file") != std::string::npos);

  testing::AppFixture f("tls_cert_file = \"" + pki.server_cert + "\"\ntls_key_file = \"" +
                        pki.server_key + "\"\n");
  const auto partitions = HttpsGet(f.port(), "/v1/partitions", pki.ca);
  REQUIRE_MESSAGE(partitions.handshake_ok, partitions.error);
  CHECK(partitions.status == 200);
  CHECK(partitions.body.starts_with(R"({"total":)"));
  CHECK(testing::Get(f.port(), "/v1/partitions").status == 400);

  // A key that does not load refuses the start, naming the key and the file.
  auto config = ParseConfig("[store]\ndir = \"" + (dir.path() / "store2").string() +
                                "\"\n[admin]\nport = 0\ntls_cert_file = \"" + pki.server_cert +
                                "\"\ntls_key_file = \"" + pki.ca + "\"\n",
                            "t.toml");
  REQUIRE_MESSAGE(config.ok(), config.status().ToString());
  auto app = App::Start(*config);
  REQUIRE_FALSE(app.ok());
  CHECK(app.status().message().find("tls_key_file: " + pki.ca + ": ") != std::string::npos);
}

}  // namespace sluice::gateway
