// TcpServer: a POSIX TCP listener with one thread per connection, for the lab
// links (MLLP, ASTM LIS1-A over TCP), in plain TCP or TLS
// (TcpServerOptions::tls, engine/io/tls_server.h). A protocol is a TcpSession:
// it gets the bytes as they arrive and returns the bytes to send back. The
// server owns the sockets (RAII), bounds the number of connections, and stops
// cleanly: the destructor (or stop()) closes the listening socket, shuts down
// every connection and joins every thread.
//
//   auto server = TcpServer::start("127.0.0.1", 2575, options,
//       [&](const TcpPeer& peer) -> Result<std::unique_ptr<TcpSession>> {
//         return std::make_unique<MllpSession>(gateway);   // or an Error: refused
//       });
//   if (!server) return fail(server.error());   // listen_failed, with errno's text
//
// With TLS the handshake runs on the connection's thread, bounded by
// handshake_ms; a failed one (a plaintext client, no or an untrusted client
// certificate) is logged, passed to on_refused, and the connection is closed.
// The factory then sees the peer, with its certificate's CN, and may refuse
// it with an Error (logged, on_refused, closed) before any byte is read.
//
// Threading: the session factory and on_refused are called on connection
// threads, possibly at once; each session lives on its own connection thread
// and is never shared.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "engine/io/tls_server.h"
#include "events/result.h"

namespace hemoledger {

// Who connected: the remote address and, over TLS with client certificates,
// the verified certificate's subject CN.
struct TcpPeer {
  std::string address;  // "IP:PORT"
  bool tls = false;
  std::string common_name;  // "" without a client certificate
};

class TcpSession {
 public:
  virtual ~TcpSession() = default;
  // Bytes received; returns the bytes to send back ("" for none). Setting
  // `close` ends the connection after the reply is sent.
  virtual std::string receive(std::string_view bytes, bool& close) = 0;
  // Nothing arrived for TcpServerOptions::idle_ms (a protocol timer, e.g.
  // LIS1-A's receiver timeout). Returns bytes to send back.
  virtual std::string idle() { return {}; }
  // The peer closed the connection.
  virtual void closed() {}
};

struct TcpServerOptions {
  std::string name = "tcp";            // for log lines ("mllp", "astm")
  std::size_t max_connections = 16;    // more are accepted and closed at once
  int idle_ms = 0;                     // 0: never call TcpSession::idle()
  std::size_t read_bytes = 64 * 1024;  // per read
  // Server-side TLS for every connection; null: plain TCP.
  std::shared_ptr<const TlsServerContext> tls;
  int handshake_ms = 10000;  // a TLS client must complete its handshake within this
  // Told of every refused connection (failed handshake, refused by the
  // factory) after it is logged; may be empty.
  std::function<void(const TcpPeer&, const Error&)> on_refused;
};

class TcpServer {
 public:
  using SessionFactory = std::function<Result<std::unique_ptr<TcpSession>>(const TcpPeer&)>;
  // Binds host:port (port 0 picks a free one) and starts accepting. Errors:
  // bad_address (host is not an IPv4 address), listen_failed (with the
  // system's reason).
  [[nodiscard]] static Result<std::unique_ptr<TcpServer>> start(const std::string& host, int port,
                                                                TcpServerOptions options,
                                                                SessionFactory factory);
  ~TcpServer();
  void stop();
  int port() const { return port_; }
  std::size_t connections() const { return active_.load(); }

 private:
  TcpServer() = default;
  void accept_loop();
  void serve(int fd, const std::string& remote);
  void refuse(const TcpPeer& peer, const Error& why);

  struct Connection {
    int fd = -1;
    std::thread thread;
    std::atomic<bool> done{false};
  };

  TcpServerOptions options_;
  SessionFactory factory_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<std::size_t> active_{0};
  std::thread accept_thread_;
  std::mutex mu_;  // guards connections_
  std::list<Connection> connections_;
};

// "HOST:PORT" -> host and port; false unless the host is non-empty and the
// port is digits only, 0..65535 (so "127.0.0.1:80x" is refused). The one
// parser of every --listen, --mllp and --astm address.
[[nodiscard]] bool split_tcp_address(const std::string& text, std::string& host, int& port);

}  // namespace hemoledger
