#include "engine/io/tcp_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace hemoledger {

namespace {

constexpr int kPollMs = 200;  // how often blocked threads look at the stop flag

// A file descriptor, closed when it goes out of scope.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() {
    const int f = fd_;
    fd_ = -1;
    return f;
  }

 private:
  int fd_;
};

Error system_error(const std::string& what, int err) {
  return make_error("listen_failed", what + ": " + std::strerror(err) + ".");
}

// Writes everything or fails (peer gone).
bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

bool split_tcp_address(const std::string& text, std::string& host, int& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) return false;
  host = text.substr(0, colon);
  const std::string p = text.substr(colon + 1);
  if (p.find_first_not_of("0123456789") != std::string::npos || p.size() > 5) return false;
  port = std::stoi(p);
  return port <= 65535;
}

Result<std::unique_ptr<TcpServer>> TcpServer::start(const std::string& host, int port,
                                                    TcpServerOptions options,
                                                    SessionFactory factory) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  const std::string h = host == "localhost" ? "127.0.0.1" : host;
  if (::inet_pton(AF_INET, h.c_str(), &addr.sin_addr) != 1) {
    return make_error("bad_address", "\"" + host + "\" is not an IPv4 address (e.g. 127.0.0.1).");
  }
  Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return system_error("Cannot create a socket", errno);
  const int one = 1;
  ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  const std::string where = options.name + " on " + host + ":" + std::to_string(port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return system_error("Cannot listen for " + where, errno);
  }
  if (::listen(fd.get(), 16) != 0) return system_error("Cannot listen for " + where, errno);
  socklen_t len = sizeof addr;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len);

  std::unique_ptr<TcpServer> s(new TcpServer());
  s->options_ = std::move(options);
  s->factory_ = std::move(factory);
  s->port_ = ntohs(addr.sin_port);
  s->listen_fd_ = fd.release();
  TcpServer* raw = s.get();
  s->accept_thread_ = std::thread([raw] { raw->accept_loop(); });
  return s;
}

TcpServer::~TcpServer() { stop(); }

void TcpServer::stop() {
  stop_ = true;
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::lock_guard lock(mu_);
  for (auto& c : connections_) {
    if (c.thread.joinable()) c.thread.join();
  }
  connections_.clear();
}

void TcpServer::accept_loop() {
  while (!stop_) {
    {
      // Reap finished connections.
      std::lock_guard lock(mu_);
      for (auto it = connections_.begin(); it != connections_.end();) {
        if (it->done) {
          if (it->thread.joinable()) it->thread.join();
          it = connections_.erase(it);
        } else {
          ++it;
        }
      }
    }
    pollfd p{listen_fd_, POLLIN, 0};
    const int r = ::poll(&p, 1, kPollMs);
    if (r <= 0) continue;
    sockaddr_in from{};
    socklen_t from_len = sizeof from;
    Fd client(::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&from), &from_len, SOCK_CLOEXEC));
    if (client.get() < 0) continue;
    char ip[INET_ADDRSTRLEN] = "?";
    ::inet_ntop(AF_INET, &from.sin_addr, ip, sizeof ip);
    const std::string remote = std::string(ip) + ":" + std::to_string(ntohs(from.sin_port));
    if (active_.load() >= options_.max_connections) {
      spdlog::warn("{}: {} connections already open; closing a new one", options_.name,
                   options_.max_connections);
      continue;  // Fd closes it
    }
    std::lock_guard lock(mu_);
    auto& c = connections_.emplace_back();
    c.fd = client.release();
    ++active_;
    Connection* conn = &c;
    c.thread = std::thread([this, conn, remote] {
      serve(conn->fd, remote);
      ::close(conn->fd);
      --active_;
      conn->done = true;
    });
  }
}

void TcpServer::refuse(const TcpPeer& peer, const Error& why) {
  spdlog::warn("{}: connection from {}{} refused: {} [{}]", options_.name, peer.address,
               peer.common_name.empty() ? "" : " (certificate " + peer.common_name + ")",
               why.message, why.code);
  if (options_.on_refused) options_.on_refused(peer, why);
}

void TcpServer::serve(int fd, const std::string& remote) {
  TcpPeer peer{remote, false, ""};
  std::unique_ptr<TlsConnection> tls;
  if (options_.tls) {
    auto c = options_.tls->accept(
        fd, std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.handshake_ms),
        stop_);
    if (!c) return refuse(peer, c.error());
    tls = std::move(*c);
    peer.tls = true;
    peer.common_name = tls->peer_common_name();
  }
  auto made = factory_(peer);
  if (!made) {
    refuse(peer, made.error());
    if (tls) tls->shutdown();
    return;
  }
  std::unique_ptr<TcpSession> session = std::move(*made);
  // > 0 bytes; 0 nothing yet; -1 closed or failed.
  auto read_some = [&](char* buf, std::size_t size) -> long {
    if (tls) return tls->read(buf, size, kPollMs);
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, kPollMs);
    if (r < 0) return errno == EINTR ? 0 : -1;
    if (r == 0) return 0;
    const ssize_t n = ::recv(fd, buf, size, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return 0;
    return n <= 0 ? -1 : static_cast<long>(n);
  };
  auto send_all = [&](std::string_view bytes) {
    if (bytes.empty()) return true;
    return tls ? tls->write_all(bytes) : write_all(fd, bytes);
  };
  std::string buf(options_.read_bytes, '\0');
  auto last = std::chrono::steady_clock::now();
  while (!stop_) {
    const long n = read_some(buf.data(), buf.size());
    if (n == 0) {
      if (options_.idle_ms > 0 &&
          std::chrono::steady_clock::now() - last > std::chrono::milliseconds(options_.idle_ms)) {
        last = std::chrono::steady_clock::now();
        if (!send_all(session->idle())) return;
      }
      continue;
    }
    if (n < 0) {
      session->closed();
      return;
    }
    last = std::chrono::steady_clock::now();
    bool close = false;
    const std::string reply =
        session->receive(std::string_view(buf.data(), static_cast<std::size_t>(n)), close);
    if (!send_all(reply)) return;
    if (close) break;
  }
  if (tls) tls->shutdown();
}

}  // namespace hemoledger
