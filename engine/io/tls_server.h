// TlsServerContext: server-side TLS (OpenSSL) for the lab links, MLLP and
// ASTM over TCP (engine/io/tcp_server.h). It holds the certificate chain, its
// key and, for mutual TLS, the CA that client certificates must chain to.
// TlsConnection is one accepted socket after a completed handshake.
//
//   auto tls = TlsServerContext::create({"cert.pem", "key.pem", "lab-ca.pem"});
//   if (!tls) return fail(tls.error());            // tls_failed, with OpenSSL's reason
//   auto conn = (*tls)->accept(fd, deadline, stop);
//   if (!conn) log(conn.error());                  // tls_handshake: plaintext, no cert, wrong CA
//   std::string cn = (*conn)->peer_common_name();  // "" without a client certificate
//
// With a client CA the handshake fails unless the client presents a
// certificate that verifies against it (SSL_VERIFY_PEER and
// SSL_VERIFY_FAIL_IF_NO_PEER_CERT); the subject CN then names the client
// (docs/security.md). OpenSSL's errors are translated here into Errors and
// never escape; its error queue is cleared after every failure.
//
// Threading: a created context is immutable and shared by every connection
// thread (SSL_CTX is safe for that once configured). A TlsConnection belongs
// to one thread. The socket is non-blocking; every wait is a poll() bounded
// by the caller's deadline and stop flag, so a silent client cannot hold a
// thread past the handshake timeout or the server's stop.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "events/result.h"

struct ssl_ctx_st;
struct ssl_st;

namespace hemoledger {

struct TlsFiles {
  std::string cert_file;       // PEM certificate (chain); the server's identity
  std::string key_file;        // PEM private key of cert_file
  std::string client_ca_file;  // PEM CA(s) for client certificates; "" = none asked for
};

struct SslCtxFree {
  void operator()(ssl_ctx_st* c) const;
};
struct SslFree {
  void operator()(ssl_st* s) const;
};

class TlsConnection {
 public:
  TlsConnection(std::unique_ptr<ssl_st, SslFree> ssl, int fd, std::string peer_cn);
  // Up to `size` bytes into `buf`: > 0 bytes read; 0 nothing within
  // `wait_ms` (try again); -1 the peer closed the connection or it failed.
  long read(char* buf, std::size_t size, int wait_ms);
  // Everything, or false (peer gone, or no progress for 10 s).
  bool write_all(std::string_view bytes);
  // The subject CN of the client's verified certificate, "" when none.
  const std::string& peer_common_name() const { return peer_cn_; }
  // Sends close_notify (best effort; never waits long).
  void shutdown();

 private:
  std::unique_ptr<ssl_st, SslFree> ssl_;
  int fd_;
  std::string peer_cn_;
};

class TlsServerContext {
 public:
  // Loads the files. Error tls_failed naming the file and OpenSSL's reason
  // when the certificate, the key (or their mismatch) or the CA file cannot
  // be used.
  [[nodiscard]] static Result<std::shared_ptr<const TlsServerContext>> create(
      const TlsFiles& files);

  // Runs the server side of the handshake on a connected socket (made
  // non-blocking here; the caller keeps owning and closes the fd). Error
  // tls_handshake with OpenSSL's reason (a plaintext client: "wrong version
  // number" or "http request"; a missing or untrusted client certificate),
  // or when `deadline` passes or `stop` is set first.
  [[nodiscard]] Result<std::unique_ptr<TlsConnection>> accept(
      int fd, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop) const;

  bool requires_client_certificate() const { return !files_.client_ca_file.empty(); }

 private:
  TlsServerContext() = default;
  std::unique_ptr<ssl_ctx_st, SslCtxFree> ctx_;
  TlsFiles files_;
};

// The reasons on OpenSSL's (thread-local) error queue, joined with "; ", or
// `fallback` when it is empty. Clears the queue.
std::string openssl_errors(const std::string& fallback);

}  // namespace hemoledger
