#include "engine/server/replies.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <cctype>
#include <string_view>

#include "engine/server/api.h"

namespace hemoledger {

using nlohmann::json;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, json::error_handler_t::replace) + "\n",
                  "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const Error& e) {
  send_json(res, status, {{"error", e.code}, {"message", e.message}});
}

std::string bearer_token(const httplib::Request& req) {
  const std::string h = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (h.size() <= kScheme.size()) return {};
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(h[i])) != kScheme[i]) return {};
  }
  std::size_t b = kScheme.size();
  while (b < h.size() && h[b] == ' ') ++b;
  std::size_t e = h.size();
  while (e > b && (h[e - 1] == ' ' || h[e - 1] == '\t')) --e;
  return h.substr(b, e - b);
}

std::optional<Principal> request_principal(const ApiContext& ctx, const httplib::Request& req) {
  if (!ctx.tokens) return std::nullopt;
  return ctx.tokens->authenticate(bearer_token(req));
}

void record_refusal(const ApiContext& ctx, const httplib::Request& req, const std::string& who,
                    int status, const Error& why) {
  if (!ctx.refusals) return;
  Refusal r;
  r.who = who;
  r.remote = req.remote_addr + (req.remote_port > 0 ? ":" + std::to_string(req.remote_port) : "");
  r.channel = "http";
  r.method = req.method;
  r.path = req.path;
  r.status = status;
  r.code = why.code;
  r.reason = why.message;
  (void)ctx.refusals->record(std::move(r));  // a failure is logged by record()
}

void send_unauthorized(httplib::Response& res, const Error& e) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"hemoledger\"");
  send_json(res, 401, {{"outcome", "unauthorized"}, {"code", e.code}, {"message", e.message}});
}

void send_forbidden(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                    const Principal& who, const Error& why) {
  spdlog::warn("api: refused for token {} ({}): {} [{}]", who.name, to_string(who.role),
               why.message, why.code);
  record_refusal(ctx, req, who.name, 403, why);
  send_json(res, 403, {{"outcome", "forbidden"}, {"code", why.code}, {"message", why.message}});
}

}  // namespace hemoledger
