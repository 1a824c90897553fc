#include "engine/server/api.h"

#include <httplib.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <filesystem>
#include <string_view>
#include <thread>

#include "engine/server/dashboard_page.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"
#include "engine/server/stock_answers.h"

namespace hemoledger {

struct ApiServer::Impl {
  std::unique_ptr<StockAnswers> stock_answers;  // outlives the server's threads (declared first)
  ApiContext ctx;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
};

namespace {

// An HTTPS server with the TLS files, or a plain HTTP one without.
Result<std::unique_ptr<httplib::Server>> make_server(const ApiTls& tls) {
  if (!tls.enabled()) return std::make_unique<httplib::Server>();
  auto ssl = std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str());
  if (!ssl->is_valid()) {
    const unsigned long code = ERR_get_error();
    char detail[256] = "no detail from OpenSSL";
    if (code != 0) ERR_error_string_n(code, detail, sizeof detail);
    ERR_clear_error();
    return make_error("tls_failed", "Cannot serve HTTPS with the certificate " + tls.cert_file +
                                        " and key " + tls.key_file + " (" + detail + ").");
  }
  return std::unique_ptr<httplib::Server>(std::move(ssl));
}

// With a token file, answers 401 (and records the refusal) before routing a
// request without a known bearer token; GET and HEAD of /health, / and
// /station (the pages, which sign in themselves) pass.
void require_tokens(httplib::Server& svr, const ApiContext& ctx) {
  svr.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    using R = httplib::Server::HandlerResponse;
    if ((req.method == "GET" || req.method == "HEAD") &&
        (req.path == "/health" || req.path == "/" || req.path == "/station" ||
         req.path == "/report")) {
      return R::Unhandled;
    }
    const std::string token = bearer_token(req);
    if (token.empty()) {
      const Error e = make_error("missing_token",
                                 "This API needs a token: send Authorization: Bearer <token> "
                                 "(docs/security.md).");
      record_refusal(ctx, req, "", 401, e);
      send_unauthorized(res, e);
      return R::Handled;
    }
    if (!ctx.tokens->authenticate(token)) {
      spdlog::warn("api: {} {} from {} with an unknown token", req.method, req.path,
                   req.remote_addr);
      const Error e = make_error("unknown_token", "This token is not known to the engine.");
      record_refusal(ctx, req, "", 401, e);
      send_unauthorized(res, e);
      return R::Handled;
    }
    return R::Unhandled;
  });
}

void add_routes(httplib::Server& svr, const ApiContext& ctx) {
  add_admin_routes(svr, ctx);
  add_stock_routes(svr, ctx);
  add_unit_routes(svr, ctx);
  add_donor_routes(svr, ctx);
  add_event_routes(svr, ctx);
  add_alert_routes(svr, ctx);
  add_report_routes(svr, ctx);
  add_lab_routes(svr, ctx);
  add_station_routes(svr, ctx);
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = dashboard_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });
}

// The port a socket is bound to (0: not an IP socket).
int bound_port(int fd) {
  sockaddr_storage a{};
  socklen_t len = sizeof a;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) return 0;
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return 0;
}

// Debian's cpp-httplib is a compiled library that listens with a backlog of
// 5 (CPPHTTPLIB_LISTEN_BACKLOG): when many benches connect at the same
// instant, the kernel drops the connects beyond it and the clients retry a
// second later. listen() on a socket that already listens only changes its
// backlog, so the API's listening socket is found among this process's
// descriptors and given the system's maximum.
void widen_backlog(int port) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (const std::exception&) {
      continue;
    }
    int accepting = 0;
    socklen_t len = sizeof accepting;
    if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &accepting, &len) != 0 || !accepting) continue;
    if (bound_port(fd) == port && ::listen(fd, SOMAXCONN) != 0) {
      spdlog::warn("api: cannot widen the listen backlog of port {}", port);
    }
  }
}

// Binds host:port (0: any free port); the port bound.
Result<int> bind(httplib::Server& svr, const std::string& host, int port) {
  if (port == 0) {
    port = svr.bind_to_any_port(host.c_str());
    if (port < 0) return make_error("listen_failed", "Cannot listen on " + host + ".");
    return port;
  }
  if (!svr.bind_to_port(host.c_str(), port)) {
    return make_error("listen_failed", "Cannot listen on " + host + ":" + std::to_string(port) +
                                           " (in use, or not an address of this machine).");
  }
  return port;
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::start(ApiContext context, const std::string& host,
                                                    int port, const ApiTls& tls) {
  auto server = make_server(tls);
  if (!server) return server.error();
  std::unique_ptr<ApiServer> api(new ApiServer());
  api->impl_ = std::make_unique<Impl>();
  Impl& impl = *api->impl_;
  impl.ctx = std::move(context);
  if (!impl.ctx.engine->scale_out()) {
    impl.stock_answers = std::make_unique<StockAnswers>(*impl.ctx.engine);
    impl.ctx.stock_answers = impl.stock_answers.get();
  }
  impl.server = std::move(*server);
  httplib::Server& svr = *impl.server;
  if (impl.ctx.tokens) require_tokens(svr, impl.ctx);
  svr.set_payload_max_length(1024 * 1024);
  // cpp-httplib writes a response's header and body separately; with Nagle on,
  // the body then waits for the client's delayed ACK (~40 ms on Linux) on
  // every keep-alive request after the first.
  svr.set_tcp_nodelay(true);
  svr.new_task_queue = [] { return new httplib::ThreadPool(kApiWorkerThreads); };
  svr.set_keep_alive_max_count(kApiKeepAliveRequests);
  add_routes(svr, impl.ctx);
  auto bound = bind(svr, host, port);
  if (!bound) return bound.error();
  api->port_ = *bound;
  widen_backlog(api->port_);
  impl.thread = std::thread([&impl] { impl.server->listen_after_bind(); });
  return api;
}

ApiServer::~ApiServer() {
  if (impl_ && impl_->server) {
    impl_->server->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
  }
}

}  // namespace hemoledger
