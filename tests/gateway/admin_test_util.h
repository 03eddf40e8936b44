// Helpers for the admin endpoint tests: a plain HTTP/1.0 client over a
// loopback socket (what curl or Prometheus would send), and an in-process
// gateway with its admin endpoint on a free port.
#pragma once

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "gateway/app/app.h"
#include "gateway/app/config.h"
#include "temp_dir.h"

namespace sluice::gateway::testing {

struct HttpReply {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
  bool Has(const std::string& s) const { return body.find(s) != std::string::npos; }
  bool HeadHas(const std::string& s) const { return head.find(s) != std::string::npos; }
};

// Sends `request` as is and reads until the server closes. A 5 s receive
// timeout bounds a server that never answers.
inline HttpReply Raw(std::uint16_t port, const std::string& request) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early on an oversized request
    sent += static_cast<std::size_t>(n);
  }
  // EINTR is retried: the store's io_uring announces completion work to the
  // thread that submitted (this one, which opened the store) like a signal,
  // and a read with a receive timeout is then interrupted, not restarted.
  std::string out;
  char buf[8192];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  close(fd);
  HttpReply r;
  const auto split = out.find("\r\n\r\n");
  r.head = out.substr(0, split);
  r.body = split == std::string::npos ? "" : out.substr(split + 4);
  if (out.starts_with("HTTP/1.")) r.status = std::atoi(out.c_str() + 9);
  return r;
}

// GET `target`, with `Authorization: <authorization>` when not empty.
inline HttpReply Get(std::uint16_t port, const std::string& target,
                     const std::string& authorization = "") {
  std::string req = "GET " + target + " HTTP/1.0\r\nHost: localhost\r\n";
  if (!authorization.empty()) req += "Authorization: " + authorization + "\r\n";
  return Raw(port, req + "\r\n");
}

// Writes `text` to `path` with `mode` (a token or secret file).
inline void WriteFile(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  std::ofstream(path, std::ios::trunc) << text;
  REQUIRE(chmod(path.c_str(), mode) == 0);
}

// A gateway in-process: store in a temp dir, no broker, no endpoint, admin
// on a free loopback port, one raw rule "plant/{line}/temp" -> float64
// series "plant/{line}/temp" and one bytes rule "blob/{name}" -> "blob/{name}".
struct AppFixture {
  sluice::testing::TempDir dir{"sluice-admin"};
  std::unique_ptr<App> app;

  explicit AppFixture(const std::string& admin_extra = "", const std::string& extra = "",
                      AppHooks hooks = {}) {
    const std::string toml =
        "[gateway]\nid = \"edge-01\"\nsite = \"plant-a\"\n[log]\nlevel = \"warn\"\n"
        "[store]\ndir = \"" +
        (dir.path() / "store").string() +
        "\"\nwal_file_size = \"4MiB\"\n"
        "[admin]\nport = 0\n" +
        admin_extra +
        "\n"
        "[[ingest.rule]]\ntopic = \"plant/{line}/temp\"\nformat = \"raw\"\n"
        "series = \"plant/{line}/temp\"\ntype = \"float64\"\nunit = \"degC\"\n"
        "[[ingest.rule]]\ntopic = \"blob/{name}\"\nformat = \"raw\"\n"
        "series = \"blob/{name}\"\ntype = \"bytes\"\n" +
        extra;
    auto config = ParseConfig(toml, "admin-test.toml");
    REQUIRE_MESSAGE(config.ok(), config.status().ToString());
    auto started = App::Start(*config, std::move(hooks));
    REQUIRE_MESSAGE(started.ok(), started.status().ToString());
    app = std::move(*started);
    REQUIRE(app->admin_port() != 0);
  }

  std::uint16_t port() const { return app->admin_port(); }

  // Registers `name` and appends (t, v) pairs durably.
  store::SeriesId Put(const std::string& name,
                      const std::vector<std::pair<std::int64_t, store::Value>>& points,
                      store::ValueType type = store::ValueType::kFloat64) {
    auto id = app->store().RegisterSeries(name, type, "degC");
    REQUIRE_MESSAGE(id.ok(), id.status().ToString());
    store::Batch b;
    for (const auto& [t, v] : points) b.push_back(store::Record{*id, t, v});
    if (!b.empty()) REQUIRE(app->store().Append(std::move(b)).Wait().ok());
    return *id;
  }
};

}  // namespace sluice::gateway::testing
