#include "engine/server/api.h"

#include <httplib.h>
#include <openssl/err.h>
#include <spdlog/spdlog.h>

#include <cctype>

#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <tuple>

#include "engine/io/clock.h"
#include "engine/server/dashboard_page.h"
#include "engine/server/lab_api.h"
#include "engine/scaleout/partials.h"
#include "engine/queries/peers.h"
#include "engine/queries/queries.h"
#include "events/json_codec.h"
#include "projections/projector.h"

namespace hemoledger {

using nlohmann::json;

namespace {

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(2, ' ', false, json::error_handler_t::replace) + "\n",
                  "application/json; charset=utf-8");
}

void send_error(httplib::Response& res, int status, const Error& e) {
  send_json(res, status, {{"error", e.code}, {"message", e.message}});
}

std::string new_event_id() {
  static std::atomic<std::uint64_t> counter{0};
  static const std::uint64_t seed = std::random_device{}();
  std::ostringstream s;
  s << "api-" << std::hex << seed << "-" << ++counter;
  return s.str();
}

// The token of "Authorization: Bearer <token>", or "".
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

void send_unauthorized(httplib::Response& res, const Error& e) {
  res.set_header("WWW-Authenticate", "Bearer realm=\"hemoledger\"");
  send_json(res, 401, {{"outcome", "unauthorized"}, {"code", e.code}, {"message", e.message}});
}

}  // namespace

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

void send_forbidden(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res,
                    const Principal& who, const Error& why) {
  spdlog::warn("api: refused for token {} ({}): {} [{}]", who.name, to_string(who.role),
               why.message, why.code);
  record_refusal(ctx, req, who.name, 403, why);
  send_json(res, 403, {{"outcome", "forbidden"}, {"code", why.code}, {"message", why.message}});
}

struct ApiServer::Impl {
  ApiContext ctx;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
};

namespace {

// "?k=v&..." of the request's parameters, encoded again ("" without any).
std::string query_of(const httplib::Request& req) {
  std::string query;
  for (const auto& [k, v] : req.params) {
    query += (query.empty() ? "?" : "&") + httplib::detail::encode_query_param(k) + "=" +
             httplib::detail::encode_query_param(v);
  }
  return query;
}

// Scale-out (docs/scale-out.md): a request about `key` (a DIN, or a reagent
// lot's event key) whose partition another instance serves is answered 307
// with that instance's address (the same path and query there), or 503 while
// the partition has no serving owner. False: this instance answers.
bool answered_elsewhere(const ApiContext& ctx, const std::string& key,
                        const httplib::Request& req, httplib::Response& res) {
  const Engine& engine = *ctx.engine;
  if (!engine.scale_out() || engine.partition_count() <= 0) return false;
  const std::int32_t p = partition_for_key(key, engine.partition_count());
  if (engine.serves(p)) return false;
  if (engine.restoring(p)) {
    res.set_header("Retry-After", "2");
    send_json(res, 503, {{"code", "restoring"},
                         {"partition", p},
                         {"instance", engine.instance()},
                         {"message", "This instance is still restoring partition " +
                                         std::to_string(p) + " from Kafka; ask again shortly."}});
    return true;
  }
  const auto owner = engine.partials() ? engine.partials()->owner(p) : std::nullopt;
  if (!owner || owner->instance == engine.instance() || owner->url.empty() || owner->restoring) {
    res.set_header("Retry-After", "2");
    send_json(res, 503, {{"code", "no_owner"},
                         {"partition", p},
                         {"message", "Partition " + std::to_string(p) +
                                         " is moving between instances; ask again shortly."}});
    return true;
  }
  const std::string target = owner->url + req.path + query_of(req);
  res.set_header("Location", target);
  send_json(res, 307, {{"code", "elsewhere"},
                       {"partition", p},
                       {"owner", owner->instance},
                       {"url", target},
                       {"message", "Partition " + std::to_string(p) + " is served by instance " +
                                       owner->instance + "."}});
  return true;
}

// What pick, supply and expiring read: this instance's store, or in
// scale-out the national picture: the partitions served here from the store
// and every other one from its owner's last published record (partials.h),
// with the freshness of each share.
struct Picture {
  PictureSource source;
  StockTable stock;
  std::optional<NationalStock> national;
  std::set<std::int32_t> local;                 // partitions read from the store
  std::map<std::int32_t, StockRecord> remote;   // the others, as published
};

std::unique_ptr<Picture> picture_of(const ApiContext& ctx) {
  auto pic = std::make_unique<Picture>();
  const Engine* e = ctx.engine;
  if (!e->scale_out() || !e->partials()) {
    pic->source = store_picture(e->store());
    pic->stock = e->stock();
    return pic;
  }
  std::map<std::int32_t, std::int64_t> offsets;
  const auto served = e->served_stock(&offsets);
  auto national = e->partials()->national(served, offsets, e->partition_count(), e->clock().now());
  for (auto& part : national.partitions) {
    if (part.source == "local") part.counted_from = e->instance();
  }
  auto records = e->partials()->records();
  for (const auto& part : national.partitions) {
    if (part.source == "local") pic->local.insert(part.partition);
    if (part.source == "partials") pic->remote[part.partition] = std::move(records[part.partition]);
  }
  pic->stock = national.stock;
  pic->national = std::move(national);
  const Picture* raw = pic.get();
  pic->source.available_at =
      [raw, e](const std::string& facility) -> Result<std::vector<AvailableUnit>> {
    auto mine = e->store().available_at(facility);
    if (!mine) return mine.error();
    std::vector<AvailableUnit> out;
    for (auto& u : *mine) {
      if (raw->local.count(partition_for_key(u.din, e->partition_count()))) {
        out.push_back(std::move(u));
      }
    }
    for (const auto& [p, r] : raw->remote) {
      for (const auto& ix : r.index) {
        if (ix.kind != 'a') continue;
        auto u = parse_available(ix.key, ix.value);
        if (u && u->facility == facility) out.push_back(std::move(*u));
      }
    }
    std::sort(out.begin(), out.end(), [](const AvailableUnit& a, const AvailableUnit& b) {
      return std::tie(a.expires_at, a.din, a.product) < std::tie(b.expires_at, b.din, b.product);
    });
    return out;
  };
  pic->source.reagent_lots = [raw, e]() -> Result<std::vector<ReagentLot>> {
    std::vector<ReagentLot> out;
    for (auto p : raw->local) {
      auto lots = e->store().reagent_lots(p);
      if (!lots) return lots.error();
      for (auto& lot : *lots) out.push_back(std::move(lot));
    }
    for (const auto& [p, r] : raw->remote) {
      for (const auto& [key, lot] : r.lots) out.push_back(lot);
    }
    return out;
  };
  pic->source.reagent_usage_window = [raw, e](std::int64_t from, std::int64_t to)
      -> Result<std::map<ReagentUsageKey, std::int64_t>> {
    std::map<ReagentUsageKey, std::int64_t> out;
    for (auto p : raw->local) {
      auto u = e->store().reagent_usage_window(from, to, p);
      if (!u) return u.error();
      for (const auto& [k, n] : *u) out[k] += n;
    }
    for (const auto& [p, r] : raw->remote) {
      for (const auto& [k, n] : r.usage) {
        if (k.day >= from && k.day < to) out[k] += n;
      }
    }
    return out;
  };
  pic->source.demand_window = [raw, e](std::int64_t from, std::int64_t to)
      -> Result<std::map<DemandKey, std::int64_t>> {
    std::map<DemandKey, std::int64_t> out;
    for (auto p : raw->local) {
      auto d = e->store().demand_window(from, to, p);
      if (!d) return d.error();
      for (const auto& [k, n] : *d) out[k] += n;
    }
    for (const auto& [p, r] : raw->remote) {
      for (const auto& [k, n] : r.demand) {
        if (k.day >= from && k.day < to) out[k] += n;
      }
    }
    return out;
  };
  return pic;
}

// Adds, in scale-out, how fresh each partition's share of the answer is.
void add_freshness(json& body, const Picture& pic, const ApiContext& ctx) {
  if (!pic.national) return;
  body["freshness"] = freshness_json(*pic.national);
  body["instance"] = ctx.engine->instance();
}

// Asks the alert leader the same GET (with the caller's credentials) and
// relays its answer.
void forward_to_leader(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const auto leader = ctx.engine->partials() ? ctx.engine->partials()->owner(0) : std::nullopt;
  if (!leader || leader->url.empty() || leader->instance == ctx.engine->instance() ||
      leader->restoring) {
    res.set_header("Retry-After", "2");
    return send_json(res, 503, {{"code", "no_alert_leader"},
                                {"message", "The instance that keeps the national alerts is "
                                            "changing; ask again shortly."}});
  }
  httplib::Client c(leader->url);
  c.set_connection_timeout(2);
  c.set_read_timeout(5);
  httplib::Headers headers;
  if (req.has_header("Authorization")) {
    headers.emplace("Authorization", req.get_header_value("Authorization"));
  }
  auto r = c.Get((req.path + query_of(req)).c_str(), headers);
  if (!r) {
    return send_json(res, 502, {{"code", "leader_unreachable"},
                                {"message", "The alert leader " + leader->instance + " (" +
                                                leader->url + ") did not answer."}});
  }
  res.status = r->status;
  res.set_header("X-Hemoledger-Answered-By", leader->instance);
  res.set_content(r->body, r->get_header_value("Content-Type").empty()
                               ? "application/json"
                               : r->get_header_value("Content-Type"));
}

void handle_post_event(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (req.body.size() > kMaxJsonBytes) {
    return send_error(res, 413, make_error("too_large", "The event is larger than 64 KiB."));
  }
  // A station may leave the id to us; everything else must be in the body.
  std::string body = req.body;
  json j = json::parse(body, nullptr, false);
  if (j.is_object() && !j.contains("id")) {
    j["id"] = new_event_id();
    body = j.dump();
  }
  auto e = decode_json(body);
  if (!e) {
    return send_json(res, 400, {{"outcome", "invalid"},
                                {"code", e.error().code},
                                {"message", e.error().message}});
  }
  if (e->type == EventType::clock_ticked) {
    return send_json(res, 422, {{"outcome", "rejected"},
                                {"code", "not_allowed"},
                                {"message", "Only the engine records the passing of time."}});
  }
  // Who may write it, and the audit trail: the token's name is the actor.
  if (const auto who = request_principal(ctx, req)) {
    if (auto allowed = may_write(*who, *e); !allowed) {
      spdlog::warn("api: event {} ({} at {}) refused for token {}: {}", e->id, to_string(e->type),
                   e->facility, who->name, allowed.error().message);
      record_refusal(ctx, req, who->name, 403, allowed.error());
      return send_json(res, 403, {{"outcome", "forbidden"},
                                  {"id", e->id},
                                  {"code", allowed.error().code},
                                  {"message", allowed.error().message}});
    }
    e->actor = who->name;
    if (e->station.empty()) e->station = who->name;
  }
  // The owner of the event's partition checks and waits for it.
  if (answered_elsewhere(ctx, event_key(*e), req, res)) return;
  if (req.has_param("dry_run") && req.get_param_value("dry_run") != "0") {
    // Checks the event against the current state with the engine's own rules,
    // records nothing: a station asks before it acts.
    Status checked;
    if (is_reagent_event(e->type)) {
      auto lot = ctx.engine->store().reagent_lot_anywhere(reagent_lot_key(e->reagent, e->lot));
      if (!lot) return send_error(res, 500, lot.error());
      auto r = apply_reagent_event(ctx.engine->reference(), lot->has_value() ? &**lot : nullptr, *e);
      if (!r) checked = r.error();
    } else {
      auto d = find_donation(ctx.engine->store(), e->din);
      if (!d) return send_error(res, 500, d.error());
      auto r = apply_event(ctx.engine->reference(), ctx.engine->rules(),
                           d->has_value() ? &**d : nullptr, *e);
      if (!r) checked = r.error();
    }
    if (!checked) {
      return send_json(res, 422, {{"outcome", "would_be_rejected"},
                                  {"id", e->id},
                                  {"code", checked.error().code},
                                  {"message", checked.error().message}});
    }
    return send_json(res, 200, {{"outcome", "would_be_applied"}, {"id", e->id}});
  }
  const std::string canonical = encode_json(*e);
  auto delivered = ctx.producer->produce_sync(ctx.events_topic, event_key(*e), canonical, 10000);
  if (!delivered) {
    return send_json(res, 503, {{"outcome", "not_recorded"},
                                {"id", e->id},
                                {"code", delivered.error().code},
                                {"message", "Kafka could not be reached: " +
                                                delivered.error().message}});
  }
  const auto [partition, offset] = *delivered;
  if (!ctx.engine->wait_processed(partition, offset, ctx.apply_timeout_ms)) {
    return send_json(res, 504, {{"outcome", "pending"},
                                {"id", e->id},
                                {"partition", partition},
                                {"offset", offset},
                                {"message", "Kafka has the event but the engine has not applied "
                                            "it yet; ask GET /api/events/" + e->id + " later."}});
  }
  auto v = ctx.engine->verdict(partition, offset);
  if (!v) return send_error(res, 500, v.error());
  if (!v->has_value()) {
    return send_error(res, 500, make_error("storage_error", "The engine's verdict is missing."));
  }
  const Verdict& verdict = **v;
  if (verdict.status == VerdictStatus::applied) {
    return send_json(res, 200, {{"outcome", "applied"}, {"id", e->id}, {"partition", partition},
                                {"offset", offset}});
  }
  const bool dup = verdict.status == VerdictStatus::duplicate;
  send_json(res, dup ? 409 : 422,
            {{"outcome", dup ? "duplicate" : "rejected"},
             {"id", e->id},
             {"code", verdict.code},
             {"message", verdict.message},
             {"partition", partition},
             {"offset", offset}});
}

std::string metrics_text(const Engine& engine) {
  const auto& m = engine.metrics();
  const auto st = engine.status();
  std::ostringstream o;
  o << "# HELP hemoledger_events_applied_total Events applied to the projections.\n"
       "# TYPE hemoledger_events_applied_total counter\n"
    << "hemoledger_events_applied_total " << m.applied.load() << "\n"
    << "# HELP hemoledger_events_rejected_total Messages rejected with a reason.\n"
       "# TYPE hemoledger_events_rejected_total counter\n"
    << "hemoledger_events_rejected_total " << m.rejected.load() << "\n"
    << "# HELP hemoledger_events_duplicate_total Repeated event ids, ignored.\n"
       "# TYPE hemoledger_events_duplicate_total counter\n"
    << "hemoledger_events_duplicate_total " << m.duplicates.load() << "\n"
    << "# HELP hemoledger_batches_total RocksDB batches committed.\n"
       "# TYPE hemoledger_batches_total counter\n"
    << "hemoledger_batches_total " << m.batches.load() << "\n"
    << "# HELP hemoledger_batch_commit_seconds Time to apply and commit a batch.\n"
       "# TYPE hemoledger_batch_commit_seconds summary\n"
    << "hemoledger_batch_commit_seconds_sum " << m.commit_micros_total.load() / 1e6 << "\n"
    << "hemoledger_batch_commit_seconds_count " << m.batches.load() << "\n"
    << "# HELP hemoledger_batch_commit_last_seconds Time of the last batch.\n"
       "# TYPE hemoledger_batch_commit_last_seconds gauge\n"
    << "hemoledger_batch_commit_last_seconds " << m.commit_micros_last.load() / 1e6 << "\n"
    << "# HELP hemoledger_poll_seconds_total Time reading messages from Kafka (polls that returned some).\n"
       "# TYPE hemoledger_poll_seconds_total counter\n"
    << "hemoledger_poll_seconds_total " << m.poll_micros_total.load() / 1e6 << "\n"
    << "# HELP hemoledger_store_write_seconds_total Time in RocksDB writing the batches (WAL, sync, memtable).\n"
       "# TYPE hemoledger_store_write_seconds_total counter\n"
    << "hemoledger_store_write_seconds_total " << m.write_micros_total.load() / 1e6 << "\n"
    << "# HELP hemoledger_send_seconds_total Time between batches handing recalls, alert changes and scale-out records to Kafka.\n"
       "# TYPE hemoledger_send_seconds_total counter\n"
    << "hemoledger_send_seconds_total " << m.send_micros_total.load() / 1e6 << "\n"
    << "# HELP hemoledger_consumer_lag Messages in Kafka not yet applied, per partition.\n"
       "# TYPE hemoledger_consumer_lag gauge\n";
  for (const auto& [p, lag] : st.lag) {
    o << "hemoledger_consumer_lag{partition=\"" << p << "\"} " << lag << "\n";
  }
  o << "# HELP hemoledger_store_bytes Bytes in RocksDB files and memtables.\n"
       "# TYPE hemoledger_store_bytes gauge\n"
    << "hemoledger_store_bytes " << engine.store().disk_bytes() << "\n";
  const StoreMemory mem = engine.store().memory();
  o << "# HELP hemoledger_store_memory_bytes RocksDB memory: memtables, block cache (index "
       "blocks included), table readers.\n"
       "# TYPE hemoledger_store_memory_bytes gauge\n"
    << "hemoledger_store_memory_bytes{part=\"memtables\"} " << mem.memtables << "\n"
    << "hemoledger_store_memory_bytes{part=\"block_cache\"} " << mem.block_cache << "\n"
    << "hemoledger_store_memory_bytes{part=\"table_readers\"} " << mem.table_readers << "\n"
    << "# HELP hemoledger_alert_model_units Available units held in memory for expiring-soon alerts.\n"
       "# TYPE hemoledger_alert_model_units gauge\n"
    << "hemoledger_alert_model_units " << m.alert_units.load() << "\n";
  return o.str();
}

}  // namespace

Result<std::unique_ptr<ApiServer>> ApiServer::start(ApiContext context, const std::string& host,
                                                    int port, const ApiTls& tls) {
  std::unique_ptr<ApiServer> api(new ApiServer());
  api->impl_ = std::make_unique<Impl>();
  api->impl_->ctx = std::move(context);
  const ApiContext& ctx = api->impl_->ctx;
  if (tls.enabled()) {
    auto ssl = std::make_unique<httplib::SSLServer>(tls.cert_file.c_str(), tls.key_file.c_str());
    if (!ssl->is_valid()) {
      const unsigned long code = ERR_get_error();
      char detail[256] = "no detail from OpenSSL";
      if (code != 0) ERR_error_string_n(code, detail, sizeof detail);
      ERR_clear_error();
      return make_error("tls_failed", "Cannot serve HTTPS with the certificate " + tls.cert_file +
                                          " and key " + tls.key_file + " (" + detail + ").");
    }
    api->impl_->server = std::move(ssl);
  } else {
    api->impl_->server = std::make_unique<httplib::Server>();
  }
  httplib::Server& svr = *api->impl_->server;
  if (ctx.tokens) {
    svr.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
      using R = httplib::Server::HandlerResponse;
      if ((req.method == "GET" || req.method == "HEAD") && (req.path == "/health" || req.path == "/")) {
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
  svr.set_payload_max_length(1024 * 1024);
  // cpp-httplib writes a response's header and body separately; with Nagle on,
  // the body then waits for the client's delayed ACK (~40 ms on Linux) on
  // every keep-alive request after the first.
  svr.set_tcp_nodelay(true);

  svr.Get("/health", [&ctx](const httplib::Request&, httplib::Response& res) {
    const auto st = ctx.engine->status();
    json parts = json::object();
    for (const auto& [p, off] : st.next_offsets) {
      parts[std::to_string(p)] = {{"next_offset", off},
                                  {"lag", st.lag.count(p) ? st.lag.at(p) : 0}};
    }
    json body = {{"status", st.healthy ? "ok" : "degraded"},
                 {"kafka",
                  {{"bootstrap_servers", ctx.bootstrap},
                   {"embedded", ctx.embedded},
                   {"events_topic", ctx.events_topic},
                   {"problem", st.kafka_problem.empty() ? json(nullptr) : json(st.kafka_problem)}}},
                 {"storage",
                  {{"problem",
                    st.storage_problem.empty() ? json(nullptr) : json(st.storage_problem)}}},
                 {"partitions", parts}};
    body["alerts"] = {{"last_seq", ctx.engine->alert_seq()}};
    if (ctx.engine->scale_out()) {
      json restoring = json::object();
      for (const auto& [p, target] : st.restoring) restoring[std::to_string(p)] = target;
      body["scale_out"] = {{"instance", st.instance},
                           {"group", ctx.group},
                           {"partitions", ctx.engine->partition_count()},
                           {"serving", st.serving},
                           {"restoring", restoring}};
    }
    if (ctx.webhooks) {
      json hooks = json::array();
      for (const auto& w : ctx.webhooks->status()) {
        hooks.push_back({{"url", w.url},
                         {"next_seq", w.next_seq},
                         {"delivered", w.delivered},
                         {"failures", w.failures},
                         {"problem", w.problem.empty() ? json(nullptr) : json(w.problem)}});
      }
      body["alerts"]["webhooks"] = hooks;
    }
    if (ctx.embedded) {
      body["kafka"]["warning"] =
          "embedded mock cluster: for development and demos only; it keeps messages in memory";
    }
    send_json(res, st.healthy ? 200 : 503, body);
  });

  svr.Get("/api/stock", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> params;
    for (const auto& [k, v] : req.params) {
      if (k != "at") params[k] = v;
    }
    auto f = parse_stock_filter(params, ctx.engine->reference());
    if (!f) return send_error(res, 400, f.error());
    if (req.has_param("at")) {
      if (ctx.engine->scale_out()) {
        return send_error(res, 400, make_error("not_in_scale_out",
                                               "Stock at a past instant replays the whole journal, "
                                               "which no instance of a group holds; ask a "
                                               "single-instance rebuild (docs/scale-out.md)."));
      }
      auto at = parse_rfc3339(req.get_param_value("at"));
      if (!at) return send_error(res, 400, at.error());
      auto past = stock_at(ctx.engine->store(), ctx.engine->reference(), ctx.engine->rules(), *at);
      if (!past) return send_error(res, 500, past.error());
      json body = stock_json(*past, *f, ctx.engine->reference());
      body["at"] = format_rfc3339(*at);
      return send_json(res, 200, body);
    }
    // Scale-out: the national picture, with the freshness of each partition.
    const auto pic = picture_of(ctx);
    json body = stock_json(pic->stock, *f, ctx.engine->reference());
    add_freshness(body, *pic, ctx);
    send_json(res, 200, body);
  });

  auto unit_handler = [&ctx](const httplib::Request& req, httplib::Response& res) {
    const std::string din = req.matches[1];
    const std::string product = req.matches.size() > 2 ? std::string(req.matches[2]) : "";
    if (answered_elsewhere(ctx, din, req, res)) return;
    auto d = find_donation(ctx.engine->store(), din);
    if (!d) return send_error(res, 500, d.error());
    if (!d->has_value()) {
      return send_error(res, 404, make_error("not_found", "No donation " + din + " is known."));
    }
    json j = donation_json(**d, product, ctx.engine->reference());
    if (j.is_null()) {
      return send_error(res, 404, make_error("not_found", "Donation " + din +
                                                              " has no component " + product + "."));
    }
    send_json(res, 200, j);
  };
  svr.Get(R"(/api/units/([^/]+))", unit_handler);
  svr.Get(R"(/api/units/([^/]+)/([^/]+))", unit_handler);

  svr.Get(R"(/api/events/(.+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    auto j = event_outcome_json(ctx.engine->store(), std::string(req.matches[1]));
    if (!j) return send_error(res, 500, j.error());
    if (j->is_null()) {
      return send_error(res, 404, make_error("not_found", "No event with this id has been seen."));
    }
    send_json(res, 200, *j);
  });

  // Scale-out: a donation as stored here (its binary form, for a peer's lab
  // gateway; engine/queries/peers.h). Same instances, same format.
  svr.Get(R"(/api/peer/donations/([^/]+))", [&ctx](const httplib::Request& req,
                                                  httplib::Response& res) {
    auto d = find_donation(ctx.engine->store(), std::string(req.matches[1]));
    if (!d) return send_error(res, 500, d.error());
    if (!d->has_value()) {
      return send_error(res, 404, make_error("not_found", "No such donation here."));
    }
    res.set_content(encode_donation(**d), "application/octet-stream");
  });

  // Scale-out: what became of the message at a Kafka position, once this
  // instance committed it (engine/queries/peers.h asks this of a partition's owner).
  svr.Get("/api/verdict", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::int32_t partition = -1;
    std::int64_t offset = -1;
    try {
      partition = std::stoi(req.get_param_value("partition"));
      offset = std::stoll(req.get_param_value("offset"));
    } catch (const std::exception&) {
    }
    if (partition < 0 || offset < 0) {
      return send_error(res, 400, make_error("bad_filter", "partition and offset are needed."));
    }
    auto v = ctx.engine->verdict(partition, offset);
    if (!v) return send_error(res, 500, v.error());
    if (!v->has_value()) {
      return send_error(res, 404, make_error("not_yet", "This instance has not committed that "
                                                        "message (yet)."));
    }
    send_json(res, 200, verdict_json(**v));
  });

  svr.Post("/api/events", [&ctx](const httplib::Request& req, httplib::Response& res) {
    handle_post_event(ctx, req, res);
  });

  svr.Get("/api/pick", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Category category = Category::unknown;
    AboRh patient = AboRh::unknown;
    const std::string facility = req.get_param_value("facility");
    if (req.has_param("category") && !parse_category(req.get_param_value("category"), category)) {
      return send_error(res, 400, make_error("bad_filter", "Unknown category."));
    }
    if (req.has_param("abo_rh")) {
      auto g = parse_abo_rh(req.get_param_value("abo_rh"));
      if (!g) return send_error(res, 400, make_error("bad_filter", "Unknown blood group."));
      patient = *g;
    }
    const auto pic = picture_of(ctx);
    auto j = pick_json(pic->source, ctx.engine->reference(), facility, category, patient,
                       ctx.engine->clock().now());
    if (!j) return send_error(res, 400, j.error());
    add_freshness(*j, *pic, ctx);
    send_json(res, 200, *j);
  });

  svr.Get("/api/supply", [&ctx](const httplib::Request& req, httplib::Response& res) {
    Category category = Category::red_cells;
    if (req.has_param("category") && !parse_category(req.get_param_value("category"), category)) {
      return send_error(res, 400, make_error("bad_filter", "Unknown category."));
    }
    const auto pic = picture_of(ctx);
    auto j = supply_json(pic->source, pic->stock, ctx.engine->reference(), category,
                         ctx.engine->clock().now(), ctx.engine->supply());
    if (!j) return send_error(res, 500, j.error());
    add_freshness(*j, *pic, ctx);
    send_json(res, 200, *j);
  });

  svr.Get("/api/expiring", [&ctx](const httplib::Request&, httplib::Response& res) {
    const auto pic = picture_of(ctx);
    auto j = expiring_json(pic->source, pic->stock, ctx.engine->reference(), ctx.engine->clock().now(),
                           ctx.engine->supply());
    if (!j) return send_error(res, 500, j.error());
    add_freshness(*j, *pic, ctx);
    send_json(res, 200, *j);
  });

  svr.Get("/api/alerts", [&ctx](const httplib::Request& req, httplib::Response& res) {
    // Scale-out: the alert leader (the instance serving partition 0) holds
    // the national alerts; another instance forwards the request to it.
    if (ctx.engine->scale_out() && !ctx.engine->serves(0)) return forward_to_leader(ctx, req, res);
    std::map<std::string, std::string> params(req.params.begin(), req.params.end());
    auto f = parse_alert_filter(params, ctx.engine->reference());
    if (!f) return send_error(res, 400, f.error());
    auto j = alerts_json(ctx.engine->store(), *f);
    if (!j) return send_error(res, 500, j.error());
    send_json(res, 200, *j);
  });

  svr.Get("/api/reagents", [&ctx](const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> params(req.params.begin(), req.params.end());
    auto f = parse_reagent_filter(params, ctx.engine->reference());
    if (!f) return send_error(res, 400, f.error());
    const auto pic = picture_of(ctx);
    auto j = reagents_json(pic->source, ctx.engine->reference(), *f, ctx.engine->clock().now(),
                           ctx.engine->supply().window_days);
    if (!j) return send_error(res, 500, j.error());
    add_freshness(*j, *pic, ctx);
    send_json(res, 200, *j);
  });

  svr.Get("/api/facilities", [&ctx](const httplib::Request&, httplib::Response& res) {
    json list = json::array();
    for (const auto& f : ctx.engine->reference().facilities()) {
      list.push_back({{"code", f.code}, {"name_en", f.name_en}, {"name_ar", f.name_ar},
                      {"governorate", f.governorate}, {"kind", std::string(to_string(f.kind))}});
    }
    send_json(res, 200, list);
  });

  svr.Get("/api/audit/refusals", [&ctx](const httplib::Request& req, httplib::Response& res) {
    if (const auto who = request_principal(ctx, req); who && who->role != Role::admin) {
      return send_forbidden(ctx, req, res, *who,
                            make_error("wrong_role", "Token " + who->name + " (role " +
                                                         std::string(to_string(who->role)) +
                                                         ") may not read the refusals; that "
                                                         "takes an admin token."));
    }
    auto j = refusals_json(ctx.engine->store());
    if (!j) return send_error(res, 500, j.error());
    send_json(res, 200, *j);
  });

  svr.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(*ctx.engine), "text/plain; version=0.0.4");
  });

  add_lab_routes(svr, ctx);

  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    const std::string_view page = dashboard_page();
    res.set_content(page.data(), page.size(), "text/html; charset=utf-8");
  });

  if (port == 0) {
    port = svr.bind_to_any_port(host.c_str());
    if (port < 0) return make_error("listen_failed", "Cannot listen on " + host + ".");
  } else if (!svr.bind_to_port(host.c_str(), port)) {
    return make_error("listen_failed",
                      "Cannot listen on " + host + ":" + std::to_string(port) +
                          " (in use, or not an address of this machine).");
  }
  api->port_ = port;
  Impl* impl = api->impl_.get();
  impl->thread = std::thread([impl] { impl->server->listen_after_bind(); });
  return api;
}

ApiServer::~ApiServer() {
  if (impl_) {
    impl_->server->stop();
    if (impl_->thread.joinable()) impl_->thread.join();
  }
}

}  // namespace hemoledger
