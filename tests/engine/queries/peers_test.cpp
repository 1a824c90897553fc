// await_verdict and the verdict's JSON form (engine/queries/peers.h), against
// an engine in this process: what the lab gateway learns of an event it has
// produced before it may acknowledge the lab's message.
#include "engine/queries/peers.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <nlohmann/json.hpp>

#include "tests/engine/in_process_engine.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

using std::chrono::steady_clock;

std::optional<Verdict> verdict_of(Engine& engine, const Delivery& d) {
  auto v = await_verdict(engine, "", d.partition, d.offset,
                         steady_clock::now() + std::chrono::seconds(30));
  REQUIRE(v.ok());
  return *v;
}

}  // namespace

TEST_CASE("await_verdict tells an applied, a repeated and a refused event apart",
          "[peers][verdict]") {
  TestKafka kafka;
  InProcessEngine run(kafka);
  EventMaker m("pv", test_clock().now() - kDay);
  const std::string din = din_for(7), bank = "NBS-BB";
  Event collected = m.make(EventType::donation_collected, bank, din);
  collected.donor = "D7";
  collected.abo_rh = AboRh::a_pos;

  const auto applied = verdict_of(run.engine(), run.produce(collected));
  REQUIRE(applied.has_value());
  CHECK(applied->status == VerdictStatus::applied);
  CHECK(applied->code.empty());

  const auto repeated = verdict_of(run.engine(), run.produce(collected));
  REQUIRE(repeated.has_value());
  CHECK(repeated->status == VerdictStatus::duplicate);
  CHECK(repeated->code == kDuplicateEvent);

  run.produce(m.make(EventType::component_produced, bank, din, "E0382V00"));
  // Still in quarantine: no test results yet.
  const Event issue = m.make(EventType::unit_issued, bank, din, "E0382V00");
  const auto refused = verdict_of(run.engine(), run.produce(issue));
  REQUIRE(refused.has_value());
  CHECK(refused->status == VerdictStatus::rejected);
  CHECK(refused->code == "unit_quarantined");
  CHECK_FALSE(refused->message.empty());
}

TEST_CASE("await_verdict answers 'not yet' rather than an error once its deadline passes",
          "[peers][verdict]") {
  TestKafka kafka;
  InProcessEngine run(kafka);
  EventMaker m("pt", test_clock().now() - kDay);
  Event collected = m.make(EventType::donation_collected, "NBS-BB", din_for(8));
  collected.donor = "D8";
  collected.abo_rh = AboRh::o_pos;
  const Delivery d = run.produce(collected);

  const auto start = steady_clock::now();
  auto v = await_verdict(run.engine(), "", d.partition, d.offset + 1000,
                         start + std::chrono::milliseconds(300));
  const auto waited = steady_clock::now() - start;
  REQUIRE(v.ok());
  CHECK_FALSE(v->has_value());
  CHECK(waited >= std::chrono::milliseconds(250));
  CHECK(waited < std::chrono::seconds(10));
}

TEST_CASE("a verdict keeps its status word on the wire, and an unknown one is refused",
          "[peers][verdict]") {
  const Verdict dup{VerdictStatus::duplicate, kDuplicateEvent, ""};
  const json j = verdict_json(dup);
  CHECK(j["status"] == "duplicate");
  CHECK(j["code"] == "duplicate_event");
  auto back = verdict_from_json(j);
  REQUIRE(back.ok());
  CHECK(back->status == VerdictStatus::duplicate);
  CHECK(back->code == "duplicate_event");

  CHECK(verdict_json({VerdictStatus::applied, "", ""})["status"] == "applied");
  auto refused = verdict_from_json({{"status", "rejected"}, {"code", "unit_quarantined"}});
  REQUIRE(refused.ok());
  CHECK(refused->status == VerdictStatus::rejected);

  auto unknown = verdict_from_json({{"status", "maybe"}});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.error().code == "bad_verdict");
  CHECK(unknown.error().message.find("maybe") != std::string::npos);
  auto missing = verdict_from_json(json::object());
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "bad_verdict");
}
