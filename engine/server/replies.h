// The replies every route of the ApiServer shares (engine/server/api.h): JSON
// bodies, errors, and the answers and records of a refused request. One home,
// so that every area answers a 400, 403 or 500 in the same shape.
//
//   send_json(res, 200, body);                       // pretty JSON, UTF-8 errors replaced
//   send_error(res, 400, f.error());                 // {"error": code, "message": sentence}
//   if (auto who = request_principal(ctx, req)) ...  // the bearer token's principal
//   send_forbidden(ctx, req, res, *who, why);        // 403, logged and stored
//
// Internal to engine/server/. Threading: free functions, safe from any of the
// server's threads; they touch only the request, the response and the
// thread-safe parts of ApiContext.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/security/permissions.h"
#include "events/result.h"

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hemoledger {

struct ApiContext;

// Sets the status and the body: `body` as indented JSON and a newline,
// invalid UTF-8 replaced, "application/json; charset=utf-8".
void send_json(httplib::Response& res, int status, const nlohmann::json& body);

// {"error": e.code, "message": e.message} with `status`.
void send_error(httplib::Response& res, int status, const Error& e);

// The token of "Authorization: Bearer <token>" (scheme case-insensitive,
// surrounding blanks trimmed), or "".
std::string bearer_token(const httplib::Request& req);

// The principal of a request's bearer token when the API has a token file
// (requests without a valid one were already answered 401); nullopt when the
// API is open.
std::optional<Principal> request_principal(const ApiContext& ctx, const httplib::Request& req);

// Stores a refusal of `req` (401 or 403) with who ("" = anonymous), the
// remote address, method, path, code and reason, when ctx has a RefusalLog.
void record_refusal(const ApiContext& ctx, const httplib::Request& req, const std::string& who,
                    int status, const Error& why);

// Answers 401 {"outcome":"unauthorized","code","message"} with a
// WWW-Authenticate challenge. The caller records the refusal.
void send_unauthorized(httplib::Response& res, const Error& e);

// Answers 403 {"outcome":"forbidden","code","message"}, logs the refusal with
// the token's name (never the token) and stores it (record_refusal).
void send_forbidden(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                    const Principal& who, const Error& why);

}  // namespace hemoledger
