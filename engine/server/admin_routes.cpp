// The admin area: the engine itself, its reference data, its refusals, and
// what peers ask of it in scale-out.
//
//   GET /health                       engine, Kafka and storage state (503 when degraded)
//   GET /metrics                      Prometheus text
//   GET /api/facilities               reference data
//   GET /api/audit/refusals           stored 401s and 403s (admin tokens only)
//   POST /api/admin/backup            a backup now, into serve's --backup-dir (admin tokens only)
//   GET /api/verdict?partition=&offset=   what became of the message there, once committed
//   GET /api/peer/donations/{din}     a donation as stored here, in its binary form
//
// The last two are asked by other instances of a scale-out group
// (engine/queries/peers.h); the same instances, the same format.
#include <httplib.h>

#include <cstdio>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>

#include "engine/queries/peers.h"
#include "engine/queries/queries.h"
#include "engine/security/permissions.h"
#include "engine/server/api.h"
#include "engine/server/replies.h"
#include "engine/server/routes.h"

namespace hemoledger {

using nlohmann::json;

namespace {

// A Prometheus gauge or counter with its help line, without labels.
void metric(std::ostringstream& o, const char* name, const char* type, const char* help,
            double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.15g", value);  // bytes and times in full
  o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
    << name << " " << text << "\n";
}

// What an operator alerts on (packaging/prometheus/hemoledger-rules.yml):
// health problems, the last commit, the disk, the backups, the webhooks.
void operations_metrics(std::ostringstream& o, const ApiContext& ctx, const EngineStatus& st) {
  std::int64_t missing = 0;
  for (const auto& g : st.missing) missing += g.count();
  metric(o, "hemoledger_kafka_problem", "gauge",
         "1 while the consumer reports a Kafka problem (GET /health says which).",
         st.kafka_problem.empty() ? 0 : 1);
  metric(o, "hemoledger_storage_problem", "gauge",
         "1 while batches cannot be committed to RocksDB (GET /health says why).",
         st.storage_problem.empty() ? 0 : 1);
  metric(o, "hemoledger_kafka_missing_messages", "gauge",
         "Messages never applied here that Kafka no longer holds (GET /health names them).",
         static_cast<double>(missing));
  metric(o, "hemoledger_last_batch_timestamp_seconds", "gauge",
         "When the last batch was committed (0: none since start).",
         static_cast<double>(ctx.engine->metrics().last_batch_ms.load()) / 1000.0);
  std::error_code ec;
  const auto space = std::filesystem::space(ctx.engine->data_dir(), ec);
  if (!ec) {
    metric(o, "hemoledger_data_dir_free_bytes", "gauge",
           "Bytes available to the engine on the data directory's file system.",
           static_cast<double>(space.available));
    metric(o, "hemoledger_data_dir_size_bytes", "gauge",
           "Size of the data directory's file system.", static_cast<double>(space.capacity));
  }
  if (ctx.backups && ctx.backups->enabled()) {
    const BackupStatus b = ctx.backups->status();
    metric(o, "hemoledger_backup_last_success_timestamp_seconds", "gauge",
           "When the newest backup in --backup-dir was taken (0: none).",
           static_cast<double>(b.last_success) / 1000.0);
    metric(o, "hemoledger_backup_interval_seconds", "gauge",
           "--backup-every, in seconds (0: on request only).",
           static_cast<double>(b.every_ms) / 1000.0);
    metric(o, "hemoledger_backups_total", "counter", "Backups taken by this process.",
           static_cast<double>(b.taken));
    metric(o, "hemoledger_backup_failures_total", "counter", "Backups that failed in this process.",
           static_cast<double>(b.failures));
    metric(o, "hemoledger_backup_last_size_bytes", "gauge",
           "Size of the newest backup (table files shared with older ones included).",
           static_cast<double>(b.last_size_bytes));
    metric(o, "hemoledger_backup_last_duration_seconds", "gauge",
           "How long the last backup of this process took.", b.last_seconds);
  }
  if (ctx.webhooks) {
    const auto hooks = ctx.webhooks->status();
    o << "# HELP hemoledger_webhook_delivered_total Alert changes delivered, per webhook.\n"
         "# TYPE hemoledger_webhook_delivered_total counter\n";
    for (const auto& w : hooks) {
      o << "hemoledger_webhook_delivered_total{url=\"" << w.url << "\"} " << w.delivered << "\n";
    }
    o << "# HELP hemoledger_webhook_failures_total Failed delivery attempts, per webhook.\n"
         "# TYPE hemoledger_webhook_failures_total counter\n";
    for (const auto& w : hooks) {
      o << "hemoledger_webhook_failures_total{url=\"" << w.url << "\"} " << w.failures << "\n";
    }
    o << "# HELP hemoledger_webhook_failing 1 while a webhook's last delivery failed.\n"
         "# TYPE hemoledger_webhook_failing gauge\n";
    for (const auto& w : hooks) {
      o << "hemoledger_webhook_failing{url=\"" << w.url << "\"} " << (w.problem.empty() ? 0 : 1)
        << "\n";
    }
  }
}

// The Prometheus text of /metrics: the engine's counters, lag per partition,
// the store's size and memory, and what operations_metrics() adds.
std::string metrics_text(const ApiContext& ctx) {
  const Engine& engine = *ctx.engine;
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
    << "# HELP hemoledger_poll_seconds_total Time reading messages from Kafka (polls that "
       "returned some).\n"
       "# TYPE hemoledger_poll_seconds_total counter\n"
    << "hemoledger_poll_seconds_total " << m.poll_micros_total.load() / 1e6 << "\n"
    << "# HELP hemoledger_store_write_seconds_total Time in RocksDB writing the batches (WAL, "
       "sync, memtable).\n"
       "# TYPE hemoledger_store_write_seconds_total counter\n"
    << "hemoledger_store_write_seconds_total " << m.write_micros_total.load() / 1e6 << "\n"
    << "# HELP hemoledger_store_written_keys_total Puts and deletes the batches wrote.\n"
       "# TYPE hemoledger_store_written_keys_total counter\n"
    << "hemoledger_store_written_keys_total " << m.written_keys_total.load() << "\n"
    << "# HELP hemoledger_store_written_bytes_total Bytes of the batches written.\n"
       "# TYPE hemoledger_store_written_bytes_total counter\n"
    << "hemoledger_store_written_bytes_total " << m.written_bytes_total.load() << "\n"
    << "# HELP hemoledger_send_seconds_total Time between batches handing recalls, alert "
       "changes and scale-out records to Kafka.\n"
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
    << "# HELP hemoledger_alert_model_units Available units held in memory for expiring-soon "
       "alerts.\n"
       "# TYPE hemoledger_alert_model_units gauge\n"
    << "hemoledger_alert_model_units " << m.alert_units.load() << "\n";
  operations_metrics(o, ctx, st);
  return o.str();
}

// The webhooks' delivery state, as /health reports it.
json webhooks_json(const WebhookSender& webhooks) {
  json hooks = json::array();
  for (const auto& w : webhooks.status()) {
    hooks.push_back({{"url", w.url},
                     {"next_seq", w.next_seq},
                     {"delivered", w.delivered},
                     {"failures", w.failures},
                     {"problem", w.problem.empty() ? json(nullptr) : json(w.problem)}});
  }
  return hooks;
}

void get_health(const ApiContext& ctx, httplib::Response& res) {
  const auto st = ctx.engine->status();
  json parts = json::object();
  for (const auto& [p, off] : st.next_offsets) {
    parts[std::to_string(p)] = {{"next_offset", off}, {"lag", st.lag.count(p) ? st.lag.at(p) : 0}};
  }
  // Scale-out: how a partition given here without its history was restored.
  for (const auto& [p, r] : st.restores) {
    json& part = parts[std::to_string(p)];
    if (!part.contains("next_offset")) part = {{"next_offset", 0}, {"lag", 0}};  // none committed
    if (r.installed) {
      part["restore"] = "snapshot";
      part["restore_offset"] = r.manifest.offset;
      part["restore_snapshot"] = r.manifest.file;
    } else {
      part["restore"] = "replay";
      part["restore_reason"] = r.reason;
    }
  }
  json body = {
      {"status", st.healthy ? "ok" : "degraded"},
      {"kafka",
       {{"bootstrap_servers", ctx.bootstrap},
        {"embedded", ctx.embedded},
        {"events_topic", ctx.events_topic},
        {"problem", st.kafka_problem.empty() ? json(nullptr) : json(st.kafka_problem)}}},
      {"storage",
       {{"problem", st.storage_problem.empty() ? json(nullptr) : json(st.storage_problem)}}},
      {"partitions", parts}};
  // Ranges never applied that Kafka no longer holds: the journal lacks them.
  json missing = json::array();
  for (const auto& g : st.missing) {
    missing.push_back(
        {{"partition", g.partition}, {"from", g.from}, {"to", g.to}, {"messages", g.count()}});
  }
  body["kafka"]["missing"] = missing;
  if (ctx.backups && ctx.backups->enabled()) {
    const BackupStatus b = ctx.backups->status();
    body["backups"] = {
        {"dir", b.dir},
        {"every_seconds", b.every_ms / 1000},
        {"last_id", b.last_id},
        {"last_taken_at", b.last_success ? json(format_rfc3339(b.last_success)) : json(nullptr)},
        {"problem", b.problem.empty() ? json(nullptr) : json(b.problem)}};
  }
  body["alerts"] = {{"last_seq", ctx.engine->alert_seq()}};
  if (ctx.engine->scale_out()) {
    json restoring = json::object();
    for (const auto& [p, target] : st.restoring) {
      // The largest offset stands for "not known yet" (just assigned).
      restoring[std::to_string(p)] =
          target == std::numeric_limits<std::int64_t>::max() ? json(nullptr) : json(target);
    }
    body["scale_out"] = {{"instance", st.instance},
                         {"group", ctx.group},
                         {"partitions", ctx.engine->partition_count()},
                         {"serving", st.serving},
                         {"restoring", restoring}};
  }
  if (st.snapshots) {
    json published = json::object();
    for (const auto& [p, m] : st.snapshots->published) {
      published[std::to_string(p)] = {
          {"offset", m.offset}, {"file", m.file}, {"taken_at", format_rfc3339(m.taken_at)}};
    }
    body["snapshots"] = {
        {"published", published},
        {"problem", st.snapshots->problem.empty() ? json(nullptr) : json(st.snapshots->problem)}};
  }
  if (ctx.webhooks) body["alerts"]["webhooks"] = webhooks_json(*ctx.webhooks);
  if (ctx.embedded) {
    body["kafka"]["warning"] =
        "embedded mock cluster: for development and demos only; it keeps messages in memory";
  }
  send_json(res, st.healthy ? 200 : 503, body);
}

void get_facilities(const ApiContext& ctx, httplib::Response& res) {
  json list = json::array();
  for (const auto& f : ctx.engine->reference().facilities()) {
    list.push_back({{"code", f.code},
                    {"name_en", f.name_en},
                    {"name_ar", f.name_ar},
                    {"governorate", f.governorate},
                    {"kind", std::string(to_string(f.kind))}});
  }
  send_json(res, 200, list);
}

void get_refusals(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (const auto who = request_principal(ctx, req); who && who->role != Role::admin) {
    return send_forbidden(ctx, req, res, *who,
                          make_error(kWrongRole, "Token " + who->name + " (role " +
                                                     std::string(to_string(who->role)) +
                                                     ") may not read the refusals; that "
                                                     "takes an admin token."));
  }
  auto j = refusals_json(ctx.engine->store());
  if (!j) return send_error(res, 500, j.error());
  send_json(res, 200, *j);
}

// A backup now, into the engine's --backup-dir (admin tokens only when
// tokens are in use). 200 with the backup, 409 without a backup directory.
void post_backup(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  if (const auto who = request_principal(ctx, req); who && who->role != Role::admin) {
    return send_forbidden(ctx, req, res, *who,
                          make_error(kWrongRole, "Token " + who->name + " (role " +
                                                     std::string(to_string(who->role)) +
                                                     ") may not take backups; that takes an "
                                                     "admin token."));
  }
  if (!ctx.backups || !ctx.backups->enabled()) {
    return send_error(res, 409,
                      make_error("no_backup_dir",
                                 "This engine has no backup directory: start it with "
                                 "--backup-dir DIR (or backup-dir in its configuration file)."));
  }
  auto taken = ctx.backups->take_now();
  if (!taken) return send_error(res, 500, taken.error());
  send_json(res, 200,
            {{"id", taken->id},
             {"dir", ctx.backups->status().dir},
             {"files", taken->files},
             {"size_bytes", taken->size_bytes},
             {"taken_at", format_rfc3339(backup_taken_at(*taken))}});
}

// Scale-out: what became of the message at a Kafka position, once this
// instance committed it (engine/queries/peers.h asks this of a partition's owner).
void get_verdict(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
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
    return send_error(res, 404,
                      make_error("not_yet",
                                 "This instance has not committed that "
                                 "message (yet)."));
  }
  send_json(res, 200, verdict_json(**v));
}

// Scale-out: a donation as stored here (its binary form, for a peer's lab
// gateway; engine/queries/peers.h). Same instances, same format.
void get_peer_donation(const ApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto d = find_donation(ctx.engine->store(), std::string(req.matches[1]));
  if (!d) return send_error(res, 500, d.error());
  if (!d->has_value()) {
    return send_error(res, 404, make_error("not_found", "No such donation here."));
  }
  res.set_content(encode_donation(**d), "application/octet-stream");
}

}  // namespace

void add_admin_routes(httplib::Server& svr, const ApiContext& ctx) {
  svr.Get("/health",
          [&ctx](const httplib::Request&, httplib::Response& res) { get_health(ctx, res); });
  svr.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    res.set_content(metrics_text(ctx), "text/plain; version=0.0.4");
  });
  svr.Post("/api/admin/backup", [&ctx](const httplib::Request& req, httplib::Response& res) {
    post_backup(ctx, req, res);
  });
  svr.Get("/api/facilities",
          [&ctx](const httplib::Request&, httplib::Response& res) { get_facilities(ctx, res); });
  svr.Get("/api/audit/refusals", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_refusals(ctx, req, res);
  });
  svr.Get("/api/verdict", [&ctx](const httplib::Request& req, httplib::Response& res) {
    get_verdict(ctx, req, res);
  });
  svr.Get(R"(/api/peer/donations/([^/]+))",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            get_peer_donation(ctx, req, res);
          });
}

}  // namespace hemoledger
