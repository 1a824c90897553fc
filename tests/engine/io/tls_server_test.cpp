// TcpServer with TLS (engine/io/tcp_server.h, engine/io/tls_server.h) in-process:
// real sockets, real OpenSSL on both sides, an echo protocol.
#include "engine/io/tls_server.h"

#include <catch2/catch.hpp>
#include <mutex>
#include <vector>

#include "engine/io/tcp_server.h"
#include "tests/engine/support.h"
#include "tests/engine/tls_support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

class Echo final : public TcpSession {
 public:
  std::string receive(std::string_view bytes, bool&) override { return std::string(bytes); }
};

// A TLS echo server on a free port that remembers every refusal.
struct EchoServer {
  std::mutex mu;
  std::vector<std::pair<TcpPeer, Error>> refused;
  std::vector<TcpPeer> served;
  std::unique_ptr<TcpServer> server;

  EchoServer(std::shared_ptr<const TlsServerContext> tls, int handshake_ms = 10000) {
    TcpServerOptions o;
    o.name = "echo";
    o.tls = std::move(tls);
    o.handshake_ms = handshake_ms;
    o.on_refused = [this](const TcpPeer& p, const Error& e) {
      std::lock_guard lock(mu);
      refused.emplace_back(p, e);
    };
    auto s = TcpServer::start("127.0.0.1", 0, o,
                              [this](const TcpPeer& p) -> Result<std::unique_ptr<TcpSession>> {
                                std::lock_guard lock(mu);
                                served.push_back(p);
                                if (p.common_name == "intruder") {
                                  return make_error("wrong_role", "Not this one.");
                                }
                                return std::unique_ptr<TcpSession>(std::make_unique<Echo>());
                              });
    REQUIRE(s);
    server = std::move(*s);
  }
  std::size_t refusals() {
    std::lock_guard lock(mu);
    return refused.size();
  }
  bool wait_refusals(std::size_t n, double seconds = 5) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < end) {
      if (refusals() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return refusals() >= n;
  }
};

}  // namespace

TEST_CASE("a TLS context refuses a missing certificate, a missing key and a key of another one",
          "[tls]") {
  TestCerts certs;
  REQUIRE(certs.ok());
  auto missing = TlsServerContext::create({"/nonexistent/cert.pem", certs.server_key(), ""});
  REQUIRE(!missing);
  CHECK(missing.error().code == "tls_failed");
  CHECK(missing.error().message.find("/nonexistent/cert.pem") != std::string::npos);
  auto no_key = TlsServerContext::create({certs.server_cert(), "/nonexistent/key.pem", ""});
  REQUIRE(!no_key);
  CHECK(no_key.error().message.find("/nonexistent/key.pem") != std::string::npos);
  const auto other = certs.client("someone");
  auto mismatch = TlsServerContext::create({certs.server_cert(), other.second, ""});
  REQUIRE(!mismatch);
  INFO(mismatch.error().message);
  CHECK(mismatch.error().message.find(other.second) != std::string::npos);
  CHECK(mismatch.error().message.find("mismatch") != std::string::npos);  // OpenSSL's reason
  auto bad_ca = TlsServerContext::create({certs.server_cert(), certs.server_key(), "/nonexistent"});
  REQUIRE(!bad_ca);
  CHECK(bad_ca.error().message.find("client CA") != std::string::npos);
  auto ok = TlsServerContext::create({certs.server_cert(), certs.server_key(), certs.ca()});
  REQUIRE(ok);
  CHECK((*ok)->requires_client_certificate());
}

TEST_CASE(
    "a TLS server echoes over TLS, names the client certificate's CN, and refuses plaintext, "
    "silent and factory-refused clients without stopping",
    "[tls]") {
  TestCerts certs;
  REQUIRE(certs.ok());
  auto ctx = TlsServerContext::create({certs.server_cert(), certs.server_key(), certs.ca()});
  REQUIRE(ctx);
  EchoServer echo(*ctx, 500);
  const int port = echo.server->port();
  const auto lab = certs.client("nbs-lab");
  {
    TlsClient c(port, certs.server_cert(), lab.first, lab.second);
    REQUIRE(c.handshake());
    CHECK(c.exchange("hello", "hello") == "hello");
  }
  {
    std::lock_guard lock(echo.mu);
    REQUIRE(echo.served.size() == 1);
    CHECK(echo.served[0].tls);
    CHECK(echo.served[0].common_name == "nbs-lab");
    CHECK(echo.served[0].address.rfind("127.0.0.1:", 0) == 0);
  }

  // Plaintext: refused with OpenSSL's reason, no echo.
  CHECK(plain_exchange(port, "hello\r\n").find("hello") == std::string::npos);
  REQUIRE(echo.wait_refusals(1));
  // Connected but silent: refused once the handshake time is up.
  const auto before = std::chrono::steady_clock::now();
  CHECK(plain_exchange(port, "").empty());
  REQUIRE(echo.wait_refusals(2));
  CHECK(std::chrono::steady_clock::now() - before >= std::chrono::milliseconds(400));
  // A verified certificate the factory refuses.
  const auto intruder = certs.client("intruder");
  {
    TlsClient c(port, certs.server_cert(), intruder.first, intruder.second);
    CHECK(c.exchange("hello", "hello").empty());
  }
  REQUIRE(echo.wait_refusals(3));
  {
    std::lock_guard lock(echo.mu);
    CHECK(echo.refused[0].second.code == "tls_handshake");
    CHECK(!echo.refused[0].second.message.empty());
    CHECK(echo.refused[1].second.message.find("in time") != std::string::npos);
    CHECK(echo.refused[2].first.common_name == "intruder");
    CHECK(echo.refused[2].second.code == "wrong_role");
  }
  // And it still serves.
  TlsClient again(port, certs.server_cert(), lab.first, lab.second);
  CHECK(again.exchange("again", "again") == "again");
  CHECK(echo.server->connections() <= 1);
}
