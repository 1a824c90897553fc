// Alert follow-up end to end, on a synthetic clock: a Red alert that its
// governorate's office leaves unacknowledged escalates to the national
// directorate (AlertEscalator -> Kafka -> the engine), the directorate
// acknowledges it through the API (its token name recorded), and the next
// report counts the escalation and the acknowledgement time; a rebuild
// reproduces all of it.
#include <httplib.h>

#include <catch2/catch.hpp>
#include <thread>

#include "engine/ledger/alert_escalator.h"
#include "engine/ledger/engine.h"
#include "engine/ledger/replay.h"
#include "engine/queries/reports.h"
#include "engine/server/api.h"
#include "events/binary_codec.h"
#include "events/json_codec.h"
#include "tests/engine/http_support.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

const char* kRouting = R"({"sectors": [
  {"code": "NBS-office", "name": "Nablus blood bank office", "receives": {"governorates": ["NBS"]},
   "acknowledge_within_minutes": 30, "escalate_to": "national"},
  {"code": "national", "name": "National directorate", "receives": {"severities": ["red"]},
   "members": ["director"]}
]})";

// The open alert of kind supply_phase, Red, for O- red cells at Nablus.
std::optional<Alert> red_alert(const Store& store) {
  auto open = store.open_alerts();
  REQUIRE(open.ok());
  for (const auto& [key, text] : *open) {
    auto a = alert_from_json(json::parse(text));
    REQUIRE(a.ok());
    if (a->kind == AlertKind::supply_phase && a->governorate == "NBS" &&
        a->severity == Severity::red && a->group == AboRh::o_neg) {
      return *a;
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "a Red alert left unacknowledged escalates on the clock, is acknowledged by the next sector "
    "and its acknowledgement time is in the next report",
    "[engine][alerts][reports]") {
  const auto& ref = shipped_engine_reference();
  TestKafka kafka;
  TempDir dir;
  // Noon on the 11th of the test clock's month: the alert, its escalation and
  // its acknowledgement fall in one month whatever the date.
  const std::int64_t today = day_of(test_clock().now());
  const TimeMs t0 = (today - civil_from_days(today).d + 11) * kDay + 12 * kHour;
  Clock clock = Clock::manual(t0);
  auto routing = AlertRouting::parse(kRouting, ref);
  REQUIRE(routing.ok());
  EngineOptions opt;
  opt.data_dir = dir.path();
  opt.kafka = kafka.kafka;
  opt.clock = clock;
  opt.routing = *routing;
  auto opened = Engine::open(opt, ref, kafka.producer.get());
  REQUIRE(opened.ok());
  std::unique_ptr<Engine> engine = std::move(*opened);
  std::atomic<bool> stop{false};
  std::thread loop([&] { (void)engine->run(stop); });
  struct Stop {
    std::atomic<bool>& stop;
    std::thread& loop;
    ~Stop() {
      stop = true;
      if (loop.joinable()) loop.join();
    }
  } stopper{stop, loop};
  ApiContext ctx{engine.get(), kafka.producer.get(), kafka.kafka.brokers, true,
                 kafka.kafka.events_topic};
  auto api = ApiServer::start(ctx, "127.0.0.1", 0);
  REQUIRE(api.ok());
  const int port = (*api)->port();

  // Nablus's only O- red cell unit is issued: a stock-out with demand, Red.
  EventMaker m("fu", t0 - 5 * kDay);
  const std::string din = "G123426400001";
  std::vector<Event> events;
  Event c = m.make(EventType::donation_collected, "NBS-BB", din);
  c.donor = "DNR-4001";
  c.abo_rh = AboRh::o_neg;
  events.push_back(c);
  events.push_back(m.make(EventType::component_produced, "NBS-BB", din, "E0336V00"));
  for (auto [test, result] :
       {std::pair{"abo_rh", "O-"}, std::pair{"hiv", "negative"}, std::pair{"hbv", "negative"},
        std::pair{"hcv", "negative"}, std::pair{"syphilis", "negative"}}) {
    Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
    t.test = test;
    t.result = result;
    events.push_back(t);
  }
  events.push_back(m.make(EventType::unit_released, "NBS-BB", din, "E0336V00"));
  Event issue = m.make(EventType::unit_issued, "NBS-BB", din, "E0336V00");
  issue.at = t0 - 2 * kDay;  // demand of a whole past day (today's does not count yet)
  issue.patient_abo_rh = AboRh::o_neg;
  issue.patient = "PAT-4001";
  issue.to = "NBS-HOS";
  events.push_back(issue);
  for (const auto& e : events) {
    auto d =
        kafka.producer->produce_sync(kafka.kafka.events_topic, event_key(e), encode_json(e), 10000);
    REQUIRE(d.ok());
    REQUIRE(engine->wait_processed(d->partition, d->offset, 60000));
  }
  std::optional<Alert> alert;
  const bool raised =
      eventually([&] { return (alert = red_alert(engine->store())).has_value(); }, 30);
  if (!raised) {
    auto open = engine->store().open_alerts();
    for (const auto& [k, v] : *open) UNSCOPED_INFO(v);
    UNSCOPED_INFO(engine->metrics().rejected.load());
  }
  REQUIRE(raised);
  CHECK(routing->responsible(*alert)->code == "NBS-office");
  const auto sectors = get_json(port, "/api/alerts?sector=NBS-office");
  REQUIRE(sectors);
  REQUIRE_FALSE((*sectors)["alerts"].empty());

  AlertEscalator escalator(engine->store(), engine->routing(), *kafka.producer,
                           kafka.kafka.events_topic, clock);
  // Within the office's 30 minutes: nothing.
  clock.set(alert->severity_at + 29 * kMinute);
  auto early = escalator.tick();
  REQUIRE(early.ok());
  CHECK(*early == 0);
  // Past them: passed to the national directorate, through the journal.
  clock.set(alert->severity_at + 31 * kMinute);
  auto due = escalator.tick();
  REQUIRE(due.ok());
  CHECK(*due == 1);
  REQUIRE(eventually(
      [&] {
        auto a = red_alert(engine->store());
        return a && a->follow_up.escalated_to == std::vector<std::string>{"national"};
      },
      30));
  alert = red_alert(engine->store());
  CHECK(alert->follow_up.escalated_at == alert->severity_at + 30 * kMinute);
  CHECK(routing->responsible(*alert)->code == "national");

  // The office may no longer be the one it waits for; the directorate answers.
  clock.set(alert->raised_at + 47 * kMinute);
  httplib::Client client("127.0.0.1", port);
  auto ack = client.Post("/api/alerts/" + alert->id + "/acknowledge",
                         R"({"sector": "national", "actor": "director"})", "application/json");
  REQUIRE(ack);
  INFO(ack->body);
  CHECK(ack->status == 200);
  auto again = client.Post("/api/alerts/" + alert->id + "/acknowledge", R"({"sector": "national"})",
                           "application/json");
  REQUIRE(again);
  CHECK(again->status == 422);
  CHECK(json::parse(again->body)["code"] == "already_acknowledged");
  auto unknown = client.Post("/api/alerts/" + alert->id + "/acknowledge",
                             R"({"sector": "atlantis"})", "application/json");
  REQUIRE(unknown);
  CHECK(unknown->status == 400);
  alert = red_alert(engine->store());
  REQUIRE(alert);
  CHECK(alert->follow_up.acknowledged_sector == "national");
  CHECK(alert->follow_up.acknowledged_by == "director");
  // Acknowledged: no further escalation, however late.
  clock.set(alert->raised_at + 5 * kHour);
  auto after = escalator.tick();
  REQUIRE(after.ok());
  CHECK(*after == 0);

  // The next report: the escalation and the acknowledgement time.
  const TimeMs acked = alert->follow_up.acknowledged_at;
  const std::string period = format_rfc3339(acked).substr(0, 7);
  auto req = parse_report_request({{"period", period}, {"scope", "NBS"}}, ref);
  REQUIRE(req.ok());
  auto in = report_inputs(engine->store(), ref, *req, 28);
  REQUIRE(in.ok());
  const json r = report_json(*in, *req, ref, 28);
  INFO(r["alerts"].dump());
  CHECK(r["alerts"]["escalated"] == 1);
  CHECK(r["alerts"]["acknowledged"]["count"] == 1);
  CHECK(r["alerts"]["acknowledged"]["median_minutes"] == (acked - alert->raised_at) / kMinute);
  CHECK(r["alerts"]["by_kind"]["supply_phase"]["acknowledged"]["count"] == 1);

  // Closing with a note; then the journal replays to the same alerts and rows.
  auto closed =
      client.Post("/api/alerts/" + alert->id + "/close",
                  R"({"sector": "national", "note": "O- sent from Jenin"})", "application/json");
  REQUIRE(closed);
  CHECK(closed->status == 200);
  const auto after_close = red_alert(engine->store());
  REQUIRE(after_close);  // held (closed) while the stock-out lasts
  CHECK(after_close->follow_up.close_note == "O- sent from Jenin");
  CHECK_FALSE(after_close->open());
  const auto open_list = get_json(port, "/api/alerts?sector=national");
  REQUIRE(open_list);
  for (const auto& a : (*open_list)["alerts"]) CHECK(a["id"] != alert->id);
  (*api).reset();
  stop = true;
  loop.join();
  auto check = rebuild(engine->store(), ref, Rules{}, false);
  REQUIRE(check.ok());
  INFO((check->differences.empty() ? "" : check->differences.front()));
  CHECK(check->equal);
}

TEST_CASE("a routing file is strict: unknown keys and codes are named at load", "[alerts]") {
  const auto& ref = shipped_engine_reference();
  auto refused = [&](const std::string& text) {
    auto r = AlertRouting::parse(text, ref);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(refused(R"({"sectors": [{"code": "a", "colour": "red"}]})").find("colour") !=
        std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a", "receives": {"governorates": ["XXX"]}}]})")
            .find("XXX") != std::string::npos);
  CHECK(
      refused(R"({"sectors": [{"code": "a", "receives": {"kinds": ["flood"]}}]})").find("flood") !=
      std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a", "escalate_to": "b"}]})").find("\"b\"") !=
        std::string::npos);
  CHECK(
      refused(
          R"({"sectors": [{"code": "a", "escalate_to": "b"}, {"code": "b", "escalate_to": "a"}]})")
          .find("circle") != std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a"}, {"code": "a"}]})").find("twice") !=
        std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a", "code": "b"}]})").find("twice") != std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a", "webhooks": ["ftp://x"]}]})").find("ftp") !=
        std::string::npos);
  CHECK(
      refused(R"({"sectors": [{"code": "a", "acknowledge_within_seconds": 0}]})").find("seconds") !=
      std::string::npos);
  CHECK(refused(R"({"sectors": [{"code": "a", "acknowledge_within_minutes": 2,
      "acknowledge_within_seconds": 5}]})")
            .find("not both") != std::string::npos);
  auto ok = AlertRouting::parse(R"({"sectors": [{"code": "GZA-office", "receives":
      {"governorates": ["GZA"], "severities": ["amber", "red"]}, "escalate_to": "national"},
      {"code": "national"}]})",
                                ref);
  REQUIRE(ok.ok());
  Alert a;
  a.governorate = "GZA";
  a.severity = Severity::info;
  CHECK(ok->receivers(a) == std::vector<std::string>{"national"});
  a.severity = Severity::red;
  CHECK(ok->receivers(a) == std::vector<std::string>{"GZA-office", "national"});
  CHECK(ok->responsible(a)->code == "GZA-office");
  // The default: 30 minutes from reaching Red; seconds for tests and drills.
  a.raised_at = a.severity_at = 1'000'000;
  REQUIRE(ok->escalation_due(a));
  CHECK(ok->escalation_due(a)->at == a.severity_at + 30 * kMinute);
  auto quick = AlertRouting::parse(R"({"sectors": [{"code": "GZA-office",
      "acknowledge_within_seconds": 5, "escalate_to": "national"}, {"code": "national"}]})",
                                   ref);
  REQUIRE(quick.ok());
  REQUIRE(quick->escalation_due(a));
  CHECK(quick->escalation_due(a)->at == a.severity_at + 5000);
  CHECK(quick->escalation_due(a)->to == "national");
}
