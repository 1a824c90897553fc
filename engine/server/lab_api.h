// The HTTP endpoints of the lab connectors, added to the ApiServer
// (engine/server/api.h, docs/api.md):
//
//   POST /api/lab/astm                  ASTM E1394 records (text) -> JSON per-result outcomes
//   POST /api/fhir/Observation          FHIR R4 Observation -> OperationOutcome
//   POST /api/fhir/Bundle               FHIR R4 Bundle of Observations -> OperationOutcome
//   GET  /api/fhir/BiologicallyDerivedProduct/{din}/{product}
//   GET  /api/fhir/InventoryReport?facility=F
//
// POST answers 200 when every event was recorded (or already was), 422 when
// the message could not be mapped or the engine refused an event, 503 when
// Kafka or the engine did not answer in time; 400 for ASTM text that does not
// parse. The POST endpoints answer 503 when the server has no lab gateway.
#pragma once

namespace httplib {
class Server;
}

namespace hemoledger {

struct ApiContext;

void add_lab_routes(httplib::Server& server, const ApiContext& ctx);

}  // namespace hemoledger
