// TLS for tests of the lab links: certificates made with Debian's openssl
// command (a CA, a server certificate, client certificates with a given CN)
// and a real OpenSSL client that speaks over a TCP connection to the engine.
#pragma once

#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <memory>
#include <string>

#include "tests/engine/support.h"

namespace hemoledger::testing {

// Key and certificate files in a temporary directory. EC P-256 keys: quick to make.
class TestCerts {
 public:
  TestCerts() {
    ok_ = make_ca("lab-ca") && make_ca("rogue-ca") &&
          run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
              "-subj /CN=127.0.0.1 -days 1 -keyout " +
              server_key() + " -out " + server_cert());
  }
  bool ok() const { return ok_; }
  std::string server_cert() const { return dir_.path() + "/server.pem"; }
  std::string server_key() const { return dir_.path() + "/server.key"; }
  std::string ca(const std::string& name = "lab-ca") const {
    return dir_.path() + "/" + name + ".pem";
  }
  // A client certificate with subject CN=cn signed by CA `ca_name`: its
  // certificate and key paths (made once per pair).
  std::pair<std::string, std::string> client(const std::string& cn,
                                             const std::string& ca_name = "lab-ca") const {
    const std::string base = dir_.path() + "/" + cn + "." + ca_name;
    if (!std::filesystem::exists(base + ".pem")) {
      run("openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" + cn +
          " -keyout " + base + ".key -out " + base + ".csr");
      run("openssl x509 -req -in " + base + ".csr -CA " + ca(ca_name) + " -CAkey " + dir_.path() +
          "/" + ca_name + ".key -CAcreateserial -days 1 -out " + base + ".pem");
    }
    return {base + ".pem", base + ".key"};
  }

 private:
  static bool run(const std::string& cmd) {
    return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0;
  }
  bool make_ca(const std::string& name) {
    return run(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj /CN=" +
        name + " -days 1 -keyout " + dir_.path() + "/" + name + ".key -out " + ca(name));
  }
  TempDir dir_;
  bool ok_ = false;
};

// An OpenSSL client connection to 127.0.0.1:port that checks the server's
// certificate against `server_ca` and presents a client certificate when
// given one.
class TlsClient {
 public:
  TlsClient(int port, const std::string& server_ca, const std::string& cert = "",
            const std::string& key = "") {
    // OpenSSL writes with write(): a server that closed would raise SIGPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    ctx_.reset(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_load_verify_locations(ctx_.get(), server_ca.c_str(), nullptr);
    SSL_CTX_set_verify(ctx_.get(), SSL_VERIFY_PEER, nullptr);
    if (!cert.empty()) {
      SSL_CTX_use_certificate_file(ctx_.get(), cert.c_str(), SSL_FILETYPE_PEM);
      SSL_CTX_use_PrivateKey_file(ctx_.get(), key.c_str(), SSL_FILETYPE_PEM);
    }
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    ssl_.reset(SSL_new(ctx_.get()));
    SSL_set_fd(ssl_.get(), fd_);
    handshake_ = SSL_connect(ssl_.get()) == 1;
    ERR_clear_error();
  }
  ~TlsClient() {
    if (ssl_ && handshake_) SSL_shutdown(ssl_.get());
    ssl_.reset();
    if (fd_ >= 0) close(fd_);
  }
  // Whether the client side of the handshake completed. With TLS 1.3 the
  // server checks the client's certificate after that: a refused client sees
  // the connection close on its first read.
  bool handshake() const { return handshake_; }
  // Sends bytes and reads until `until` arrives, the connection closes or 10 s pass.
  std::string exchange(const std::string& bytes, const std::string& until) {
    std::string got;
    if (!handshake_) return got;
    if (SSL_write(ssl_.get(), bytes.data(), static_cast<int>(bytes.size())) <= 0) {
      ERR_clear_error();
      return got;
    }
    char buf[4096];
    while (got.find(until) == std::string::npos) {
      const int n = SSL_read(ssl_.get(), buf, sizeof buf);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
    ERR_clear_error();
    return got;
  }

 private:
  struct CtxFree {
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
  };
  struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
  };
  std::unique_ptr<SSL_CTX, CtxFree> ctx_;
  std::unique_ptr<SSL, SslFree> ssl_;
  int fd_ = -1;
  bool handshake_ = false;
};

// A plain TCP client: sends bytes, returns what came back before the server
// closed the connection (or 5 s passed).
inline std::string plain_exchange(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string got;
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    pollfd p{fd, POLLIN, 0};
    while (poll(&p, 1, 5000) > 0) {
      char buf[4096];
      const auto n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<std::size_t>(n));
    }
  }
  close(fd);
  return got;
}

}  // namespace hemoledger::testing
