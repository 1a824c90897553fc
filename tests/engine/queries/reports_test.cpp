// Reports: every figure of docs/reports.md pinned on a small known journal,
// applied through the real apply path (Engine::apply_records on RocksDB), then
// read back for a month, a quarter and a year, for the country, a governorate
// and a facility; and the same figures again after a rebuild.
#include "engine/queries/reports.h"

#include <algorithm>
#include <catch2/catch.hpp>

#include "engine/ledger/engine.h"
#include "engine/ledger/replay.h"
#include "events/binary_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

namespace {

// The journal's events are dated in November 2026; the engine's clock is that
// of the test (it dates nothing here: events carry their times).
const TestClock kClock("2026-12-05T12:00:00Z");

TimeMs nov(unsigned day, int hour, int minute = 0) {
  return days_from_civil(2026, 11, day) * kDay + hour * kHour + minute * kMinute;
}

struct Journal {
  TempDir dir;
  std::unique_ptr<Engine> engine;
  std::vector<Event> pending;
  std::int64_t offset = 0;
  int n = 0;
  Journal() {
    EngineOptions o;
    o.data_dir = dir.path();
    o.clock = kClock.clock();
    auto e = Engine::open(o, shipped_engine_reference(), nullptr);
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  Event make(EventType t, TimeMs at, const std::string& facility, const std::string& din,
             const std::string& product = "") {
    Event e;
    e.id = "rep-" + std::to_string(++n);
    e.type = t;
    e.at = at;
    e.recorded_at = at;
    e.facility = facility;
    e.din = din;
    e.product = product;
    return e;
  }
  void add(const Event& e) { pending.push_back(e); }
  // In the order they happened, as a partition's events come.
  void commit() {
    std::stable_sort(pending.begin(), pending.end(),
                     [](const Event& a, const Event& b) { return a.at < b.at; });
    std::vector<Record> records;
    for (const auto& e : pending) {
      records.push_back(Record{0, offset++, event_key(e), encode_binary(e), 0});
    }
    REQUIRE(engine->apply_records(records).ok());
    CHECK(engine->metrics().rejected == 0);
    pending.clear();
  }
  // A donation collected at `bank` at `at`, typed `group`, screened negative
  // (or not: `hiv`), with `products` produced an hour later (expiring at
  // `expires` when given) and released at `released` unless TTI-positive.
  void donation(const std::string& din, const std::string& bank, TimeMs at, AboRh group,
                DonationType type, const std::vector<std::string>& products, TimeMs released,
                bool hiv_positive = false, TimeMs expires = 0) {
    Event c = make(EventType::donation_collected, at, bank, din);
    c.donor = "DNR-" + din;
    c.abo_rh = group;
    c.donation_type = type;
    add(c);
    for (const auto& p : products) {
      Event e = make(EventType::component_produced, at + kHour, bank, din, p);
      if (expires && p == "E3045V00") e.expires_at = expires;
      add(e);
    }
    const std::string lab = bank.substr(0, 3) + "-LAB";
    Event t = make(EventType::test_resulted, at + 2 * kHour, lab, din);
    t.test = "abo_rh";
    t.result = std::string(to_string(group));
    add(t);
    for (const char* s : {"hbv", "hcv", "syphilis"}) {
      Event r = make(EventType::test_resulted, at + 2 * kHour, lab, din);
      r.test = s;
      r.result = "negative";
      add(r);
    }
    if (hiv_positive) {
      for (auto [test, method] :
           {std::pair{"hiv", TestMethod::screen}, std::pair{"hiv", TestMethod::repeat},
            std::pair{"hiv_confirm", TestMethod::confirmatory}}) {
        Event r = make(EventType::test_resulted, at + 3 * kHour, lab, din);
        r.test = test;
        r.result = "positive";
        r.method = method;
        add(r);
      }
      return;
    }
    Event h = make(EventType::test_resulted, at + 2 * kHour, lab, din);
    h.test = "hiv";
    h.result = "negative";
    add(h);
    for (const auto& p : products) add(make(EventType::unit_released, released, bank, din, p));
  }
};

// The known journal of docs/reports.md's example, all of it in November 2026:
//   D1 NBS, voluntary, O+: red cells and platelets, released after 6 h; the
//      red cells reserved, issued and transfused on the 6th; the platelets
//      expire at the end of the 6th.
//   D2 NBS, replacement, A+: red cells released after 24 h; reserved on the
//      7th, issued to the hospital and taken back by the bank on the 8th,
//      discarded (broken bag) on the 9th.
//   D3 NBS, no donor type, B+: red cells; HIV repeatedly reactive and
//      confirmed; discarded (tti_positive) on the 6th.
//   D4 NBS, voluntary, O+: red cells released after 12 h, on the shelf all month.
//   D5 GZA, voluntary, O-: red cells released after 6 h.
//   Reagent anti-A at NBS-LAB: 100 tests received, 30 used, the lot expires on the 20th.
//   A clock tick on 5 December closes the month.
void write_known_journal(Journal& j) {
  const std::string rc = "E0336V00", plt = "E3045V00";
  j.donation("G123426300001", "NBS-BB", nov(2, 8), AboRh::o_pos, DonationType::voluntary, {rc, plt},
             nov(2, 14), false, nov(6, 23, 59));
  j.donation("G123426300002", "NBS-BB", nov(3, 8), AboRh::a_pos, DonationType::replacement, {rc},
             nov(4, 8));
  j.donation("G123426300003", "NBS-BB", nov(5, 8), AboRh::b_pos, DonationType::unrecorded, {rc}, 0,
             true);
  j.donation("G123426300004", "NBS-BB", nov(1, 8), AboRh::o_pos, DonationType::voluntary, {rc},
             nov(1, 20));
  j.donation("G123426300005", "GZA-BB", nov(10, 8), AboRh::o_neg, DonationType::voluntary, {rc},
             nov(10, 14));
  const std::string d1 = "G123426300001", d2 = "G123426300002", d3 = "G123426300003";
  j.add(j.make(EventType::unit_reserved, nov(6, 9), "NBS-BB", d1, rc));
  Event issue = j.make(EventType::unit_issued, nov(6, 10), "NBS-BB", d1, rc);
  issue.patient_abo_rh = AboRh::o_pos;
  issue.patient = "PAT-101";
  issue.to = "NBS-HOS";
  j.add(issue);
  Event transfused = j.make(EventType::unit_transfused, nov(6, 12), "NBS-HOS", d1, rc);
  transfused.patient = "PAT-101";
  j.add(transfused);
  j.add(expiry_event(d1, plt, "NBS-BB", nov(6, 23, 59)));
  Event discard3 = j.make(EventType::unit_discarded, nov(6, 9), "NBS-BB", d3, rc);
  discard3.reason = "tti_positive";
  j.add(discard3);
  j.add(j.make(EventType::unit_reserved, nov(7, 9), "NBS-BB", d2, rc));
  j.add(j.make(EventType::reservation_released, nov(8, 9), "NBS-BB", d2, rc));
  Event issue2 = j.make(EventType::unit_issued, nov(8, 10), "NBS-BB", d2, rc);
  issue2.patient_abo_rh = AboRh::a_pos;
  issue2.patient = "PAT-102";
  issue2.to = "NBS-HOS";
  j.add(issue2);
  j.add(j.make(EventType::unit_returned, nov(8, 10, 10), "NBS-BB", d2, rc));
  Event discard2 = j.make(EventType::unit_discarded, nov(9, 9), "NBS-BB", d2, rc);
  discard2.reason = "broken_bag";
  j.add(discard2);
  Event received = j.make(EventType::reagent_received, nov(1, 9), "NBS-LAB", "");
  received.reagent = "anti-A";
  received.lot = "L-1";
  received.quantity = 100;
  received.expires_at = nov(20, 0);
  j.add(received);
  Event used = j.make(EventType::reagent_consumed, nov(2, 9), "NBS-LAB", "");
  used.reagent = "anti-A";
  used.lot = "L-1";
  used.quantity = 30;
  j.add(used);
  ReagentLot lot;
  lot.reagent = "anti-A";
  lot.lot = "L-1";
  lot.expires_at = nov(20, 0);
  j.add(reagent_expiry_event(lot, "NBS-LAB"));
  Event tick = clock_tick_event(days_from_civil(2026, 12, 5) * kDay);
  tick.recorded_at = tick.at;
  j.add(tick);
  j.commit();
}

json report(Journal& j, const std::string& period, const std::string& scope) {
  const auto& ref = shipped_engine_reference();
  auto req = parse_report_request({{"period", period}, {"scope", scope}}, ref);
  REQUIRE(req.ok());
  auto in = report_inputs(j.engine->store(), ref, *req, 28);
  REQUIRE(in.ok());
  return report_json(*in, *req, ref, 28);
}

}  // namespace

TEST_CASE("a month's report gives each figure of the known journal", "[reports]") {
  Journal j;
  write_known_journal(j);
  const json r = report(j, "2026-11", "country");
  INFO(r.dump(2));
  CHECK(r["complete"] == true);
  CHECK(r["from"] == "2026-11-01");
  CHECK(r["to"] == "2026-11-30");
  // Donations by donor type.
  CHECK(r["donations"]["total"] == 5);
  CHECK(r["donations"]["by_type"]["voluntary"] == 3);
  CHECK(r["donations"]["by_type"]["replacement"] == 1);
  CHECK(r["donations"]["by_type"]["autologous"] == 0);
  CHECK(r["donations"]["by_type"]["unrecorded"] == 1);
  // Components produced.
  CHECK(r["components_produced"]["total"] == 6);
  CHECK(r["components_produced"]["by_category"]["red_cells"] == 5);
  CHECK(r["components_produced"]["by_category"]["platelets"] == 1);
  // Units issued, transfused, returned, discarded by reason, expired.
  const json& u = r["units"];
  CHECK(u["reserved"]["red_cells"] == 2);
  CHECK(u["issued"]["red_cells"] == 2);
  CHECK(u["transfused"]["red_cells"] == 1);
  CHECK(u["returned"]["red_cells"] == 1);
  CHECK(u["discarded"]["red_cells"]["tti_positive"] == 1);
  CHECK(u["discarded"]["red_cells"]["broken_bag"] == 1);
  CHECK(u["discarded_total"]["red_cells"] == 2);
  CHECK(u["expired"]["platelets"] == 1);
  // Wastage rate: (discarded + expired) / produced.
  CHECK(r["wastage"]["red_cells"]["wasted"] == 2);
  CHECK(r["wastage"]["red_cells"]["rate_percent"] == 40.0);
  CHECK(r["wastage"]["platelets"]["rate_percent"] == 100.0);
  // Reserved or crossmatched to transfused.
  CHECK(r["reserved_to_transfused"]["ratio"] == 2.0);
  // TTI: per 10,000 donations.
  CHECK(r["tti"]["donations"] == 5);
  CHECK(r["tti"]["markers"]["hiv"]["repeatedly_reactive"] == 1);
  CHECK(r["tti"]["markers"]["hiv"]["confirmed"] == 1);
  CHECK(r["tti"]["markers"]["hiv"]["reactive_per_10000"] == 2000.0);
  CHECK(r["tti"]["governorates"]["NBS"]["markers"]["hiv"]["confirmed_per_10000"] == 2500.0);
  CHECK_FALSE(r["tti"]["governorates"]["GZA"]["markers"].contains("hiv"));
  // Collection to release: 6 h, 6 h, 12 h, 24 h and 6 h (GZA).
  CHECK(r["collection_to_release"]["released"] == 5);
  CHECK(r["collection_to_release"]["median_hours"] == 6.0);
  CHECK(r["collection_to_release"]["p90_hours"] == 24.0);
  // Days of supply of red cells: O+ holds one unit from the 6th, when its
  // first demand came (28 days); A+ has none left once the 9th's discard is demand.
  const json& dos = r["days_of_supply"];
  CHECK(dos["days"] == 30);
  CHECK(dos["groups"]["O+"]["min"] == 28.0);
  CHECK(dos["groups"]["O+"]["average"] == 28.0);
  CHECK(dos["groups"]["O+"]["days_with_demand"] == 25);
  CHECK(dos["groups"]["A+"]["min"] == 0.0);
  CHECK(dos["groups"]["A+"]["days_with_demand"] == 22);
  CHECK(dos["groups"]["O-"]["min"].is_null());
  // Reagents.
  CHECK(r["reagents"]["anti-A"]["used"] == 30);
  CHECK(r["reagents"]["anti-A"]["lots_expired"] == 1);
  // Vein to vein: none in this journal (see the next test).
  CHECK(r["vein_to_vein"]["emergency_releases"]["total"] == 0);
  CHECK(r["vein_to_vein"]["transfusion_reactions"]["per_1000_transfused"] == 0.0);
  // Trend: the period is the last point.
  CHECK(r["trend"].back()["month"] == "2026-11");
  CHECK(r["trend"].back()["donations"] == 5);
  CHECK(r["trend"].back()["wasted"] == 3);
}

TEST_CASE("a report adds up over the months of a quarter and a year and keeps to its scope",
          "[reports]") {
  Journal j;
  write_known_journal(j);
  CHECK(report(j, "2026-Q4", "country")["donations"]["total"] == 5);
  CHECK(report(j, "2026", "country")["units"]["issued"]["red_cells"] == 2);
  CHECK(report(j, "2026-10", "country")["donations"]["total"] == 0);
  CHECK(report(j, "2026-11", "NBS")["donations"]["total"] == 4);
  CHECK(report(j, "2026-11", "GZA")["donations"]["total"] == 1);
  CHECK(report(j, "2026-11", "GZA-BB")["collection_to_release"]["median_hours"] == 6.0);
  CHECK(report(j, "2026-11", "GZA")["days_of_supply"]["groups"]["O+"]["min"].is_null());
  CHECK(report(j, "2026-11", "NBS-LAB")["reagents"]["anti-A"]["used"] == 30);
}

TEST_CASE("a closed month's figures are the same after a rebuild and as CSV", "[reports]") {
  Journal j;
  write_known_journal(j);
  const json before = report(j, "2026-11", "country");
  auto check = rebuild(j.engine->store(), shipped_engine_reference(), Rules{}, false);
  REQUIRE(check.ok());
  INFO((check->differences.empty() ? "" : check->differences.front()));
  CHECK(check->equal);
  auto written = rebuild(j.engine->store(), shipped_engine_reference(), Rules{}, true);
  REQUIRE(written.ok());
  CHECK(report(j, "2026-11", "country") == before);
  const std::string csv = report_csv(before);
  CHECK(csv.rfind("figure,value\n", 0) == 0);
  CHECK(csv.find("\ndonations.total,5\n") != std::string::npos);
  CHECK(csv.find("\nunits.discarded.red_cells.broken_bag,1\n") != std::string::npos);
  CHECK(csv.find("\ntrend.2026-11.donations,5\n") != std::string::npos);
}

TEST_CASE("a report request names a bad period or scope", "[reports]") {
  const auto& ref = shipped_engine_reference();
  for (const char* bad : {"2026-13", "2026-Q5", "26-11", "", "2026-11-01"}) {
    auto r = parse_report_request({{"period", bad}}, ref);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "bad_report");
  }
  auto scope = parse_report_request({{"period", "2026-11"}, {"scope", "ATLANTIS"}}, ref);
  REQUIRE_FALSE(scope.ok());
  CHECK(scope.error().message.find("scope") != std::string::npos);
  auto q = parse_report_request({{"period", "2026-Q4"}, {"scope", "GZA"}}, ref);
  REQUIRE(q.ok());
  CHECK(q->first_month == 202610);
  CHECK(q->last_month == 202612);
  CHECK(q->kind == ReportRequest::ScopeKind::governorate);
}

TEST_CASE(
    "a report counts emergency releases, reactions per 1,000 transfusions and units of unknown "
    "fate",
    "[reports]") {
  Journal j;
  const std::string din = "G123426300006", rc = "E0336V00";
  j.donation(din, "JEN-BB", nov(12, 8), AboRh::o_neg, DonationType::voluntary, {rc}, nov(12, 14));
  Event issue = j.make(EventType::unit_issued, nov(13, 9), "JEN-BB", din, rc);
  issue.emergency = true;
  issue.patient = "PAT-7";
  issue.to = "JEN-HOS";
  issue.reason = "massive haemorrhage, no time to group";
  issue.approver = "Dr. Rania Haddad";
  j.add(issue);
  Event transfused = j.make(EventType::unit_transfused, nov(13, 10), "JEN-HOS", din, rc);
  transfused.patient = "PAT-7";
  j.add(transfused);
  Event reaction = j.make(EventType::transfusion_reaction, nov(13, 12), "JEN-HOS", din, rc);
  reaction.patient = "PAT-7";
  reaction.onset_at = nov(13, 11);
  reaction.reaction = ReactionCategory::febrile;
  reaction.severity = ReactionSeverity::non_severe;
  reaction.imputability = Imputability::probable;
  j.add(reaction);
  // A second unit issued to the hospital and never heard of again: of unknown fate.
  const std::string lost = "G123426300007";
  j.donation(lost, "JEN-BB", nov(12, 9), AboRh::o_pos, DonationType::voluntary, {rc}, nov(12, 15));
  Event issue2 = j.make(EventType::unit_issued, nov(14, 9), "JEN-BB", lost, rc);
  issue2.patient = "PAT-8";
  issue2.patient_abo_rh = AboRh::o_pos;
  issue2.to = "JEN-HOS";
  j.add(issue2);
  // The alerts judge each batch at its clock: on the 20th the second unit's
  // fate is overdue (its alert is raised in November); the 5 December tick closes the month.
  Event tick20 = clock_tick_event(nov(20, 0));
  tick20.recorded_at = tick20.at;
  j.add(tick20);
  j.commit();
  Event tick = clock_tick_event(days_from_civil(2026, 12, 5) * kDay);
  tick.recorded_at = tick.at;
  j.add(tick);
  j.commit();
  const json v = report(j, "2026-11", "JEN")["vein_to_vein"];
  INFO(v.dump(2));
  CHECK(v["available"] == true);
  CHECK(v["emergency_releases"]["total"] == 1);
  CHECK(v["emergency_releases"]["by_category"]["red_cells"] == 1);
  CHECK(v["transfusion_reactions"]["total"] == 1);
  CHECK(v["transfusion_reactions"]["by_severity"]["non_severe"] == 1);
  CHECK(v["transfusion_reactions"]["by_category"]["febrile"] == 1);
  CHECK(v["transfusion_reactions"]["per_1000_transfused"] == 1000.0);
  CHECK(v["units_of_unknown_fate"] == 1);
  CHECK(report(j, "2026-11", "NBS")["vein_to_vein"]["emergency_releases"]["total"] == 0);
}
