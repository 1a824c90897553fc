// The donors area: a donor's status and its history, by pseudonymous id.
//
//   GET /api/donors/{id}   deferrals, donations and the status now (engine clock)
//
// Donor records are medical data: with a token file only lab and admin
// tokens may read them (may_read_donors; 403 otherwise). In scale-out the
// answer merges the partitions this instance serves (docs/scale-out.md).
#include <httplib.h>

#include <string>

#include "engine/queries/queries.h"
#include "engine/security/permissions.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"

namespace hemoledger {

namespace {

void get_donor(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (auto who = request_principal(ctx, req)) {
    if (auto allowed = may_read_donors(*who); !allowed) {
      return send_forbidden(ctx, req, res, *who, allowed.error());
    }
  }
  const std::string id = req.matches[1];
  if (!is_pseudonymous_id(id)) {
    return send_error(res, 400,
                      make_error("invalid_donor", "A donor is named by a pseudonymous id."));
  }
  auto donor = ctx.engine->store().donor_everywhere(id);
  if (!donor) return send_error(res, 500, donor.error());
  const nlohmann::json j = donor_json(*donor, ctx.engine->reference(), ctx.engine->clock().now());
  if (j.is_null()) {
    return send_error(res, 404, make_error("not_found", "No donor " + id + " is known."));
  }
  send_json(res, 200, j);
}

}  // namespace

void add_donor_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get(R"(/api/donors/([^/]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_donor(ctx, req, res);
  });
}

}  // namespace hemoledger
