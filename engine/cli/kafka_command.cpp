// `hemoledger kafka`: librdkafka's mock cluster on its own, with hemoledger's
// topics, until SIGINT or SIGTERM; for tests, scale-out trials and kcat. It
// prints the bootstrap servers on the first line of standard output.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <memory>

#include "engine/cli/cli_support.h"
#include "engine/cli/command.h"
#include "engine/kafka/kafka.h"

namespace hemoledger {
namespace {

struct KafkaArgs {
  int brokers = 1;
  int partitions = KafkaConfig{}.partitions;
  std::string bootstrap_file;
};

int run_kafka(const KafkaArgs& a) {
  install_signal_handlers();
  const KafkaConfig names;
  auto m = MockCluster::start(
      a.brokers,
      {names.events_topic, names.rejected_topic, names.alerts_topic, names.partials_topic},
      a.partitions);
  if (!m) return fail(m.error());
  std::printf("%s\n", (*m)->bootstrap().c_str());
  std::fflush(stdout);
  if (!a.bootstrap_file.empty()) std::ofstream(a.bootstrap_file) << (*m)->bootstrap() << "\n";
  wait_for_stop_signal();
  return 0;
}

}  // namespace

Subcommand add_kafka_command(CLI::App& app) {
  auto a = std::make_shared<KafkaArgs>();
  auto* cmd = app.add_subcommand("kafka", "Run librdkafka's mock cluster until stopped");
  cmd->add_option("--brokers", a->brokers, "Number of mock brokers")->capture_default_str();
  cmd->add_option("--partitions", a->partitions, "Partitions per topic")->capture_default_str();
  cmd->add_option("--bootstrap-file", a->bootstrap_file, "Write the bootstrap servers here");
  return {cmd, [a](const CommandContext&) { return run_kafka(*a); }};
}

}  // namespace hemoledger
