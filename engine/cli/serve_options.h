// ServeArgs: what `hemoledger serve` was asked for on its command line, the
// CLI11 options that fill it in (their names, defaults and help texts are
// documented in docs/ and relied on by tests), and its translation to the
// engine's EngineOptions. Main thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/cli/command.h"
#include "engine/ledger/backup_schedule.h"
#include "engine/ledger/engine.h"

namespace hemoledger {

// The defaults of the data directory, the batch size and Kafka's names are
// EngineOptions' and KafkaConfig's.
struct ServeArgs {
  std::string brokers;  // "": start the embedded mock cluster
  std::string data_dir = EngineOptions{}.data_dir;
  std::string listen = "127.0.0.1:8080";
  std::vector<std::string> properties;  // -X key=value, for librdkafka
  std::string topic = KafkaConfig{}.events_topic;
  std::string rejected_topic = KafkaConfig{}.rejected_topic;
  std::string group = KafkaConfig{}.group;
  int partitions = KafkaConfig{}.partitions;
  std::size_t max_batch = EngineOptions{}.max_batch;
  bool demo = false;
  double demo_speed = 1.0;
  std::string bootstrap_file;
  std::string alerts_topic = KafkaConfig{}.alerts_topic;
  std::vector<std::string> webhooks;
  std::string routing;                  // --routing: alert routing file (docs/alerts.md, "Routing")
  std::string mllp, astm, lab_mapping;  // lab listeners (docs/connectors.md)
  std::string mllp_lab, astm_lab;       // the lab each listener speaks for
  std::string tokens;                   // API token file (docs/security.md)
  std::string tls_cert, tls_key;        // HTTPS for the API (and TLS for the lab links)
  std::string lab_tls_cert, lab_tls_key;  // TLS for the lab links, if not --tls-cert's
  std::string lab_client_ca;              // mutual TLS on the lab links (docs/security.md)
  std::string instance, advertise;        // scale-out (docs/scale-out.md)
  std::string peer_token_file;
  std::string backup_dir;    // "": no backups (docs/operations.md)
  std::string backup_every;  // "6h": scheduled backups; "": on request only
  std::uint32_t backup_keep = 0;
  // Partition snapshots (docs/scale-out.md, "Handover from a snapshot").
  std::string snapshot_dir;  // "": none
  std::int64_t snapshot_every_events = SnapshotOptions{}.every_events;
  std::string snapshot_every = "10m";
  std::uint32_t snapshot_keep = SnapshotOptions{}.keep;

  bool has_lab_listener() const { return !mllp.empty() || !astm.empty(); }
};

// Adds serve's options (all but --clock-start) to `serve`, bound to `args`.
void add_serve_options(CLI::App& serve, ServeArgs& args);

// The backup settings: error "bad_duration" (--backup-every), or
// "backup_needs_dir" (--backup-every or --backup-keep without --backup-dir).
[[nodiscard]] Result<BackupOptions> backup_options(const ServeArgs& args);

// The engine's options. Errors: "scale_out_needs_brokers" (--instance
// without --brokers), a webhook URL's error (check_webhook_url),
// "bad_property" (-X without "="), "bad_duration" (--snapshot-every),
// "bad_snapshot_option" (a snapshot setting out of range). Kafka's brokers stay "" when the
// embedded cluster is to be started.
[[nodiscard]] Result<EngineOptions> engine_options(const ServeArgs& args,
                                                   const CommandContext& context);

}  // namespace hemoledger
