#include "gateway/admin_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cmath>
#include <cstdio>
#include <thread>

namespace sluice::gateway {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One connection: read a request, answer, repeat while keep-alive. Requests
// are small and handlers cheap, so connections are served one at a time on
// the server's single thread; a slow client only delays the admin surface.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const AdminHandlers& handlers)
      : stream_(std::move(socket)), handlers_(handlers) {}

  void Run() { Read(); }

 private:
  void Read() {
    req_ = {};
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(stream_, buffer_, req_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->Answer();
                     });
  }

  void Answer() {
    auto res = std::make_shared<http::response<http::string_body>>();
    res->version(req_.version());
    res->keep_alive(req_.keep_alive());
    res->set(http::field::server, "sluice");
    const std::string target(req_.target());
    if (req_.method() != http::verb::get && req_.method() != http::verb::head) {
      res->result(http::status::method_not_allowed);
      res->set(http::field::allow, "GET, HEAD");
      res->body() = "only GET and HEAD\n";
    } else if (target == "/metrics") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res->body() = handlers_.metrics ? handlers_.metrics() : "";
    } else if (target == "/healthz") {
      const std::string why = handlers_.unhealthy_reason ? handlers_.unhealthy_reason() : "";
      res->result(why.empty() ? http::status::ok : http::status::service_unavailable);
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = why.empty() ? "ok\n" : why + "\n";
    } else if (target == "/v1/status") {
      res->result(http::status::ok);
      res->set(http::field::content_type, "application/json");
      res->body() = handlers_.status ? handlers_.status() : "{}";
    } else {
      res->result(http::status::not_found);
      res->set(http::field::content_type, "text/plain; charset=utf-8");
      res->body() = "not found; try /metrics, /healthz or /v1/status\n";
    }
    if (req_.method() == http::verb::head) res->body().clear();
    res->prepare_payload();
    http::async_write(stream_, *res,
                      [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec || !res->keep_alive()) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->Read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  const AdminHandlers& handlers_;
};

class AdminServerImpl final : public AdminServer {
 public:
  AdminServerImpl(AdminHandlers handlers) : handlers_(std::move(handlers)), acceptor_(io_) {}
  ~AdminServerImpl() override { Stop(); }

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
    Accept();
    thread_ = std::thread([this] { io_.run(); });
    return Status::Ok();
  }

  std::uint16_t port() const override { return port_; }

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
      std::make_shared<Session>(std::move(socket), handlers_)->Run();
      Accept();
    });
  }

  AdminHandlers handlers_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopped_{false};
};

}  // namespace

Status AdminOptions::Validate() const {
  beast::error_code ec;
  asio::ip::make_address(address, ec);
  if (ec) return InvalidArgument("address: '" + address + "' is not an IP address");
  return Status::Ok();
}

Result<std::unique_ptr<AdminServer>> AdminServer::Start(const AdminOptions& options,
                                                        AdminHandlers handlers) {
  SLUICE_RETURN_IF_ERROR(options.Validate());
  auto s = std::make_unique<AdminServerImpl>(std::move(handlers));
  SLUICE_RETURN_IF_ERROR(s->Listen(options));
  return std::unique_ptr<AdminServer>(std::move(s));
}

MetricsText& MetricsText::Family(const std::string& name, const std::string& type,
                                 const std::string& help) {
  out_ += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  return *this;
}

MetricsText& MetricsText::Sample(const std::string& name, double value, const std::string& labels) {
  char num[64];
  if (std::isnan(value)) {
    std::snprintf(num, sizeof num, "NaN");
  } else if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(num, sizeof num, "%.0f", value);
  } else {
    std::snprintf(num, sizeof num, "%.17g", value);
  }
  out_ += name;
  if (!labels.empty()) out_ += "{" + labels + "}";
  out_ += " ";
  out_ += num;
  out_ += "\n";
  return *this;
}

std::string EscapeLabel(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

}  // namespace sluice::gateway
