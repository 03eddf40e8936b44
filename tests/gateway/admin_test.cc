#include "gateway/admin_server.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace sluice::gateway {
namespace {

// A plain HTTP/1.0 client over a socket: what curl or Prometheus would send.
std::string Get(std::uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(write(fd, request.data(), request.size()) == static_cast<ssize_t>(request.size()));
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  close(fd);
  return out;
}

std::string GetPath(std::uint16_t port, const std::string& path) {
  return Get(port, "GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n");
}

}  // namespace

TEST_CASE("the admin endpoint serves metrics, health and status, and nothing else") {
  std::string unhealthy;
  AdminHandlers h;
  h.metrics = [] {
    MetricsText m;
    m.Family("sluice_store_records_total", "counter", "Records acknowledged durable.")
        .Sample("sluice_store_records_total", 12345)
        .Family("sluice_sync_backlog_bytes", "gauge", "Bytes waiting for upload.")
        .Sample("sluice_sync_backlog_bytes", 0.5, "lane=\"" + EscapeLabel("li\"ve") + "\"");
    return m.str();
  };
  h.status = [] { return std::string(R"({"gateway":"edge-01"})"); };
  h.unhealthy_reason = [&] { return unhealthy; };
  AdminOptions o;
  o.port = 0;
  auto server = AdminServer::Start(o, h);
  REQUIRE_MESSAGE(server.ok(), server.status().ToString());
  const auto port = (*server)->port();

  const std::string metrics = GetPath(port, "/metrics");
  CHECK(metrics.starts_with("HTTP/1.0 200"));
  CHECK(metrics.find("text/plain; version=0.0.4") != std::string::npos);
  CHECK(metrics.find("# TYPE sluice_store_records_total counter\n") != std::string::npos);
  CHECK(metrics.find("sluice_store_records_total 12345\n") != std::string::npos);
  CHECK(metrics.find("sluice_sync_backlog_bytes{lane=\"li\\\"ve\"} 0.5\n") != std::string::npos);

  CHECK(GetPath(port, "/healthz").find("200 OK") != std::string::npos);
  unhealthy = "disk budget full";
  const std::string sick = GetPath(port, "/healthz");
  CHECK(sick.find("503") != std::string::npos);
  CHECK(sick.find("disk budget full") != std::string::npos);

  CHECK(GetPath(port, "/v1/status").find(R"({"gateway":"edge-01"})") != std::string::npos);
  CHECK(GetPath(port, "/nope").find("404") != std::string::npos);
  CHECK(Get(port, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n").find("405") !=
        std::string::npos);
  (*server)->Stop();
  (*server)->Stop();  // idempotent
}

TEST_CASE("a bad admin address is refused with the address named") {
  AdminOptions o;
  o.address = "not-an-ip";
  auto server = AdminServer::Start(o, {});
  REQUIRE_FALSE(server.ok());
  CHECK(server.status().message().find("not-an-ip") != std::string::npos);
}

}  // namespace sluice::gateway
