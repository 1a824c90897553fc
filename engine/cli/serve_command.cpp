// `hemoledger serve`: the engine, its HTTP API, the lab links and the threads
// beside the apply loop, started in that order; stopped by SIGINT or SIGTERM,
// or restarted in place after a storage fault (engine/cli/self_restart.h).
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/cli/demo_feed.h"
#include "engine/cli/reference_files.h"
#include "engine/cli/self_restart.h"
#include "engine/cli/serve_options.h"
#include "engine/io/tcp_server.h"
#include "engine/io/tls_server.h"
#include "engine/kafka/kafka.h"
#include "engine/labs/astm_listener.h"
#include "engine/labs/lab_gateway.h"
#include "engine/labs/mllp_listener.h"
#include "engine/ledger/alert_escalator.h"
#include "engine/ledger/engine.h"
#include "engine/ledger/expiry_ticker.h"
#include "engine/security/refusal_log.h"
#include "engine/security/token_file.h"
#include "engine/server/api.h"
#include "engine/server/webhooks.h"

namespace hemoledger {
namespace {

// Everything serve starts, in the order it starts it; destroyed in reverse.
struct Server {
  std::optional<ReferenceData> ref;
  std::string host;  // of --listen
  int port = 0;
  EngineOptions options;
  std::unique_ptr<MockCluster> mock;  // the embedded Kafka, without --brokers
  std::optional<TokenFile> tokens;
  LabLinkSecurity lab_security;
  std::unique_ptr<Producer> producer;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<RefusalLog> refusals;  // 401s, 403s and refused lab connections, under z/
  std::unique_ptr<WebhookSender> webhooks;
  std::unique_ptr<LabGateway> lab_gateway;
  std::unique_ptr<MllpListener> mllp;
  std::unique_ptr<AstmListener> astm;
  std::unique_ptr<BackupSchedule> backups;
  std::unique_ptr<ApiServer> api;

  bool embedded() const { return mock != nullptr; }
};

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The lab mapping: --lab-mapping, else lab_mapping.json of the reference
// directory, else the shipped data/lab_mapping.json.
std::string lab_mapping_path(const ServeArgs& a, const std::string& reference_dir) {
  if (!a.lab_mapping.empty()) return a.lab_mapping;
  std::error_code ec;
  const std::string beside = reference_dir + "/lab_mapping.json";
  if (std::filesystem::is_regular_file(beside, ec)) return beside;
  return default_reference_dir() + "/lab_mapping.json";
}

// How a lab link is secured, for the start-up log.
std::string lab_link_kind(const LabLinkSecurity& s) {
  if (!s.tls) return " (plain TCP)";
  return s.tls->requires_client_certificate() ? " (mutual TLS)" : " (TLS)";
}

// Without --brokers, the embedded mock cluster; then --bootstrap-file and the data directory.
Status start_kafka(const ServeArgs& a, Server& s) {
  if (a.brokers.empty()) {
    auto m = MockCluster::start(
        1, {a.topic, a.rejected_topic, a.alerts_topic, s.options.kafka.partials_topic},
        a.partitions);
    if (!m) return m.error();
    s.mock = std::move(*m);
    s.options.kafka.brokers = s.mock->bootstrap();
    s.options.kafka.embedded = true;
    s.options.fresh_cluster = true;
    spdlog::warn(
        "no --brokers given: started the embedded Kafka (librdkafka mock cluster) at {}. It is "
        "for development and demos: it keeps messages in memory and forgets them on exit. The "
        "RocksDB journal in {} is the durable record.",
        s.mock->bootstrap(), a.data_dir);
  }
  if (!a.bootstrap_file.empty()) std::ofstream(a.bootstrap_file) << s.options.kafka.brokers << "\n";
  std::filesystem::create_directories(a.data_dir);
  return {};
}

// --tokens, which lab listeners accept only with mutual TLS; or a warning that the API is open.
Status load_tokens(const ServeArgs& a, Server& s) {
  if (a.tokens.empty()) {
    spdlog::warn(
        "no --tokens given: the API is OPEN; anyone who can reach {} may read and write "
        "events{}. Give --tokens FILE (docs/security.md).",
        a.listen,
        is_loopback(s.host) ? " (loopback only)" : ", and it listens beyond this machine");
    return {};
  }
  auto t = TokenFile::load(a.tokens, &*s.ref);
  if (!t) return t.error();
  s.tokens = std::move(*t);
  if (a.has_lab_listener() && a.lab_client_ca.empty()) {
    return make_error("unsecured_lab_link",
                      "With --tokens, --mllp and --astm need mutual TLS: --lab-client-ca "
                      "FILE (the CA of the labs' client certificates, whose CN names a lab "
                      "token) and a certificate (--tls-cert/--tls-key or "
                      "--lab-tls-cert/--lab-tls-key); docs/security.md.");
  }
  spdlog::info("API tokens: {} from {}; every endpoint but /health and / needs one",
               s.tokens->entries().size(), a.tokens);
  return {};
}

// The lab links' facilities and TLS: with --lab-tls-cert, else with the API's --tls-cert.
Status secure_lab_links(const ServeArgs& a, Server& s) {
  for (const auto* lab : {&a.mllp_lab, &a.astm_lab}) {
    if (!lab->empty() && s.ref->facility(*lab) == nullptr) {
      return make_error("bad_listen", "No facility " + *lab + " in the reference data.");
    }
  }
  if (a.tls_cert.empty() != a.tls_key.empty()) {
    return make_error("bad_tls", "--tls-cert and --tls-key go together.");
  }
  if (a.lab_tls_cert.empty() != a.lab_tls_key.empty()) {
    return make_error("bad_tls", "--lab-tls-cert and --lab-tls-key go together.");
  }
  const TlsFiles lab_tls{a.lab_tls_cert.empty() ? a.tls_cert : a.lab_tls_cert,
                         a.lab_tls_cert.empty() ? a.tls_key : a.lab_tls_key, a.lab_client_ca};
  if (!a.lab_client_ca.empty() && lab_tls.cert_file.empty()) {
    return make_error("bad_tls",
                      "--lab-client-ca needs a certificate for the lab links: "
                      "--tls-cert/--tls-key or --lab-tls-cert/--lab-tls-key.");
  }
  if (!lab_tls.cert_file.empty() && a.has_lab_listener()) {
    auto ctx = TlsServerContext::create(lab_tls);
    if (!ctx) return ctx.error();
    s.lab_security.tls = std::move(*ctx);
  }
  s.lab_security.tokens = s.tokens ? &*s.tokens : nullptr;
  return {};
}

// --routing: the sectors, checked against the reference data (strict: an
// unknown key or code stops the start with a named error).
Status load_routing(const ServeArgs& a, Server& s) {
  if (a.routing.empty()) return {};
  std::ifstream in(a.routing);
  if (!in) return make_error("bad_routing", "Cannot read the routing file " + a.routing + ".");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto routing = AlertRouting::parse(text, *s.ref);
  if (!routing) return routing.error();
  s.options.routing = std::move(*routing);
  spdlog::info("alert routing: {} sector(s) from {}", s.options.routing.sectors().size(),
               a.routing);
  return {};
}

// Everything that is checked, or started, before the engine opens.
Status prepare(const ServeArgs& a, const CommandContext& ctx, Server& s) {
  auto ref = load_reference_data(ctx.reference_dir);
  if (!ref) return ref.error();
  s.ref = std::move(*ref);
  if (!split_tcp_address(a.listen, s.host, s.port)) {
    return make_error("bad_listen", "--listen must be HOST:PORT, e.g. 127.0.0.1:8080.");
  }
  auto options = engine_options(a, ctx);
  if (!options) return options.error();
  if (auto b = backup_options(a); !b) return b.error();
  s.options = std::move(*options);
  if (auto st = load_routing(a, s); !st) return st;
  if (auto st = start_kafka(a, s); !st) return st;
  if (auto st = load_tokens(a, s); !st) return st;
  return secure_lab_links(a, s);
}

// The producer, the engine, and the stores that write beside it.
Status open_engine(const ServeArgs& a, const CommandContext& ctx, Server& s) {
  auto producer = Producer::create(s.options.kafka);
  if (!producer) return producer.error();
  s.producer = std::move(*producer);
  auto engine = Engine::open(s.options, *s.ref, s.producer.get());
  if (!engine) return engine.error();
  s.engine = std::move(*engine);
  s.refusals = std::make_unique<RefusalLog>(s.engine->store(), ctx.clock);
  s.lab_security.refusals = s.refusals.get();
  WebhookOptions hooks;
  hooks.urls = a.webhooks;
  hooks.routing = &s.engine->routing();
  s.webhooks = std::make_unique<WebhookSender>(s.engine->store(), hooks);
  auto backups = backup_options(a);
  if (!backups) return backups.error();
  s.backups = std::make_unique<BackupSchedule>(*s.engine, *backups, ctx.clock);
  if (s.backups->enabled()) {
    spdlog::info("backups into {}{}", backups->dir,
                 backups->every_ms > 0 ? " every " + a.backup_every : ", on request only");
  }
  return {};
}

// The lab gateway serves the listeners and the lab HTTP endpoints. Without a
// listener or --lab-mapping, a mapping that does not fit the reference data
// (e.g. data/egypt) only disables the lab endpoints.
Status start_lab_gateway(const ServeArgs& a, const CommandContext& ctx, Server& s) {
  auto mapping = load_lab_mapping(lab_mapping_path(a, ctx.reference_dir), *s.ref);
  if (!mapping) {
    if (a.has_lab_listener() || !a.lab_mapping.empty()) return mapping.error();
    spdlog::warn("lab endpoints disabled: {}", mapping.error().message);
    return {};
  }
  LabGatewayOptions lo;
  if (!a.peer_token_file.empty()) {
    std::ifstream in(a.peer_token_file);
    if (!std::getline(in, lo.peer_token) || lo.peer_token.empty()) {
      return make_error("bad_peer_token", "Cannot read a token from " + a.peer_token_file + ".");
    }
  }
  s.lab_gateway =
      std::make_unique<LabGateway>(*s.engine, *s.producer, a.topic, std::move(*mapping), lo);
  return {};
}

// --mllp and --astm.
Status start_lab_listeners(const ServeArgs& a, const CommandContext& ctx, Server& s) {
  if (!a.mllp.empty()) {
    MllpOptions mo;
    mo.lab = a.mllp_lab;
    mo.security = s.lab_security;
    if (!split_tcp_address(a.mllp, mo.host, mo.port)) {
      return make_error("bad_listen", "--mllp must be HOST:PORT, e.g. 127.0.0.1:2575.");
    }
    auto l = MllpListener::start(*s.lab_gateway, mo, ctx.clock);
    if (!l) return l.error();
    s.mllp = std::move(*l);
    spdlog::info("HL7 v2 over MLLP{} on {}:{} (lab mapping {})", lab_link_kind(s.lab_security),
                 mo.host, s.mllp->port(), lab_mapping_path(a, ctx.reference_dir));
  }
  if (!a.astm.empty()) {
    AstmOptions ao;
    ao.lab = a.astm_lab;
    ao.security = s.lab_security;
    if (!split_tcp_address(a.astm, ao.host, ao.port)) {
      return make_error("bad_listen", "--astm must be HOST:PORT, e.g. 127.0.0.1:2576.");
    }
    auto l = AstmListener::start(*s.lab_gateway, ao, ctx.clock);
    if (!l) return l.error();
    s.astm = std::move(*l);
    spdlog::info("ASTM E1394 over LIS1-A{} on {}:{}", lab_link_kind(s.lab_security), ao.host,
                 s.astm->port());
  }
  return {};
}

Status start_api(const ServeArgs& a, Server& s) {
  ApiContext api{s.engine.get(), s.producer.get(), s.options.kafka.brokers, s.embedded(), a.topic};
  api.group = a.group;
  api.webhooks = s.webhooks.get();
  api.lab = s.lab_gateway.get();
  api.tokens = s.tokens ? &*s.tokens : nullptr;
  api.refusals = s.refusals.get();
  api.backups = s.backups.get();
  auto started = ApiServer::start(api, s.host, s.port, ApiTls{a.tls_cert, a.tls_key});
  if (!started) return started.error();
  s.api = std::move(*started);
  spdlog::info("HTTP API on {}://{}:{}/  (stock page), /api/stock, /health, /metrics",
               a.tls_cert.empty() ? "http" : "https", s.host, s.api->port());
  spdlog::info("Kafka bootstrap servers: {}  events topic: {}", s.options.kafka.brokers, a.topic);
  if (s.embedded()) {
    spdlog::info("try: kcat -b {} -C -t {} -e    (read the events)", s.options.kafka.brokers,
                 a.topic);
  }
  return {};
}

// In scale-out, the ticker expires only the units of this instance's
// partitions, and only the owner of partition 0 ticks the clock.
ExpiryTickerOptions ticker_options(Engine& engine) {
  ExpiryTickerOptions ticker;
  if (engine.scale_out()) {
    Engine* e = &engine;
    ticker.serves_key = [e](std::string_view key) {
      return e->serves(partition_for_key(key, e->partition_count()));
    };
    ticker.keeps_clock = [e] { return e->serves(0); };
  }
  return ticker;
}

// With --demo, a thread producing the simulated feed until `stop`.
std::thread start_demo_feed(const ServeArgs& a, const CommandContext& ctx, Server& s,
                            const std::atomic<bool>& stop) {
  if (!a.demo) return {};
  DemoOptions d;
  d.hours_per_second = a.demo_speed;
  // A country, not a village: about 190 donations a day across the
  // governorates, two weeks of history within the first seconds, a surge now
  // and then, and small banks kept at par from their regional hub.
  d.donations_per_hour = 8;
  d.red_cell_demand = 0.78;
  d.catch_up_hours_per_second = 24;
  d.start_at = ctx.clock.now() - 14 * kDay;
  d.build_up_days = 5;  // five days at three times the usual collections: stocked shelves
  d.build_up_factor = 3;
  d.surge_per_hour = 0.01;
  d.rebalance_per_hour = 2;
  d.clock = ctx.clock;
  d.supply = ctx.supply;
  return std::thread([&a, &s, &stop, d] {
    DemoFeed feed(*s.ref, *s.producer, a.topic, d);
    spdlog::info(
        "demo feed: simulating donations, tests, transfers, issues and expiries "
        "across {} governorates ({} simulated hour(s) per second)",
        s.ref->governorates().size(), d.hours_per_second);
    feed.run(stop);
  });
}

// After a storage fault RocksDB stays read-only; the offsets stored with the
// state say where to resume, so the process starts again in place (same pid,
// same arguments). Not with the embedded cluster, whose messages live in this
// process.
bool restarts_after(const Status& status, const Server& s) {
  return !status && status.error().code == kRestartNeeded && !s.embedded();
}

int restart(const Error& why, const CommandContext& ctx, Server& s) {
  spdlog::warn("engine: {}; restarting", why.message);
  s.engine.reset();
  s.producer.reset();
  restart_in_place(ctx.argv, ctx.clock);
  return fail(make_error("restart_failed", "The engine could not restart itself."));
}

// Runs the apply loop with the expiry ticker, the webhook sender and the demo
// feed beside it until a signal or a fatal error; then stops them all.
int run_until_stopped(const ServeArgs& a, const CommandContext& ctx, Server& s) {
  std::atomic<bool> side_stop{false};
  ExpiryTicker expiry(s.engine->store(), *s.producer, a.topic, ctx.clock,
                      ticker_options(*s.engine));
  std::thread expiry_thread([&] { expiry.run(side_stop); });
  std::thread webhook_thread([&] { s.webhooks->run(side_stop); });
  std::thread backup_thread([&] { s.backups->run(side_stop); });
  AlertEscalatorOptions escalation;
  if (s.engine->scale_out()) {
    Engine* e = s.engine.get();
    escalation.leads_alerts = [e] { return e->leads_alerts(); };
  }
  AlertEscalator escalator(s.engine->store(), s.engine->routing(), *s.producer, a.topic, ctx.clock,
                           escalation);
  std::thread escalation_thread([&] { escalator.run(side_stop); });
  if (!a.webhooks.empty()) spdlog::info("alerts go to {} webhook(s)", a.webhooks.size());
  spdlog::info("alerts: GET /api/alerts, Kafka topic {}", a.alerts_topic);
  std::thread demo_thread = start_demo_feed(a, ctx, s, side_stop);
  const Status status = s.engine->run(stop_requested());
  side_stop = true;
  s.mllp.reset();  // closes the lab links and joins their threads
  s.astm.reset();
  if (demo_thread.joinable()) demo_thread.join();
  expiry_thread.join();
  webhook_thread.join();
  backup_thread.join();
  escalation_thread.join();
  s.api.reset();
  if (restarts_after(status, s)) return restart(status.error(), ctx, s);
  if (!status) return fail(status.error());
  return 0;
}

int run_serve(const ServeArgs& a, const CommandContext& ctx) {
  install_signal_handlers();
  Server s;
  if (auto st = prepare(a, ctx, s); !st) return fail(st.error());
  if (auto st = open_engine(a, ctx, s); !st) return fail(st.error());
  if (auto st = start_lab_gateway(a, ctx, s); !st) return fail(st.error());
  if (auto st = start_lab_listeners(a, ctx, s); !st) return fail(st.error());
  if (auto st = start_api(a, s); !st) return fail(st.error());
  return run_until_stopped(a, ctx, s);
}

}  // namespace

Subcommand add_serve_command(CLI::App& app, GlobalOptions& global) {
  auto args = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand("serve", "Run the engine and its HTTP API");
  add_serve_options(*serve, *args);
  add_clock_option(*serve, global.clock_start);
  return {serve, [args](const CommandContext& ctx) { return run_serve(*args, ctx); }};
}

}  // namespace hemoledger
