// Scale-out (docs/scale-out.md): which instance answers a request. A request
// about one donation or reagent lot is answered by the owner of its Kafka
// partition; the alerts (reading, acknowledging, closing) by the alert leader
// (Engine::leads_alerts()). The routes ask here before they answer themselves:
//
//   if (answered_elsewhere(ctx, din, req, res)) return;  // 307 or 503 sent
//
// Outside scale-out every request is answered here and these are no-ops.
// Internal to engine/server/. Threading: safe from any of the server's
// threads (they read the engine's thread-safe views only).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace hemoledger {

struct ApiContext;
struct Error;
class Engine;

// Where a national query finds each of the topic's `count` partitions: served
// here, served by another instance (by its URL), or by none now (no owner
// known, restoring, or this instance named but not serving it).
struct PartitionPlaces {
  std::vector<std::int32_t> here;
  std::map<std::string, std::vector<std::int32_t>> elsewhere;  // owner's url -> partitions
  std::vector<std::int32_t> unowned;
};
PartitionPlaces place_partitions(const Engine& engine, std::int32_t count);

// The answer to a national query (stock at an instant, a report) that could
// not gather every partition: 503 with Retry-After while a partition has no
// serving owner (partition_unavailable), 502 when a peer did not answer or
// answered wrongly (peer_*, bad_peer_answer), 500 otherwise.
void send_national_error(httplib::Response& res, const Error& e);

// "?k=v&..." of the request's parameters, encoded again ("" without any).
std::string query_of(const httplib::Request& req);

// A request about `key` (a DIN, or a reagent lot's event key) whose
// partition another instance serves is answered 307 with that instance's
// address (the same path and query there), or 503 (with Retry-After) while
// the partition is restoring here or has no serving owner. False: this
// instance answers.
bool answered_elsewhere(const ApiContext& ctx, const std::string& key, const httplib::Request& req,
                        httplib::Response& res);

// Asks the alert leader the same GET or POST (path, query, body and the
// caller's credentials) and relays its answer (X-Hemoledger-Answered-By):
// 503 no_alert_leader while there is none, 502 leader_unreachable when it
// does not answer.
void forward_to_alert_leader(const ApiContext& ctx, const httplib::Request& req,
                             httplib::Response& res);

}  // namespace hemoledger
