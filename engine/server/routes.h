// The ApiServer's routes, one function per area, each in its own file
// (engine/server/<area>_routes.cpp). ApiServer::start (api.cpp) calls them
// all on one httplib::Server; every handler keeps a reference to `ctx`,
// which must outlive the server. The contract of every route is docs/api.md.
//
//   stock    GET /api/stock, /api/pick, /api/supply, /api/expiring, /api/reagents
//   units    GET /api/units/{din}, /api/units/{din}/{product}
//   donors   GET /api/donors/{id} (lab and admin tokens only)
//   events   GET /api/events/{id}, POST /api/events
//   alerts   GET /api/alerts, /api/sectors; POST /api/alerts/{id}/acknowledge, /close
//   reports  GET /api/reports, /report (the printable page)
//   lab      POST /api/lab/astm, /api/fhir/Observation, /api/fhir/Bundle;
//            GET /api/fhir/BiologicallyDerivedProduct/{din}/{product},
//            /api/fhir/InventoryReport
//   station  GET /station, /api/station/session; POST /api/station/scan
//   admin    GET /health, /metrics, /api/facilities, /api/audit/refusals,
//            POST /api/admin/backup, and
//            what peers ask in scale-out: /api/verdict, /api/peer/donations/{din}
//
// The replies they share are in engine/server/replies.h, the scale-out
// forwarding in engine/server/scale_out_routing.h. Internal to engine/server/.
// Threading: handlers run on the server's threads and read only the engine's
// thread-safe views; they produce through the thread-safe Producer.
#pragma once

#include <string>

#include "events/event.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace hemoledger {

struct ApiContext;

void add_stock_routes(httplib::Server& server, const ApiContext& ctx);
void add_unit_routes(httplib::Server& server, const ApiContext& ctx);
void add_donor_routes(httplib::Server& server, const ApiContext& ctx);
void add_event_routes(httplib::Server& server, const ApiContext& ctx);
void add_alert_routes(httplib::Server& server, const ApiContext& ctx);
void add_report_routes(httplib::Server& server, const ApiContext& ctx);
void add_lab_routes(httplib::Server& server, const ApiContext& ctx);
void add_admin_routes(httplib::Server& server, const ApiContext& ctx);
void add_station_routes(httplib::Server& server, const ApiContext& ctx);

// The handlers of POST /api/events and GET /api/units/{din}[/{product}], for
// the station's in-process backend (station_routes.cpp): the same checks,
// authorization and scale-out forwarding as over HTTP.
void post_event(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res);
void get_unit(const ApiContext& ctx, const std::string& din, const std::string& product,
              const httplib::Request& req, httplib::Response& res);
// An event the server built (alert follow-up, alert_routes.cpp): authorized
// and recorded like a POST /api/events, with the same answers.
void post_built_event(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                      Event e);

}  // namespace hemoledger
