// hemoledger: the command line. Subcommands:
//   serve    run the engine, its HTTP API and (with --demo) the demo feed
//   stock    print stock from a data directory
//   trace    print a donation's units and history
//   rebuild  recompute projections from the journal and compare with live state
//   kafka    run librdkafka's mock cluster on its own, for tests and kcat
//   label    decode ISBT 128 scans and print what they mean as JSON
//   scan     the technician's scanning station (reads scans from stdin)
//   pick     available compatible units, first-expire-first-out
//   token    create API tokens (token new), appending only their hashes
//   audit    who did what to a donation or unit, from the journal
#include <CLI/CLI.hpp>
#include <httplib.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <list>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

#include "engine/server/api.h"
#include "engine/security/audit.h"
#include "engine/security/token_file.h"
#include "engine/io/clock.h"
#include "engine/cli/demo_feed.h"
#include "engine/ledger/engine.h"
#include "engine/ledger/expiry_ticker.h"
#include "engine/kafka/kafka.h"
#include "engine/labs/astm_listener.h"
#include "engine/labs/lab_gateway.h"
#include "engine/labs/mllp_listener.h"
#include "engine/security/refusal_log.h"
#include "engine/io/tls_server.h"
#include "engine/queries/queries.h"
#include "engine/cli/reference_files.h"
#include "engine/cli/station.h"
#include "engine/server/webhooks.h"
#include "connectors/label_command.h"

using namespace hemoledger;  // NOLINT: a program's main file
using nlohmann::json;

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

void install_signal_handlers() {
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
}

int fail(const Error& e) {
  std::cerr << "hemoledger: " << e.message << " [" << e.code << "]\n";
  return 2;
}

bool split_host_port(const std::string& s, std::string& host, int& port) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos) return false;
  host = s.substr(0, colon);
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (...) {
    return false;
  }
  return port >= 0 && port < 65536 && !host.empty();
}

// A RocksDB secondary instance's own files, removed when the reader is done.
struct ScratchDir {
  std::string path = (std::filesystem::temp_directory_path() /
                      ("hemoledger-read-" + std::to_string(getpid())))
                         .string();
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

// Opens the data directory of a possibly running engine for reading.
Result<std::unique_ptr<Store>> open_for_reading(const std::string& data_dir,
                                                const ScratchDir& scratch) {
  if (!std::filesystem::exists(data_dir + "/db/CURRENT")) {
    return make_error("no_data", "No hemoledger data in " + data_dir + " (use --data-dir).");
  }
  return Store::open_secondary(data_dir + "/db", scratch.path);
}

struct ServeArgs {
  std::string brokers, data_dir = "hemoledger-data", listen = "127.0.0.1:8080", reference_dir;
  std::vector<std::string> properties;
  std::string topic = "hemoledger.events", rejected_topic = "hemoledger.rejected",
              group = "hemoledger";
  int partitions = 6;
  std::size_t max_batch = 5000;
  bool demo = false;
  double demo_speed = 1.0;
  std::string bootstrap_file;
  std::string alerts_topic = "hemoledger.alerts";
  std::vector<std::string> webhooks;
  SupplyConfig supply;
  std::string mllp, astm, lab_mapping;  // lab listeners (docs/connectors.md)
  std::string mllp_lab, astm_lab;         // the lab each listener speaks for
  std::string tokens;                     // API token file (docs/security.md)
  std::string tls_cert, tls_key;          // HTTPS for the API (and TLS for the lab links)
  std::string lab_tls_cert, lab_tls_key;  // TLS for the lab links, if not --tls-cert's
  std::string lab_client_ca;              // mutual TLS on the lab links (docs/security.md)
  std::string instance, advertise;        // scale-out (docs/scale-out.md)
  std::string peer_token_file;
  Clock clock;  // --clock-start, else the real clock
};

// --clock-start for the commands that read the current time (serve, scan,
// pick, reagents): the one clock starts at that instant and runs forward in
// real time (docs/reliability.md, "Time"). HEMOLEDGER_CLOCK_START is read when the
// option is not given.
void add_clock_option(CLI::App* cmd, std::string& start) {
  cmd->add_option("--clock-start", start,
                  "Start the clock at this RFC 3339 instant and let it run forward in real time "
                  "(tests, replaying a past scenario); default: the real clock")
      ->envname("HEMOLEDGER_CLOCK_START");
}

// The command line, for a self-restart (execv), and the arguments it replaces.
std::vector<char*> g_argv;
std::list<std::string> g_restart_args;

// A self-restart keeps the clock where it is: --clock-start becomes its reading now.
void keep_clock_across_restart(const Clock& clock) {
  if (clock.is_real()) return;
  const std::string now = format_rfc3339(clock.now());
  setenv("HEMOLEDGER_CLOCK_START", now.c_str(), 1);
  for (std::size_t i = 0; i < g_argv.size(); ++i) {
    const std::string arg = g_argv[i] ? g_argv[i] : "";
    if (arg == "--clock-start" && i + 1 < g_argv.size()) {
      g_restart_args.push_back(now);
      g_argv[i + 1] = g_restart_args.back().data();
    } else if (arg.rfind("--clock-start=", 0) == 0) {
      g_restart_args.push_back("--clock-start=" + now);
      g_argv[i] = g_restart_args.back().data();
    }
  }
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The lab mapping: --lab-mapping, else lab_mapping.json of the reference
// directory, else the shipped data/lab_mapping.json.
std::string lab_mapping_path(const ServeArgs& a) {
  if (!a.lab_mapping.empty()) return a.lab_mapping;
  std::error_code ec;
  const std::string beside = a.reference_dir + "/lab_mapping.json";
  if (std::filesystem::is_regular_file(beside, ec)) return beside;
  return default_reference_dir() + "/lab_mapping.json";
}

// The operator's supply and alert settings (docs/alerts.md), or the defaults.
Result<SupplyConfig> load_supply_config(const std::string& path) {
  if (path.empty()) return SupplyConfig{};
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error("bad_supply_config", "Cannot read the supply settings " + path + ".");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto c = parse_supply_config(text);
  if (!c) return make_error(c.error().code, path + ": " + c.error().message);
  return c;
}

// How a lab link is secured, for the start-up log.
std::string lab_link_kind(const LabLinkSecurity& s) {
  if (!s.tls) return " (plain TCP)";
  return s.tls->requires_client_certificate() ? " (mutual TLS)" : " (TLS)";
}

int serve(const ServeArgs& a) {
  install_signal_handlers();
  auto ref = load_reference_data(a.reference_dir);
  if (!ref) return fail(ref.error());
  std::string host;
  int port = 0;
  if (!split_host_port(a.listen, host, port)) {
    return fail(make_error("bad_listen", "--listen must be HOST:PORT, e.g. 127.0.0.1:8080."));
  }
  EngineOptions opt;
  opt.data_dir = a.data_dir;
  opt.clock = a.clock;
  if (!a.instance.empty()) {
    if (a.brokers.empty()) {
      return fail(make_error(
          "scale_out_needs_brokers",
          "--instance shares a consumer group's partitions with other instances, so they need "
          "one Kafka cluster: start one (hemoledger kafka --brokers 3) and give --brokers."));
    }
    opt.instance = a.instance;
    opt.advertised_url = a.advertise.empty()
                             ? std::string(a.tls_cert.empty() ? "http://" : "https://") + a.listen
                             : a.advertise;
  }
  opt.kafka.brokers = a.brokers;
  opt.kafka.events_topic = a.topic;
  opt.kafka.rejected_topic = a.rejected_topic;
  opt.kafka.alerts_topic = a.alerts_topic;
  opt.kafka.group = a.group;
  opt.supply = a.supply;
  for (const auto& url : a.webhooks) {
    if (auto s = check_webhook_url(url); !s) return fail(s.error());
  }
  opt.kafka.partitions = a.partitions;
  opt.max_batch = a.max_batch;
  for (const auto& p : a.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) {
      return fail(make_error("bad_property", "-X takes key=value, got " + p + "."));
    }
    opt.kafka.properties[p.substr(0, eq)] = p.substr(eq + 1);
  }
  std::unique_ptr<MockCluster> mock;
  const bool embedded = a.brokers.empty();
  if (embedded) {
    auto m = MockCluster::start(1, {a.topic, a.rejected_topic, a.alerts_topic, opt.kafka.partials_topic},
                                a.partitions);
    if (!m) return fail(m.error());
    mock = std::move(*m);
    opt.kafka.brokers = mock->bootstrap();
    opt.fresh_cluster = true;
    spdlog::warn(
        "no --brokers given: started the embedded Kafka (librdkafka mock cluster) at {}. It is "
        "for development and demos: it keeps messages in memory and forgets them on exit. The "
        "RocksDB journal in {} is the durable record.",
        mock->bootstrap(), a.data_dir);
  }
  if (!a.bootstrap_file.empty()) std::ofstream(a.bootstrap_file) << opt.kafka.brokers << "\n";
  std::filesystem::create_directories(a.data_dir);

  std::optional<TokenFile> tokens;
  if (!a.tokens.empty()) {
    auto t = TokenFile::load(a.tokens, &*ref);
    if (!t) return fail(t.error());
    tokens = std::move(*t);
    if ((!a.mllp.empty() || !a.astm.empty()) && a.lab_client_ca.empty()) {
      return fail(make_error("unsecured_lab_link",
                             "With --tokens, --mllp and --astm need mutual TLS: --lab-client-ca "
                             "FILE (the CA of the labs' client certificates, whose CN names a lab "
                             "token) and a certificate (--tls-cert/--tls-key or "
                             "--lab-tls-cert/--lab-tls-key); docs/security.md."));
    }
    spdlog::info("API tokens: {} from {}; every endpoint but /health and / needs one",
                 tokens->entries().size(), a.tokens);
  } else {
    spdlog::warn("no --tokens given: the API is OPEN; anyone who can reach {} may read and write "
                 "events{}. Give --tokens FILE (docs/security.md).",
                 a.listen,
                 is_loopback(host) ? " (loopback only)" : ", and it listens beyond this machine");
  }
  for (const auto* lab : {&a.mllp_lab, &a.astm_lab}) {
    if (!lab->empty() && ref->facility(*lab) == nullptr) {
      return fail(make_error("bad_listen", "No facility " + *lab + " in the reference data."));
    }
  }
  if (a.tls_cert.empty() != a.tls_key.empty()) {
    return fail(make_error("bad_tls", "--tls-cert and --tls-key go together."));
  }
  if (a.lab_tls_cert.empty() != a.lab_tls_key.empty()) {
    return fail(make_error("bad_tls", "--lab-tls-cert and --lab-tls-key go together."));
  }
  // The lab links speak TLS with --lab-tls-cert, else with the API's --tls-cert.
  LabLinkSecurity lab_security;
  const TlsFiles lab_tls{a.lab_tls_cert.empty() ? a.tls_cert : a.lab_tls_cert,
                         a.lab_tls_cert.empty() ? a.tls_key : a.lab_tls_key, a.lab_client_ca};
  if (!a.lab_client_ca.empty() && lab_tls.cert_file.empty()) {
    return fail(make_error("bad_tls", "--lab-client-ca needs a certificate for the lab links: "
                                      "--tls-cert/--tls-key or --lab-tls-cert/--lab-tls-key."));
  }
  if (!lab_tls.cert_file.empty() && (!a.mllp.empty() || !a.astm.empty())) {
    auto ctx = TlsServerContext::create(lab_tls);
    if (!ctx) return fail(ctx.error());
    lab_security.tls = std::move(*ctx);
  }
  lab_security.tokens = tokens ? &*tokens : nullptr;

  auto producer = Producer::create(opt.kafka);
  if (!producer) return fail(producer.error());
  auto engine = Engine::open(opt, *ref, producer->get());
  if (!engine) return fail(engine.error());
  // 401s and 403s of the API, and refused lab connections, are kept under z/.
  RefusalLog refusals((*engine)->store(), a.clock);
  lab_security.refusals = &refusals;

  WebhookOptions hooks;
  hooks.urls = a.webhooks;
  WebhookSender webhooks((*engine)->store(), hooks);
  // The lab gateway serves the listeners and the lab HTTP endpoints. Without
  // a listener or --lab-mapping, a mapping that does not fit the reference
  // data (e.g. data/egypt) only disables the lab endpoints.
  std::unique_ptr<LabGateway> lab_gateway;
  if (auto mapping = load_lab_mapping(lab_mapping_path(a), *ref); mapping) {
    LabGatewayOptions lo;
    if (!a.peer_token_file.empty()) {
      std::ifstream in(a.peer_token_file);
      if (!std::getline(in, lo.peer_token) || lo.peer_token.empty()) {
        return fail(make_error("bad_peer_token", "Cannot read a token from " + a.peer_token_file + "."));
      }
    }
    lab_gateway = std::make_unique<LabGateway>(**engine, **producer, a.topic, std::move(*mapping), lo);
  } else if (!a.mllp.empty() || !a.astm.empty() || !a.lab_mapping.empty()) {
    return fail(mapping.error());
  } else {
    spdlog::warn("lab endpoints disabled: {}", mapping.error().message);
  }
  std::unique_ptr<MllpListener> mllp;
  if (!a.mllp.empty()) {
    MllpOptions mo;
    mo.lab = a.mllp_lab;
    mo.security = lab_security;
    if (!split_tcp_address(a.mllp, mo.host, mo.port)) {
      return fail(make_error("bad_listen", "--mllp must be HOST:PORT, e.g. 127.0.0.1:2575."));
    }
    auto l = MllpListener::start(*lab_gateway, mo, a.clock);
    if (!l) return fail(l.error());
    mllp = std::move(*l);
    spdlog::info("HL7 v2 over MLLP{} on {}:{} (lab mapping {})", lab_link_kind(lab_security),
                 mo.host, mllp->port(), lab_mapping_path(a));
  }
  std::unique_ptr<AstmListener> astm;
  if (!a.astm.empty()) {
    AstmOptions ao;
    ao.lab = a.astm_lab;
    ao.security = lab_security;
    if (!split_tcp_address(a.astm, ao.host, ao.port)) {
      return fail(make_error("bad_listen", "--astm must be HOST:PORT, e.g. 127.0.0.1:2576."));
    }
    auto l = AstmListener::start(*lab_gateway, ao, a.clock);
    if (!l) return fail(l.error());
    astm = std::move(*l);
    spdlog::info("ASTM E1394 over LIS1-A{} on {}:{}", lab_link_kind(lab_security), ao.host,
                 astm->port());
  }
  ApiContext ctx{engine->get(), producer->get(), opt.kafka.brokers, embedded, a.topic};
  ctx.group = a.group;
  ctx.webhooks = &webhooks;
  ctx.lab = lab_gateway.get();
  ctx.tokens = tokens ? &*tokens : nullptr;
  ctx.refusals = &refusals;
  auto api = ApiServer::start(ctx, host, port, ApiTls{a.tls_cert, a.tls_key});
  if (!api) return fail(api.error());
  spdlog::info("HTTP API on {}://{}:{}/  (stock page), /api/stock, /health, /metrics",
               a.tls_cert.empty() ? "http" : "https", host, (*api)->port());
  spdlog::info("Kafka bootstrap servers: {}  events topic: {}", opt.kafka.brokers, a.topic);
  if (embedded) {
    spdlog::info("try: kcat -b {} -C -t {} -e    (read the events)", opt.kafka.brokers, a.topic);
  }

  std::atomic<bool> demo_stop{false};
  ExpiryTickerOptions ticker;
  if ((*engine)->scale_out()) {
    Engine* e = engine->get();
    ticker.serves_key = [e](std::string_view key) {
      return e->serves(partition_for_key(key, e->partition_count()));
    };
    ticker.keeps_clock = [e] { return e->serves(0); };
  }
  ExpiryTicker expiry((*engine)->store(), **producer, a.topic, a.clock, ticker);
  std::thread expiry_thread([&] { expiry.run(demo_stop); });
  std::thread webhook_thread([&] { webhooks.run(demo_stop); });
  if (!a.webhooks.empty()) spdlog::info("alerts go to {} webhook(s)", a.webhooks.size());
  spdlog::info("alerts: GET /api/alerts, Kafka topic {}", a.alerts_topic);
  std::thread demo_thread;
  if (a.demo) {
    DemoOptions d;
    d.hours_per_second = a.demo_speed;
    d.clock = a.clock;
    demo_thread = std::thread([&] {
      DemoFeed feed(*ref, **producer, a.topic, d);
      spdlog::info("demo feed: simulating donations, tests, transfers, issues and expiries "
                   "across {} governorates ({} simulated hour(s) per second)",
                   ref->governorates().size(), d.hours_per_second);
      feed.run(demo_stop);
    });
  }
  auto status = (*engine)->run(g_stop);
  const bool restart = !status && status.error().code == kRestartNeeded && !embedded;
  demo_stop = true;
  mllp.reset();  // closes the lab links and joins their threads
  astm.reset();
  if (demo_thread.joinable()) demo_thread.join();
  expiry_thread.join();
  webhook_thread.join();
  api->reset();
  if (restart) {
    // After a storage fault RocksDB stays read-only; the offsets stored with
    // the state say where to resume, so the process starts again in place
    // (same pid, same arguments). Not with the embedded cluster, whose
    // messages live in this process.
    spdlog::warn("engine: {}; restarting", status.error().message);
    engine->reset();
    producer->reset();
    keep_clock_across_restart(a.clock);
    g_argv.push_back(nullptr);
    execv("/proc/self/exe", g_argv.data());
    return fail(make_error("restart_failed", "The engine could not restart itself."));
  }
  if (!status) return fail(status.error());
  return 0;
}

void print_stock(const json& s) {
  std::printf("total units in stock: %lld", static_cast<long long>(s["total"].get<std::int64_t>()));
  for (const auto& [k, v] : s["by_status"].items()) {
    std::printf("  %s %lld", k.c_str(), static_cast<long long>(v.get<std::int64_t>()));
  }
  std::printf("\n");
  for (const auto& g : s["governorates"]) {
    std::printf("\n%s  %s / %s   total %lld\n", g["code"].get<std::string>().c_str(),
                g["name_en"].get<std::string>().c_str(), g["name_ar"].get<std::string>().c_str(),
                static_cast<long long>(g["total"].get<std::int64_t>()));
    for (const auto& f : g["facilities"]) {
      std::printf("  %-8s %s\n", f["code"].get<std::string>().c_str(),
                  f["name_en"].get<std::string>().c_str());
      for (const auto& [cat, groups] : f["stock"].items()) {
        for (const auto& [grp, statuses] : groups.items()) {
          std::string line;
          for (const auto& [st, n] : statuses.items()) {
            line += (line.empty() ? "" : ", ") + st + " " + std::to_string(n.get<std::int64_t>());
          }
          std::printf("    %-12s %-4s %s\n", cat.c_str(), grp.c_str(), line.c_str());
        }
      }
    }
  }
}

void print_trace(const json& d) {
  std::printf("donation %s  donor %s  collected %s at %s\n", d["din"].get<std::string>().c_str(),
              d["donor"].get<std::string>().c_str(), d["collected_at"].get<std::string>().c_str(),
              d["collected_by"].get<std::string>().c_str());
  std::printf("blood group %s (labelled %s)%s\n", d["abo_rh"].get<std::string>().c_str(),
              d["labelled_abo_rh"].get<std::string>().c_str(),
              d["screen_positive"].get<bool>() ? "  POSITIVE SCREEN" : "");
  if (!d["release_waits_for"].is_null()) {
    std::printf("release waits for: %s\n", d["release_waits_for"].get<std::string>().c_str());
  }
  std::printf("\nunits:\n");
  for (const auto& u : d["units"]) {
    std::printf("  %s %-10s %-12s held by %-8s expires %s%s\n",
                u["product"].get<std::string>().c_str(), u["category"].get<std::string>().c_str(),
                u["status"].get<std::string>().c_str(), u["holder"].get<std::string>().c_str(),
                u["expires_at"].get<std::string>().c_str(),
                u.contains("destination")
                    ? (" -> " + u["destination"].get<std::string>()).c_str()
                    : "");
  }
  std::printf("\nhistory:\n");
  for (const auto& h : d["history"]) {
    std::printf("  %s  %-20s %-8s %-9s %s\n", h["at"].get<std::string>().c_str(),
                h["type"].get<std::string>().c_str(), h["facility"].get<std::string>().c_str(),
                h.value("product", "").c_str(), h.value("detail", "").c_str());
  }
}

}  // namespace

int main(int argc, char** argv) {
  g_argv.assign(argv, argv + argc);
  CLI::App app{"hemoledger: event-sourced blood bank and lab inventory engine"};
  app.require_subcommand(1);
  std::string reference_dir = default_reference_dir();
  app.add_option("--reference-dir", reference_dir,
                 "Reference data: a directory (governorates.csv, facilities.csv, optional "
                 "neighbours.csv, products.csv, tests.csv) or an operator's .json file "
                 "(docs/reference-data.md); data/egypt/ is a second shipped set");
  std::string supply_config;
  app.add_option("--supply-config", supply_config,
                 "Supply and alert settings (JSON: window_days, recover_factor, thresholds, "
                 "expiring_hours; docs/alerts.md)");

  ServeArgs sa;
  auto* serve_cmd = app.add_subcommand("serve", "Run the engine and its HTTP API");
  serve_cmd->add_option("--brokers", sa.brokers,
                        "Kafka bootstrap servers; without it the embedded mock cluster is started");
  serve_cmd->add_option("--data-dir", sa.data_dir, "Where RocksDB keeps the journal and state")
      ->capture_default_str();
  serve_cmd->add_option("--listen", sa.listen,
                        "HTTP API address (HOST:PORT); loopback unless an address is given here")
      ->capture_default_str();
  serve_cmd->add_option("--tokens", sa.tokens,
                        "API token file (JSON of names, roles, facilities and SHA-256 hashes; "
                        "hemoledger token new); without it the API is open (docs/security.md)");
  serve_cmd->add_option("--tls-cert", sa.tls_cert, "PEM certificate: the API speaks HTTPS only");
  serve_cmd->add_option("--tls-key", sa.tls_key, "PEM private key of --tls-cert");
  serve_cmd->add_option("--mllp-lab", sa.mllp_lab, "The lab facility the MLLP link speaks for");
  serve_cmd->add_option("--astm-lab", sa.astm_lab, "The lab facility the ASTM link speaks for");
  serve_cmd->add_option("--lab-tls-cert", sa.lab_tls_cert,
                        "PEM certificate of the MLLP and ASTM links (default: --tls-cert)");
  serve_cmd->add_option("--lab-tls-key", sa.lab_tls_key, "PEM private key of --lab-tls-cert");
  serve_cmd->add_option("--lab-client-ca", sa.lab_client_ca,
                        "PEM CA of the labs' client certificates: mutual TLS on the lab links, "
                        "the CN naming a token (required with --tokens and --mllp/--astm)");
  serve_cmd->add_option("-X,--kafka-property", sa.properties,
                        "librdkafka property key=value (security.protocol, sasl.*, ssl.*, ...)");
  serve_cmd->add_option("--topic", sa.topic, "Events topic")->capture_default_str();
  serve_cmd->add_option("--rejected-topic", sa.rejected_topic, "Rejections topic")
      ->capture_default_str();
  serve_cmd->add_option("--group", sa.group, "Kafka consumer group")->capture_default_str();
  serve_cmd->add_option("--instance", sa.instance,
                        "Scale-out: this instance's name in the group; partitions move between "
                        "instances (docs/scale-out.md). Needs --brokers");
  serve_cmd->add_option("--advertise", sa.advertise,
                        "Scale-out: the URL other instances send clients to (default "
                        "http://LISTEN)");
  serve_cmd->add_option("--peer-token-file", sa.peer_token_file,
                        "Scale-out with --tokens: a file holding the token this instance shows "
                        "the others when its lab gateway asks them for a verdict");
  serve_cmd->add_option("--partitions", sa.partitions, "Partitions of the embedded topics")
      ->capture_default_str();
  serve_cmd->add_option("--max-batch", sa.max_batch, "Most messages per RocksDB commit")
      ->capture_default_str();
  serve_cmd->add_flag("--demo", sa.demo, "Produce a simulated live feed");
  serve_cmd->add_option("--demo-speed", sa.demo_speed, "Simulated hours per second")
      ->capture_default_str();
  serve_cmd->add_option("--bootstrap-file", sa.bootstrap_file,
                        "Write the Kafka bootstrap servers to this file");
  serve_cmd->add_option("--alerts-topic", sa.alerts_topic, "Kafka topic the alerts go to")
      ->capture_default_str();
  serve_cmd->add_option("--mllp", sa.mllp,
                        "Receive HL7 v2 lab results over MLLP on HOST:PORT (docs/connectors.md)");
  serve_cmd->add_option("--astm", sa.astm,
                        "Receive ASTM E1394 results over LIS1-A on HOST:PORT");
  serve_cmd->add_option("--lab-mapping", sa.lab_mapping,
                        "Lab mapping file (default: lab_mapping.json of the reference data)");
  serve_cmd->add_option("--webhook", sa.webhooks,
                        "POST every alert change to this http:// URL (repeatable)");
  std::string clock_start;
  add_clock_option(serve_cmd, clock_start);

  std::string data_dir = "hemoledger-data";
  std::map<std::string, std::string> filters;
  bool as_json = false;
  auto* stock_cmd = app.add_subcommand("stock", "Print stock by governorate and facility");
  stock_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  for (const char* f : {"governorate", "facility", "category", "abo_rh", "status"}) {
    stock_cmd->add_option_function<std::string>(
        std::string("--") + f, [&filters, f](const std::string& v) { filters[f] = v; },
        std::string("Filter by ") + f);
  }
  stock_cmd->add_flag("--json", as_json, "Print the same JSON as GET /api/stock");
  std::string stock_at_text;
  stock_cmd->add_option("--at", stock_at_text,
                        "Stock as it was at this instant (RFC 3339), replayed from the journal");

  std::string din, product;
  auto* trace_cmd = app.add_subcommand("trace", "Print a donation's units and history");
  trace_cmd->add_option("DIN", din, "13-character donation number")->required();
  trace_cmd->add_option("PRODUCT", product, "8-character product code (optional)");
  trace_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  trace_cmd->add_flag("--json", as_json, "Print the same JSON as GET /api/units/DIN");

  std::string pick_facility, pick_category, pick_group;
  auto* pick_cmd = app.add_subcommand(
      "pick", "List available units compatible with a patient, first-expire-first-out");
  pick_cmd->add_option("--facility", pick_facility, "Facility code")->required();
  pick_cmd->add_option("--category", pick_category, "red_cells, platelets, plasma, ...");
  pick_cmd->add_option("--abo-rh", pick_group, "The patient's ABO/RhD group, e.g. O-");
  pick_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  pick_cmd->add_flag("--json", as_json, "Print the same JSON as GET /api/pick");
  add_clock_option(pick_cmd, clock_start);

  bool check_only = false;
  auto* rebuild_cmd =
      app.add_subcommand("rebuild", "Recompute projections from the journal (engine stopped)");
  rebuild_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  rebuild_cmd->add_flag("--check", check_only, "Only compare with the live state; change nothing");

  int mock_brokers = 1, mock_partitions = 6;
  std::string mock_file;
  auto* kafka_cmd = app.add_subcommand("kafka", "Run librdkafka's mock cluster until stopped");
  kafka_cmd->add_option("--brokers", mock_brokers, "Number of mock brokers")->capture_default_str();
  kafka_cmd->add_option("--partitions", mock_partitions, "Partitions per topic")
      ->capture_default_str();
  kafka_cmd->add_option("--bootstrap-file", mock_file, "Write the bootstrap servers here");

  std::vector<std::string> label_data;
  auto* label_cmd = app.add_subcommand("label", "Decode ISBT 128 scans and print them as JSON");
  label_cmd->add_option("DATA", label_data, "Scanned strings, e.g. =G12341765432170")->required();

  StationConfig station;
  std::string station_action = "issue", station_patient;
  auto* scan_cmd = app.add_subcommand(
      "scan", "The scanning station: reads scans line by line from standard input");
  scan_cmd->add_option("--facility", station.facility, "This bench's facility")->required();
  scan_cmd->add_option("--action", station_action,
                       "collect, receive, release, reserve, issue, return, transfuse, discard, "
                       "dispatch or receive-transfer")
      ->capture_default_str();
  scan_cmd->add_option("--patient-abo-rh", station_patient, "Patient group for reserve and issue");
  scan_cmd->add_option("--to", station.to, "Destination facility for dispatch");
  scan_cmd->add_option("--reason", station.reason, "Discard reason code");
  scan_cmd->add_option("--api", station.api, "The engine's HTTP API")->capture_default_str();
  scan_cmd->add_option("--actor", station.actor, "Who is scanning (recorded with each event)");
  scan_cmd->add_option("--station", station.station, "This bench's name (recorded)");
  scan_cmd->add_option("--token", station.token,
                       "API token (default: the HEMOLEDGER_TOKEN environment variable)");
  scan_cmd->add_option("--ca-cert", station.ca_cert,
                       "For an https:// API: the CA certificate (PEM) to trust");
  add_clock_option(scan_cmd, clock_start);

  auto* token_cmd = app.add_subcommand("token", "Manage API tokens (docs/security.md)");
  token_cmd->require_subcommand(1);
  Principal new_principal;
  std::string new_role, token_file;
  auto* token_new_cmd = token_cmd->add_subcommand(
      "new", "Create a token: prints it once and appends only its SHA-256 to the token file");
  token_new_cmd->add_option("--name", new_principal.name, "Its name, recorded as the actor")
      ->required();
  token_new_cmd->add_option("--role", new_role, "station, lab, coordinator or admin")->required();
  token_new_cmd->add_option("--facility", new_principal.facility,
                            "The facility of a station or lab token");
  token_new_cmd->add_option("--tokens", token_file, "The token file (created if missing)")
      ->required();

  std::string audit_din, audit_product;
  bool audit_refusals = false;
  auto* audit_cmd = app.add_subcommand(
      "audit", "Who did what to a donation or unit: accepted and rejected; or --refusals");
  audit_cmd->add_option("DIN", audit_din, "13-character donation number");
  audit_cmd->add_flag("--refusals", audit_refusals,
                      "List the refused API requests (401, 403) and lab connections instead");
  audit_cmd->add_option("PRODUCT", audit_product, "8-character product code (optional)");
  audit_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  audit_cmd->add_flag("--json", as_json, "Print JSON");

  std::string echo_listen = "127.0.0.1:9090";
  auto* echo_cmd = app.add_subcommand(
      "webhook-echo", "Receive alert webhooks and print each change, to try --webhook out");
  echo_cmd->add_option("--listen", echo_listen, "HOST:PORT to receive on")->capture_default_str();

  std::map<std::string, std::string> reagent_filters;
  auto* reagents_cmd =
      app.add_subcommand("reagents", "Print laboratory reagent stock, days of cover and lots");
  reagents_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  for (const char* f : {"governorate", "facility", "reagent"}) {
    reagents_cmd->add_option_function<std::string>(
        std::string("--") + f, [&reagent_filters, f](const std::string& v) { reagent_filters[f] = v; },
        std::string("Filter by ") + f);
  }
  reagents_cmd->add_flag("--json", as_json, "Print the same JSON as GET /api/reagents");
  add_clock_option(reagents_cmd, clock_start);

  std::map<std::string, std::string> alert_filters;
  auto* alerts_cmd = app.add_subcommand("alerts", "Print open (or cleared) alerts");
  alerts_cmd->add_option("--data-dir", data_dir)->capture_default_str();
  for (const char* f : {"status", "kind", "severity", "governorate", "facility", "category",
                        "abo_rh", "since", "limit"}) {
    alerts_cmd->add_option_function<std::string>(
        std::string("--") + f, [&alert_filters, f](const std::string& v) { alert_filters[f] = v; },
        std::string("Filter by ") + f);
  }
  alerts_cmd->add_flag("--json", as_json, "Print the same JSON as GET /api/alerts");

  CLI11_PARSE(app, argc, argv);
  sa.reference_dir = reference_dir;
  auto clock = Clock::from_option(clock_start);
  if (!clock) return fail(clock.error());
  sa.clock = *clock;
  station.clock = *clock;
  auto supply = load_supply_config(supply_config);
  if (!supply) return fail(supply.error());
  sa.supply = *supply;

  if (*serve_cmd) return serve(sa);

  if (*label_cmd) return run_label_command(label_data, std::cout, std::cerr);

  if (*echo_cmd) {
    std::string host;
    int port = 0;
    if (!split_host_port(echo_listen, host, port)) {
      return fail(make_error("bad_listen", "--listen must be HOST:PORT, e.g. 127.0.0.1:9090."));
    }
    install_signal_handlers();
    httplib::Server svr;
    svr.Post(".*", [](const httplib::Request& req, httplib::Response& res) {
      const json j = json::parse(req.body, nullptr, false);
      if (j.is_object() && j["alert"].is_object()) {
        std::printf("#%s %-9s %-5s %s\n", req.get_header_value("X-Hemoledger-Alert-Seq").c_str(),
                    j.value("action", "").c_str(), j["alert"].value("severity", "").c_str(),
                    j["alert"].value("message", "").c_str());
      } else {
        std::printf("(not an alert change) %s\n", req.body.substr(0, 200).c_str());
      }
      std::fflush(stdout);
      res.status = 204;
    });
    if (!svr.bind_to_port(host.c_str(), port)) {
      return fail(make_error("listen_failed", "Cannot listen on " + echo_listen + "."));
    }
    std::printf("receiving alert webhooks at http://%s/ (Ctrl-C to stop)\n", echo_listen.c_str());
    std::fflush(stdout);
    std::thread stopper([&] {
      while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      svr.stop();
    });
    svr.listen_after_bind();
    stopper.join();
    return 0;
  }

  if (*scan_cmd) {
    if (station.token.empty()) {
      if (const char* t = std::getenv("HEMOLEDGER_TOKEN")) station.token = t;
    }
    auto action = parse_station_action(station_action);
    if (!action) return fail(action.error());
    station.action = *action;
    if (!station_patient.empty()) {
      auto g = parse_abo_rh(station_patient);
      if (!g) return fail(make_error("bad_station", "Unknown patient group " + station_patient + "."));
      station.patient = *g;
    }
    station.terminal = isatty(STDOUT_FILENO) != 0;
    if (auto s = validate(station); !s) return fail(s.error());
    if (station.terminal) {
      std::cout << "hemoledger station at " << station.facility << ": " << station_action
                << ". Scan each unit's labels (DIN, product, blood group, expiry), or one 2-D "
                   "label. Empty line: start the unit again. Ctrl-D: end.\n";
    }
    return run_station(station, std::cin, std::cout) == 0 ? 0 : 1;
  }

  if (*kafka_cmd) {
    install_signal_handlers();
    auto m = MockCluster::start(mock_brokers,
                                {sa.topic, sa.rejected_topic, sa.alerts_topic,
                                 KafkaConfig{}.partials_topic},
                                mock_partitions);
    if (!m) return fail(m.error());
    std::printf("%s\n", (*m)->bootstrap().c_str());
    std::fflush(stdout);
    if (!mock_file.empty()) std::ofstream(mock_file) << (*m)->bootstrap() << "\n";
    while (!g_stop) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return 0;
  }

  auto ref = load_reference_data(reference_dir);
  if (!ref) return fail(ref.error());

  if (*token_new_cmd) {
    const auto role = parse_role(new_role);
    if (!role) {
      return fail(make_error("bad_role", "--role must be station, lab, coordinator or admin."));
    }
    new_principal.role = *role;
    auto token = add_token(token_file, new_principal, &*ref);
    if (!token) return fail(token.error());
    std::cerr << "token " << new_principal.name << " (" << to_string(*role)
              << (new_principal.facility.empty() ? "" : " at " + new_principal.facility)
              << ") added to " << token_file
              << "; it is shown once, here, and stored nowhere:\n";
    std::cout << *token << "\n";
    return 0;
  }

  if (*rebuild_cmd) {
    auto store = Store::open(data_dir + "/db");
    if (!store) return fail(store.error());
    auto r = rebuild(**store, *ref, Rules{}, !check_only, *supply);
    if (!r) return fail(r.error());
    std::printf("replayed %llu events into %llu donations and %llu reagent lots in %.3f s\n",
                static_cast<unsigned long long>(r->events),
                static_cast<unsigned long long>(r->donations),
                static_cast<unsigned long long>(r->reagent_lots), r->seconds);
    std::printf("rebuilt state %s the live state\n", r->equal ? "equals" : "DIFFERS FROM");
    for (const auto& d : r->differences) std::printf("  %s\n", d.c_str());
    if (!check_only && !r->equal) std::printf("the projections were replaced by the rebuilt ones\n");
    return r->equal ? 0 : 1;
  }

  const ScratchDir scratch;
  auto store = open_for_reading(data_dir, scratch);
  if (!store) return fail(store.error());
  if (*stock_cmd) {
    auto f = parse_stock_filter(filters, *ref);
    if (!f) return fail(f.error());
    Result<StockTable> t = StockTable{};
    if (stock_at_text.empty()) {
      t = total_stock(**store);
    } else {
      auto at = parse_rfc3339(stock_at_text);
      if (!at) return fail(at.error());
      t = stock_at(**store, *ref, Rules{}, *at);
    }
    if (!t) return fail(t.error());
    const json s = stock_json(*t, *f, *ref);
    if (as_json) std::printf("%s\n", s.dump(2).c_str());
    else print_stock(s);
    return 0;
  }
  if (*pick_cmd) {
    Category category = Category::unknown;
    if (!pick_category.empty() && !parse_category(pick_category, category)) {
      return fail(make_error("bad_filter", "Unknown category " + pick_category + "."));
    }
    AboRh patient = AboRh::unknown;
    if (!pick_group.empty()) {
      auto g = parse_abo_rh(pick_group);
      if (!g) return fail(make_error("bad_filter", "Unknown blood group " + pick_group + "."));
      patient = *g;
    }
    auto j = pick_json(store_picture(**store), *ref, pick_facility, category, patient, clock->now());
    if (!j) return fail(j.error());
    if (as_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return 0;
    }
    std::printf("available at %s, soonest expiry first:\n", pick_facility.c_str());
    for (const auto& u : (*j)["units"]) {
      std::printf("  %s %s  %-10s %-4s expires %s (%lld h)\n", u["din"].get<std::string>().c_str(),
                  u["product"].get<std::string>().c_str(), u["category"].get<std::string>().c_str(),
                  u["abo_rh"].get<std::string>().c_str(), u["expires_at"].get<std::string>().c_str(),
                  static_cast<long long>(u["hours_left"].get<std::int64_t>()));
    }
    if ((*j)["units"].empty()) std::printf("  none\n");
    if ((*j)["expired_not_recorded"].get<int>() > 0) {
      std::printf("warning: %d unit(s) here are past expiry but not yet recorded as expired\n",
                  (*j)["expired_not_recorded"].get<int>());
    }
    return 0;
  }
  if (*reagents_cmd) {
    auto f = parse_reagent_filter(reagent_filters, *ref);
    if (!f) return fail(f.error());
    auto j = reagents_json(store_picture(**store), *ref, *f, clock->now(), supply->window_days);
    if (!j) return fail(j.error());
    if (as_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return 0;
    }
    for (const auto& g : (*j)["governorates"]) {
      for (const auto& fac : g["facilities"]) {
        std::printf("%s  %s\n", fac["code"].get<std::string>().c_str(),
                    fac["name_en"].get<std::string>().c_str());
        for (const auto& r : fac["reagents"]) {
          const std::string cover = r["days_of_cover"].is_null()
                                        ? std::string("no recent use")
                                        : r["days_of_cover"].dump() + " days of cover";
          std::printf("  %-15s %6lld %-6s %s%s; use first: %s\n",
                      r["reagent"].get<std::string>().c_str(),
                      static_cast<long long>(r["on_hand"].get<std::int64_t>()),
                      r["unit"].get<std::string>().c_str(), cover.c_str(),
                      r["below_min_cover"].get<bool>() ? " (BELOW MINIMUM)" : "",
                      r["use_first"].is_null() ? "none" : r["use_first"].get<std::string>().c_str());
        }
      }
    }
    if ((*j)["governorates"].empty()) std::printf("no reagent stock recorded\n");
    return 0;
  }
  if (*alerts_cmd) {
    auto f = parse_alert_filter(alert_filters, *ref);
    if (!f) return fail(f.error());
    auto j = alerts_json(**store, *f);
    if (!j) return fail(j.error());
    if (as_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return 0;
    }
    const json& list = j->contains("changes") ? (*j)["changes"] : (*j)["alerts"];
    for (const auto& item : list) {
      const json& a = item.contains("alert") ? item["alert"] : item;
      std::printf("%-6s %-8s %-6s %-13s %s%s\n", a["id"].get<std::string>().c_str(),
                  item.value("action", a.value("status", "")).c_str(),
                  a["severity"].get<std::string>().c_str(), a["kind"].get<std::string>().c_str(),
                  a["message"].get<std::string>().c_str(),
                  a["cleared_at"].is_string()
                      ? ("  (cleared " + a["cleared_at"].get<std::string>() + ")").c_str()
                      : "");
    }
    if (list.empty()) std::printf("no alerts\n");
    return 0;
  }
  if (*audit_cmd && audit_refusals) {
    auto j = refusals_json(**store);
    if (!j) return fail(j.error());
    if (as_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return 0;
    }
    std::printf("%-24s %-20s %-21s %-6s %-7s %-24s %-4s %s\n", "time", "who", "remote", "via",
                "method", "path", "code", "reason");
    for (const auto& r : (*j)["refusals"]) {
      std::printf("%-24s %-20s %-21s %-6s %-7s %-24s %-4d %s (%s)\n",
                  r.value("at", "").c_str(), r.value("who", "").c_str(),
                  r.value("remote", "").c_str(), r.value("channel", "").c_str(),
                  r.value("method", "").c_str(),
                  r.value("path", "").empty() ? "-" : r.value("path", "").c_str(),
                  r.value("status", 0), r.value("reason", "").c_str(), r.value("code", "").c_str());
    }
    if ((*j)["refusals"].empty()) std::printf("no refusals recorded\n");
    return 0;
  }
  if (*audit_cmd) {
    if (audit_din.empty()) {
      return fail(make_error("bad_arguments", "audit needs a DIN, or --refusals."));
    }
    auto j = audit_json(**store, audit_din, audit_product);
    if (!j) return fail(j.error());
    if (as_json) {
      std::printf("%s\n", j->dump(2).c_str());
      return 0;
    }
    std::printf("%-24s %-20s %-9s %-8s %-20s %-16s %s\n", "time", "event", "product", "facility",
                "actor", "station", "outcome");
    for (const auto& e : (*j)["entries"]) {
      const std::string outcome = e["outcome"] == "applied"
                                      ? std::string("applied")
                                      : "rejected (" + e.value("code", "") + ")";
      std::printf("%-24s %-20s %-9s %-8s %-20s %-16s %s\n", e["at"].get<std::string>().c_str(),
                  e["type"].get<std::string>().c_str(), e.value("product", "").c_str(),
                  e["facility"].get<std::string>().c_str(),
                  e["actor"].get<std::string>().empty() ? "-" : e["actor"].get<std::string>().c_str(),
                  e["station"].get<std::string>().empty() ? "-"
                                                          : e["station"].get<std::string>().c_str(),
                  outcome.c_str());
    }
    if ((*j)["entries"].empty()) std::printf("nothing recorded for %s\n", audit_din.c_str());
    return 0;
  }
  if (*trace_cmd) {
    auto d = find_donation(**store, din);
    if (!d) return fail(d.error());
    if (!d->has_value()) return fail(make_error("not_found", "No donation " + din + " is known."));
    const json j = donation_json(**d, product, *ref);
    if (j.is_null()) return fail(make_error("not_found", "No component " + product + "."));
    if (as_json) std::printf("%s\n", j.dump(2).c_str());
    else print_trace(j);
    return 0;
  }
  return 0;
}
