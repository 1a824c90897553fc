// The LabGateway (engine/labs/lab_gateway.h) against an engine in this
// process: what a lab's message becomes (applied, already recorded, refused,
// not known to be recorded), the release policy, and the record of each
// message that answers a retransmission without recording it twice.
#include "engine/labs/lab_gateway.h"

#include <catch2/catch.hpp>
#include <functional>
#include <nlohmann/json.hpp>

#include "engine/cli/reference_files.h"
#include "tests/engine/in_process_engine.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

const std::string kBank = "NBS-BB", kLab = "NBS-LAB", kRed = "E0382V00";

// The shipped lab mapping, with the release policy on or off.
LabMapping shipped_mapping(bool release) {
  json m = json::parse(read_file(default_reference_dir() + "/lab_mapping.json"));
  m["release_when_complete"] = release;
  auto mapping = LabMapping::parse_json(m.dump(), shipped_engine_reference());
  REQUIRE(mapping.ok());
  return std::move(*mapping);
}

// A donation of O- red cells in quarantine at kBank, and the six results
// that clear it, as a lab's message maps them (not yet recorded).
std::vector<Event> donation_awaiting_results(InProcessEngine& run, EventMaker& m,
                                             const std::string& din) {
  Event collected = m.make(EventType::donation_collected, kBank, din);
  collected.donor = "D-" + din;
  collected.abo_rh = AboRh::o_neg;
  run.produce(collected);
  run.produce(m.make(EventType::component_produced, kBank, din, kRed));
  std::vector<Event> results;
  for (auto [test, value] :
       std::vector<std::pair<std::string, std::string>>{{"abo", "O"},
                                                        {"rhd", "neg"},
                                                        {"hiv", "negative"},
                                                        {"hbv", "negative"},
                                                        {"hcv", "negative"},
                                                        {"syphilis", "negative"}}) {
    Event t = m.make(EventType::test_resulted, kLab, din);
    t.id = "hl7-" + kLab + "-" + din + "-" + test;
    t.test = test;
    t.result = value;
    results.push_back(t);
  }
  return results;
}

bool all_are(const std::vector<LabEventOutcome>& list, LabEventStatus status) {
  for (const auto& o : list) {
    if (o.status != status) return false;
  }
  return !list.empty();
}

std::int64_t available_red(Engine& engine) {
  return engine.stock().count({kBank, Category::red_cells, AboRh::o_neg, UnitStatus::available});
}

json inbound_record(Engine& engine, const InboundKey& key, std::string_view raw) {
  auto r = engine.store().inbound(LabGateway::inbound_id(key, raw));
  REQUIRE(r.ok());
  REQUIRE(r->has_value());
  return json::parse(**r);
}

// Kafka, an engine and a gateway over them with the shipped mapping.
struct GatewayRig {
  explicit GatewayRig(bool release = true, LabGatewayOptions options = {}, bool running = true)
      : run(kafka, running),
        gw(run.engine(), *kafka.producer, kafka.kafka.events_topic, shipped_mapping(release),
           options) {}
  TestKafka kafka;
  InProcessEngine run;
  LabGateway gw;
};

// A handle() for deliver() that counts its calls and answers "<prefix><n>".
std::function<LabAnswer()> counted_answer(int& handled, LabOutcome outcome,
                                          const std::string& prefix) {
  return [&handled, outcome, prefix] {
    ++handled;
    LabAnswer a;
    a.answer = prefix + std::to_string(handled);
    a.outcome = outcome;
    if (outcome != LabOutcome::accepted) a.code = "not_recorded";
    return a;
  };
}

}  // namespace

TEST_CASE(
    "a lab's results are applied once, release the completed unit, and read as already "
    "recorded when sent again",
    "[lab][gateway]") {
  GatewayRig rig;
  auto& run = rig.run;
  auto& gw = rig.gw;
  EventMaker m("gw", test_clock().now() - kDay);
  const auto results = donation_awaiting_results(run, m, din_for(31));
  REQUIRE(available_red(run.engine()) == 0);

  const LabRecording first = gw.record(results);
  CHECK(first.accepted);
  CHECK_FALSE(first.first_failure.has_value());
  CHECK(all_are(first.events, LabEventStatus::applied));
  CHECK(first.count(LabEventStatus::applied) == 6);
  REQUIRE(first.releases.size() == 1);
  CHECK(first.releases[0].product == kRed);
  CHECK(first.releases[0].status == LabEventStatus::applied);
  CHECK(first.summary() == "6 events recorded, 1 unit released.");
  CHECK(available_red(run.engine()) == 1);
  // No reagent lot is in stock: the results stand, the shortfall is reported.
  CHECK(first.reagent_shortfalls.size() == 4);

  const LabRecording again = gw.record(results);
  CHECK(again.accepted);
  CHECK(all_are(again.events, LabEventStatus::already_recorded));
  CHECK(again.releases.empty());
  CHECK(again.summary() == "6 events recorded (6 already).");
  CHECK(available_red(run.engine()) == 1);
}

TEST_CASE("without the release policy the lab's results leave the unit in quarantine",
          "[lab][gateway]") {
  GatewayRig rig(/*release=*/false);
  auto& run = rig.run;
  auto& gw = rig.gw;
  EventMaker m("gq", test_clock().now() - kDay);
  const LabRecording rec = gw.record(donation_awaiting_results(run, m, din_for(32)));
  CHECK(rec.accepted);
  CHECK(rec.releases.empty());
  CHECK(available_red(run.engine()) == 0);
}

TEST_CASE("a result the engine refuses fails the lab's message with the engine's code and sentence",
          "[lab][gateway]") {
  GatewayRig rig;
  auto& run = rig.run;
  auto& gw = rig.gw;
  EventMaker m("gr", test_clock().now() - kDay);
  auto results = donation_awaiting_results(run, m, din_for(33));
  results[2].result = "maybe";  // not a result of the hiv test

  const LabRecording rec = gw.record(results);
  CHECK_FALSE(rec.accepted);
  REQUIRE(rec.first_failure == std::optional<std::size_t>(2));
  const LabEventOutcome& refused = rec.events[2];
  CHECK(refused.status == LabEventStatus::rejected);
  CHECK(refused.code == "invalid_result");
  CHECK_FALSE(refused.message.empty());
  CHECK(rec.summary() == "Event " + refused.event_id + " (DIN " + refused.din +
                             ") was rejected by the engine (" + refused.code +
                             "): " + refused.message);
  CHECK(rec.events[0].status == LabEventStatus::applied);
  CHECK(available_red(run.engine()) == 0);  // the hiv result is missing: no release
}

TEST_CASE(
    "when the engine does not apply a result in time, the message is not accepted and "
    "nothing is claimed recorded",
    "[lab][gateway]") {
  LabGatewayOptions options;
  options.apply_timeout_ms = 300;
  GatewayRig stalled(/*release=*/true, options, /*running=*/false);  // consumes nothing
  auto& gw = stalled.gw;
  EventMaker m("gs", test_clock().now() - kDay);
  Event result = m.make(EventType::test_resulted, kLab, din_for(34));
  result.test = "hiv";
  result.result = "negative";

  const LabRecording rec = gw.record({result});
  CHECK_FALSE(rec.accepted);
  REQUIRE(rec.first_failure == std::optional<std::size_t>(0));
  CHECK(rec.events[0].status == LabEventStatus::not_recorded);
  CHECK(rec.events[0].code == "apply_timeout");
  CHECK(rec.summary().find("is not known to be recorded") != std::string::npos);
}

TEST_CASE("a message accepted once is answered again from its record, not handled twice",
          "[lab][gateway]") {
  GatewayRig rig;
  auto& run = rig.run;
  auto& gw = rig.gw;
  const InboundKey key{"mllp", "LIS^NBS-LAB", "CTRL-1"};
  const std::string raw = "MSH|^~\\&|LIS|NBS-LAB|||20261122||ORU^R01|CTRL-1|P|2.5\r";
  const TimeMs at = test_clock().now();
  int handled = 0;
  auto answer = [&](LabOutcome outcome) { return counted_answer(handled, outcome, "ACK-"); };

  auto first = gw.deliver(key, raw, at, answer(LabOutcome::accepted));
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed);
  CHECK(first->answer.answer == "ACK-1");

  auto again = gw.deliver(key, raw, at + kMinute, answer(LabOutcome::accepted));
  REQUIRE(again.ok());
  CHECK(again->replayed);
  CHECK(again->answer.answer == "ACK-1");
  CHECK(again->answer.outcome == LabOutcome::accepted);
  CHECK(handled == 1);
  const json record = inbound_record(run.engine(), key, raw);
  CHECK(record["attempts"] == 2);
  CHECK(record["outcome"] == "accepted");
  CHECK(record["answer"] == "ACK-1");

  // Other bytes under the same control id are another message.
  auto changed = gw.deliver(key, raw + "OBX|1\r", at, answer(LabOutcome::accepted));
  REQUIRE(changed.ok());
  CHECK_FALSE(changed->replayed);
  CHECK(handled == 2);
}

TEST_CASE("a message that failed is handled afresh when the lab sends it again", "[lab][gateway]") {
  GatewayRig rig;
  auto& run = rig.run;
  auto& gw = rig.gw;
  const InboundKey key{"astm", "IH-500", "7"};
  const std::string raw = "H|\\^&|||IH-500\rL|1|N\r";
  int handled = 0;
  auto answer = [&](LabOutcome outcome) { return counted_answer(handled, outcome, "answer "); };

  auto failed = gw.deliver(key, raw, test_clock().now(), answer(LabOutcome::rejected));
  REQUIRE(failed.ok());
  CHECK(inbound_record(run.engine(), key, raw)["outcome"] == "rejected");
  CHECK(inbound_record(run.engine(), key, raw)["code"] == "not_recorded");

  auto retried = gw.deliver(key, raw, test_clock().now(), answer(LabOutcome::accepted));
  REQUIRE(retried.ok());
  CHECK_FALSE(retried->replayed);
  CHECK(retried->answer.answer == "answer 2");
  CHECK(handled == 2);
  const json record = inbound_record(run.engine(), key, raw);
  CHECK(record["outcome"] == "accepted");
  CHECK(record["attempts"] == 2);
  CHECK_FALSE(record.contains("code"));
}
