// ApiServer: the HTTP JSON API of a running engine (cpp-httplib), on its own
// threads. Endpoints (docs/api.md), one file of routes per area
// (engine/server/routes.h):
//
//   GET  /health                      engine, Kafka and storage state (503 when degraded)
//   GET  /api/stock?governorate=&facility=&category=&abo_rh=&status=&at=
//   GET  /api/units/{din}             a donation, its units and history
//   GET  /api/units/{din}/{product}   one unit
//   GET  /api/events/{id}             applied, or rejected with its reason
//   POST /api/events                  JSON event -> Kafka; answers once applied or rejected
//   GET  /api/pick?facility=&category=&abo_rh=   compatible units to issue
//   GET  /api/supply?category=        days of supply and phases
//   GET  /api/expiring                units expiring soon, with transfer suggestions
//   GET  /api/reagents?governorate=&facility=&reagent=   reagent stock and days of cover
//   GET  /api/alerts?status=&kind=&severity=&governorate=&facility=&category=&abo_rh=&since=
//   GET  /api/facilities              reference data
//   GET  /api/audit/refusals          stored 401s and 403s (admin tokens only)
//   GET  /metrics                     Prometheus text
//   POST /api/admin/backup            a backup now, into serve's --backup-dir (admin)
//   GET  /api/verdict, /api/peer/donations/{din}, /api/peer/stock   asked by peers in scale-out
//   GET  /                            the coordinators' dashboard (engine/server/dashboard_page.h)
//   GET  /station                     the scanning station (engine/server/station_page.h)
//   GET  /api/station/session, POST /api/station/scan   what the station page asks
//   GET  /api/units/{din}/{product}/label   the unit's ISBT 128 label, SVG or PDF
//   POST /api/lab/astm, POST /api/fhir/Observation, POST /api/fhir/Bundle,
//   GET  /api/fhir/BiologicallyDerivedProduct/{din}/{product},
//   GET  /api/fhir/InventoryReport    the lab connectors (engine/server/lab_routes.cpp)
//
// Threads: kApiWorkerThreads workers. A POST /api/events holds its worker
// until the engine commits the event's batch (a few milliseconds), and a
// keep-alive connection holds one between requests, so the pool is sized for
// many benches and lab gateways at once rather than for the cores: a waiting
// worker costs a stack, not CPU. A connection serves up to
// kApiKeepAliveRequests requests (cpp-httplib's default is 5), so that busy
// benches do not reconnect every few scans. cpp-httplib's listen backlog is
// compiled into Debian's library at 5: a burst of many new connections at
// the same instant may see some connects retried by the client's TCP.
//
// Binds to loopback unless told otherwise. The server only reads the engine's
// thread-safe views and produces through the thread-safe Producer.
//
// Authorization (docs/security.md): with a token file (ApiContext::tokens),
// every request but GET /health, GET / and GET /station needs "Authorization: Bearer
// <token>": 401 without one or with an unknown one, 403 when the token's role
// or facility may not write what is posted (engine/security/permissions.h).
// Every 401 and 403 is also stored (ApiContext::refusals,
// engine/security/refusal_log.h). Accepted events record the token's name as
// their actor. Without a token file the API is open, as it was before tokens.
// With ApiTls files the API speaks HTTPS only.
#pragma once

#include <memory>
#include <string>

#include "engine/kafka/kafka.h"
#include "engine/labs/lab_gateway.h"
#include "engine/ledger/backup_schedule.h"
#include "engine/ledger/engine.h"
#include "engine/security/refusal_log.h"
#include "engine/security/token_file.h"
#include "engine/server/webhooks.h"

namespace hemoledger {

class StockAnswers;

inline constexpr int kApiWorkerThreads = 256;
inline constexpr std::size_t kApiKeepAliveRequests = 10000;

struct ApiContext {
  Engine* engine = nullptr;
  Producer* producer = nullptr;
  std::string bootstrap;  // Kafka bootstrap servers, as reported by /health
  bool embedded = false;
  std::string events_topic;
  TimeMs apply_timeout_ms = 15000;          // how long POST /api/events waits for the engine
  const WebhookSender* webhooks = nullptr;  // reported by /health, if any
  LabGateway* lab = nullptr;  // for the lab endpoints (lab_routes.cpp); null: they answer 503
  const TokenFile* tokens = nullptr;  // null: the API is open (no authorization)
  std::string group = "hemoledger";   // the consumer group, reported by /health in scale-out
  RefusalLog* refusals = nullptr;     // every 401 and 403 is stored here when set
  BackupSchedule* backups = nullptr;  // POST /api/admin/backup; null: it answers 409
  // Set by ApiServer::start on a single instance: GET /api/stock's answers,
  // rendered once per stock snapshot (engine/server/stock_answers.h).
  StockAnswers* stock_answers = nullptr;
};

// A PEM certificate (chain) and its private key: the API then speaks HTTPS.
struct ApiTls {
  std::string cert_file, key_file;
  bool enabled() const { return !cert_file.empty(); }
};

class ApiServer {
 public:
  // Binds host:port (port 0 picks a free one) and starts serving.
  // With tls.enabled(), HTTPS with those files (error tls_failed when they
  // cannot be loaded). Error listen_failed when host:port cannot be bound.
  [[nodiscard]] static Result<std::unique_ptr<ApiServer>> start(ApiContext context,
                                                                const std::string& host, int port,
                                                                const ApiTls& tls = {});
  // Stops serving and joins the server's thread.
  ~ApiServer();
  int port() const { return port_; }

 private:
  ApiServer() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace hemoledger
