#include "engine/io/tls_server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <csignal>

namespace hemoledger {

namespace {

constexpr int kPollMs = 200;          // how often a waiting handshake looks at the stop flag
constexpr int kWriteStallMs = 10000;  // a peer that takes no bytes for this long is gone

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};

// Waits until fd is ready for `events` or `ms` pass; false on timeout or error.
bool wait_fd(int fd, short events, int ms) {
  pollfd p{fd, events, 0};
  int r;
  do {
    r = ::poll(&p, 1, ms);
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

std::string common_name(SSL* ssl) {
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl));
  if (!cert) return {};
  char cn[256] = {0};
  const int n =
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, cn, sizeof cn);
  return n > 0 ? std::string(cn, static_cast<std::size_t>(n)) : std::string();
}

}  // namespace

void SslCtxFree::operator()(ssl_ctx_st* c) const { SSL_CTX_free(c); }
void SslFree::operator()(ssl_st* s) const { SSL_free(s); }

std::string openssl_errors(const std::string& fallback) {
  std::string out;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  ERR_clear_error();
  return out.empty() ? fallback : out;
}

TlsConnection::TlsConnection(std::unique_ptr<ssl_st, SslFree> ssl, int fd, std::string peer_cn)
    : ssl_(std::move(ssl)), fd_(fd), peer_cn_(std::move(peer_cn)) {}

long TlsConnection::read(char* buf, std::size_t size, int wait_ms) {
  // SSL_has_pending: decrypted bytes, or a record already read from the socket.
  if (SSL_has_pending(ssl_.get()) == 0 && !wait_fd(fd_, POLLIN, wait_ms)) return 0;
  const int want = static_cast<int>(std::min<std::size_t>(size, 1 << 30));
  const int n = SSL_read(ssl_.get(), buf, want);
  if (n > 0) return n;
  const int err = SSL_get_error(ssl_.get(), n);
  ERR_clear_error();
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  return -1;  // close_notify, the peer gone, or a TLS error
}

bool TlsConnection::write_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(bytes.size(), 1 << 20));
    const int n = SSL_write(ssl_.get(), bytes.data(), chunk);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    const int err = SSL_get_error(ssl_.get(), n);
    ERR_clear_error();
    if (err == SSL_ERROR_WANT_WRITE && wait_fd(fd_, POLLOUT, kWriteStallMs)) continue;
    if (err == SSL_ERROR_WANT_READ && wait_fd(fd_, POLLIN, kWriteStallMs)) continue;
    return false;
  }
  return true;
}

void TlsConnection::shutdown() {
  // One close_notify, not waiting for the peer's: the socket closes next.
  SSL_shutdown(ssl_.get());
  ERR_clear_error();
}

Result<std::shared_ptr<const TlsServerContext>> TlsServerContext::create(const TlsFiles& files) {
  // OpenSSL writes to sockets with write(): a peer that has gone would
  // otherwise kill the process with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_server_method()));
  auto failed = [](const std::string& what) {
    return make_error("tls_failed", what + " (" + openssl_errors("no detail from OpenSSL") + ").");
  };
  if (!ctx) return failed("Cannot create a TLS context");
  SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_mode(ctx.get(), SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_use_certificate_chain_file(ctx.get(), files.cert_file.c_str()) != 1) {
    return failed("Cannot use the TLS certificate " + files.cert_file);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx.get(), files.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
    return failed("Cannot use the TLS key " + files.key_file);
  }
  if (SSL_CTX_check_private_key(ctx.get()) != 1) {
    return failed("The key " + files.key_file + " does not belong to " + files.cert_file);
  }
  if (!files.client_ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx.get(), files.client_ca_file.c_str(), nullptr) != 1) {
      return failed("Cannot use the client CA file " + files.client_ca_file);
    }
    // The CA names sent to clients, so that they pick the right certificate;
    // the context takes ownership of the list.
    if (STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(files.client_ca_file.c_str())) {
      SSL_CTX_set_client_CA_list(ctx.get(), names);
    }
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
  }
  ERR_clear_error();
  std::shared_ptr<TlsServerContext> c(new TlsServerContext());
  c->ctx_ = std::move(ctx);
  c->files_ = files;
  return std::shared_ptr<const TlsServerContext>(std::move(c));
}

Result<std::unique_ptr<TlsConnection>> TlsServerContext::accept(
    int fd, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop) const {
  auto failed = [](const std::string& why) {
    return make_error("tls_handshake", "TLS handshake failed: " + why + ".");
  };
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) {
    return failed("the socket cannot be made non-blocking");
  }
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx_.get()));
  if (!ssl || SSL_set_fd(ssl.get(), fd) != 1) return failed(openssl_errors("SSL_new failed"));
  while (true) {
    const int r = SSL_accept(ssl.get());
    if (r == 1) break;
    const int err = SSL_get_error(ssl.get(), r);
    if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
      std::string why = openssl_errors(err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN
                                           ? "the client closed the connection"
                                           : "no detail from OpenSSL");
      const long verify = SSL_get_verify_result(ssl.get());
      if (verify != X509_V_OK) {
        why += " (client certificate: " + std::string(X509_verify_cert_error_string(verify)) + ")";
      }
      return failed(why);
    }
    ERR_clear_error();
    const auto now = std::chrono::steady_clock::now();
    if (stop.load()) return failed("the server is stopping");
    if (now >= deadline) return failed("the client did not complete it in time");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    wait_fd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
            static_cast<int>(std::min<long long>(left, kPollMs)));
  }
  const std::string cn = common_name(ssl.get());
  return std::make_unique<TlsConnection>(std::move(ssl), fd, cn);
}

}  // namespace hemoledger
