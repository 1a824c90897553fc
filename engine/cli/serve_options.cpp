#include "engine/cli/serve_options.h"

#include <CLI/CLI.hpp>

#include "engine/cli/failpoints.h"
#include "engine/server/webhooks.h"

namespace hemoledger {

void add_serve_options(CLI::App& serve, ServeArgs& a) {
  serve.add_option("--brokers", a.brokers,
                   "Kafka bootstrap servers; without it the embedded mock cluster is started");
  serve.add_option("--data-dir", a.data_dir, "Where RocksDB keeps the journal and state")
      ->capture_default_str();
  serve
      .add_option("--listen", a.listen,
                  "HTTP API address (HOST:PORT); loopback unless an address is given here")
      ->capture_default_str();
  serve.add_option("--tokens", a.tokens,
                   "API token file (JSON of names, roles, facilities and SHA-256 hashes; "
                   "hemoledger token new); without it the API is open (docs/security.md)");
  serve.add_option("--tls-cert", a.tls_cert, "PEM certificate: the API speaks HTTPS only");
  serve.add_option("--tls-key", a.tls_key, "PEM private key of --tls-cert");
  serve.add_option("--mllp-lab", a.mllp_lab, "The lab facility the MLLP link speaks for");
  serve.add_option("--astm-lab", a.astm_lab, "The lab facility the ASTM link speaks for");
  serve.add_option("--lab-tls-cert", a.lab_tls_cert,
                   "PEM certificate of the MLLP and ASTM links (default: --tls-cert)");
  serve.add_option("--lab-tls-key", a.lab_tls_key, "PEM private key of --lab-tls-cert");
  serve.add_option("--lab-client-ca", a.lab_client_ca,
                   "PEM CA of the labs' client certificates: mutual TLS on the lab links, "
                   "the CN naming a token (required with --tokens and --mllp/--astm)");
  serve.add_option("-X,--kafka-property", a.properties,
                   "librdkafka property key=value (security.protocol, sasl.*, ssl.*, ...)");
  serve.add_option("--topic", a.topic, "Events topic")->capture_default_str();
  serve.add_option("--rejected-topic", a.rejected_topic, "Rejections topic")->capture_default_str();
  serve.add_option("--group", a.group, "Kafka consumer group")->capture_default_str();
  serve.add_option("--instance", a.instance,
                   "Scale-out: this instance's name in the group; partitions move between "
                   "instances (docs/scale-out.md). Needs --brokers");
  serve.add_option("--advertise", a.advertise,
                   "Scale-out: the URL other instances send clients to (default "
                   "http://LISTEN)");
  serve.add_option("--peer-token-file", a.peer_token_file,
                   "Scale-out with --tokens: a file holding the token this instance shows "
                   "the others when its lab gateway asks them for a verdict");
  serve.add_option("--partitions", a.partitions, "Partitions of the embedded topics")
      ->capture_default_str();
  serve.add_option("--max-batch", a.max_batch, "Most messages per RocksDB commit")
      ->capture_default_str();
  serve.add_flag("--demo", a.demo, "Produce a simulated live feed");
  serve.add_option("--demo-speed", a.demo_speed, "Simulated hours per second")
      ->capture_default_str();
  serve.add_option("--bootstrap-file", a.bootstrap_file,
                   "Write the Kafka bootstrap servers to this file");
  serve.add_option("--alerts-topic", a.alerts_topic, "Kafka topic the alerts go to")
      ->capture_default_str();
  serve.add_option("--mllp", a.mllp,
                   "Receive HL7 v2 lab results over MLLP on HOST:PORT (docs/connectors.md)");
  serve.add_option("--astm", a.astm, "Receive ASTM E1394 results over LIS1-A on HOST:PORT");
  serve.add_option("--lab-mapping", a.lab_mapping,
                   "Lab mapping file (default: lab_mapping.json of the reference data)");
  serve.add_option("--webhook", a.webhooks,
                   "POST every alert change to this http:// URL (repeatable)");
  serve.add_option("--routing", a.routing,
                   "Alert routing file: sectors, their alerts, channels and escalation "
                   "(docs/alerts.md)");
  serve.add_option("--backup-dir", a.backup_dir,
                   "Where backups go (RocksDB BackupEngine, incremental): POST "
                   "/api/admin/backup, hemoledger backup --api, or --backup-every");
  serve.add_option("--backup-every", a.backup_every,
                   "Take a backup this often (30m, 6h, 1d); needs --backup-dir");
  serve
      .add_option("--backup-keep", a.backup_keep,
                  "Keep only the newest N backups in --backup-dir (0: all)")
      ->capture_default_str();
  serve.add_option("--snapshot-dir", a.snapshot_dir,
                   "Partition snapshots: a directory every instance reads (shared storage); "
                   "served partitions are written there and a partition assigned without its "
                   "history is installed from it (docs/scale-out.md)");
  serve
      .add_option("--snapshot-every-events", a.snapshot_every_events,
                  "A new snapshot of a partition after this many new offsets")
      ->capture_default_str();
  serve
      .add_option("--snapshot-every", a.snapshot_every,
                  "Or after this long on the engine's clock, if the partition advanced (30s, "
                  "10m, 1h)")
      ->capture_default_str();
  serve
      .add_option("--snapshot-keep", a.snapshot_keep,
                  "Newest snapshots kept per partition; older ones are deleted")
      ->capture_default_str();
}

Result<BackupOptions> backup_options(const ServeArgs& a) {
  BackupOptions b;
  if (a.backup_dir.empty()) {
    if (!a.backup_every.empty() || a.backup_keep != 0) {
      return make_error("backup_needs_dir",
                        "--backup-every and --backup-keep need --backup-dir, where the "
                        "backups go.");
    }
    return b;
  }
  b.dir = a.backup_dir;
  b.keep = a.backup_keep;
  if (!a.backup_every.empty()) {
    auto every = parse_duration(a.backup_every);
    if (!every) return make_error(every.error().code, "--backup-every: " + every.error().message);
    b.every_ms = *every;
  }
  return b;
}

namespace {

Result<SnapshotOptions> snapshot_options(const ServeArgs& a) {
  SnapshotOptions o;
  o.dir = a.snapshot_dir;
  auto every = parse_duration(a.snapshot_every);
  if (!every) return make_error(every.error().code, "--snapshot-every: " + every.error().message);
  if (a.snapshot_every_events < 1 || a.snapshot_keep < 1) {
    return make_error("bad_snapshot_option",
                      "--snapshot-every-events and --snapshot-keep must be at least 1.");
  }
  o.every_ms = *every;
  o.every_events = a.snapshot_every_events;
  o.keep = a.snapshot_keep;
  return o;
}

}  // namespace

Result<EngineOptions> engine_options(const ServeArgs& a, const CommandContext& context) {
  EngineOptions opt;
  opt.data_dir = a.data_dir;
  opt.clock = context.clock;
  opt.failpoint = failpoints_of_this_build();
  if (!a.instance.empty()) {
    if (a.brokers.empty()) {
      return make_error(
          "scale_out_needs_brokers",
          "--instance shares a consumer group's partitions with other instances, so they need "
          "one Kafka cluster: start one (hemoledger kafka --brokers 3) and give --brokers.");
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
  opt.supply = context.supply;
  for (const auto& url : a.webhooks) {
    if (auto s = check_webhook_url(url); !s) return s.error();
  }
  if (auto snapshots = snapshot_options(a); !snapshots) {
    return snapshots.error();
  } else {
    opt.snapshots = *snapshots;
  }
  opt.kafka.partitions = a.partitions;
  opt.max_batch = a.max_batch;
  for (const auto& p : a.properties) {
    const auto eq = p.find('=');
    if (eq == std::string::npos) {
      return make_error("bad_property", "-X takes key=value, got " + p + ".");
    }
    opt.kafka.properties[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return opt;
}

}  // namespace hemoledger
