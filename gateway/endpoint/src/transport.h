// A connection's byte stream, plain TCP or TLS, behind one small interface
// so the MQTT connection logic is written once and compiled once (no
// template over the stream type). Network thread only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace sluice::gateway::endpoint {

class Transport {
 public:
  using IoHandler = std::function<void(const boost::system::error_code&, std::size_t)>;
  using Handler = std::function<void(const boost::system::error_code&)>;

  virtual ~Transport() = default;
  // Plain TCP completes at once.
  virtual void Handshake(Handler done) = 0;
  virtual void ReadSome(void* data, std::size_t size, IoHandler done) = 0;
  // Writes all `size` bytes (or fails).
  virtual void Write(const void* data, std::size_t size, IoHandler done) = 0;
  // Closes the socket; pending operations complete with an error.
  virtual void Close() = 0;
  virtual bool tls() const = 0;
  // "127.0.0.1:50512"
  const std::string& peer() const { return peer_; }

  static std::unique_ptr<Transport> Plain(boost::asio::ip::tcp::socket socket);
  static std::unique_ptr<Transport> Tls(boost::asio::ip::tcp::socket socket,
                                        boost::asio::ssl::context& context);

 protected:
  std::string peer_;
};

}  // namespace sluice::gateway::endpoint
