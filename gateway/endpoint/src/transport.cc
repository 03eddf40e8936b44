#include "transport.h"

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>

namespace sluice::gateway::endpoint {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

std::string PeerOf(const tcp::socket& s) {
  boost::system::error_code ec;
  const auto ep = s.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

class PlainTransport final : public Transport {
 public:
  explicit PlainTransport(tcp::socket s) : socket_(std::move(s)) {
    peer_ = PeerOf(socket_);
    boost::system::error_code ec;
    socket_.set_option(tcp::no_delay(true), ec);  // acks are small and batched already
  }
  void Handshake(Handler done) override { done({}); }
  void ReadSome(void* data, std::size_t size, IoHandler done) override {
    socket_.async_read_some(asio::buffer(data, size), std::move(done));
  }
  void Write(const void* data, std::size_t size, IoHandler done) override {
    asio::async_write(socket_, asio::buffer(data, size), std::move(done));
  }
  void Close() override {
    boost::system::error_code ec;
    socket_.shutdown(tcp::socket::shutdown_both, ec);
    socket_.close(ec);
  }
  bool tls() const override { return false; }

 private:
  tcp::socket socket_;
};

class TlsTransport final : public Transport {
 public:
  TlsTransport(tcp::socket s, asio::ssl::context& context) : stream_(std::move(s), context) {
    peer_ = PeerOf(stream_.next_layer());
    boost::system::error_code ec;
    stream_.next_layer().set_option(tcp::no_delay(true), ec);
  }
  void Handshake(Handler done) override {
    stream_.async_handshake(asio::ssl::stream_base::server, std::move(done));
  }
  void ReadSome(void* data, std::size_t size, IoHandler done) override {
    stream_.async_read_some(asio::buffer(data, size), std::move(done));
  }
  void Write(const void* data, std::size_t size, IoHandler done) override {
    asio::async_write(stream_, asio::buffer(data, size), std::move(done));
  }
  void Close() override {
    // No TLS close_notify round trip: the peer may be gone, and MQTT says
    // what it needs with DISCONNECT before this.
    boost::system::error_code ec;
    stream_.next_layer().shutdown(tcp::socket::shutdown_both, ec);
    stream_.next_layer().close(ec);
  }
  bool tls() const override { return true; }

 private:
  asio::ssl::stream<tcp::socket> stream_;
};

}  // namespace

std::unique_ptr<Transport> Transport::Plain(tcp::socket socket) {
  return std::make_unique<PlainTransport>(std::move(socket));
}

std::unique_ptr<Transport> Transport::Tls(tcp::socket socket, asio::ssl::context& context) {
  return std::make_unique<TlsTransport>(std::move(socket), context);
}

}  // namespace sluice::gateway::endpoint
