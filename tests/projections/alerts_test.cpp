// The alert model with a synthetic clock: supply phases with hysteresis,
// expiring-soon alerts with a transfer suggestion, lookback recalls.
#include "projections/alerts.h"

#include <catch2/catch.hpp>

#include "projections/indexes.h"
#include "tests/event_builders.h"
#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const std::string kJeninBank = "JEN-BB";  // Jenin borders Nablus

struct Harness {
  AlertModel model{shipped_reference(), SupplyConfig{}};
  std::map<std::tuple<std::string, Category, AboRh>, std::int64_t> available;

  // Sets a facility's available count of a cell to n.
  void set_available(const std::string& facility, AboRh g, std::int64_t n,
                     Category c = Category::red_cells) {
    auto& now = available[{facility, c, g}];
    model.on_stock(StockKey{facility, c, g, UnitStatus::available}, n - now);
    now = n;
  }
  // `units` consumed yesterday at `facility`, so that daily demand = units / 28.
  void consumed(const std::string& facility, AboRh g, std::int64_t units,
                Category c = Category::red_cells) {
    model.on_demand(DemandKey{day_of(model.clock()) - 1, facility, c, g}, units);
  }
  std::vector<AlertChange> at(TimeMs t) {
    model.advance_clock(t);
    return model.evaluate();
  }
};

IndexEntry available_entry(const std::string& facility, TimeMs expires, const std::string& din,
                           const std::string& product, Category c, AboRh g) {
  return {'a', facility + "|" + decimal20(expires) + "|" + din + "|" + product,
          std::string(to_string(c)) + "|" + std::string(to_string(g))};
}

const Alert& only_open(const AlertModel& m) {
  REQUIRE(m.open().size() == 1);
  return m.open().begin()->second;
}

}  // namespace

TEST_CASE("a governorate's O- red cells move through the phases and clear only past the margin",
          "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  h.consumed(kBank, AboRh::o_neg, 28);  // one unit a day
  h.set_available(kBank, AboRh::o_neg, 10);
  CHECK(h.at(kT0).empty());  // 10 days: Green

  h.set_available(kBank, AboRh::o_neg, 5);  // 5 days: Pre-Amber
  auto c = h.at(kT0 + kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "raised");
  CHECK(c[0].alert.kind == AlertKind::supply_phase);
  CHECK(c[0].alert.severity == Severity::info);
  CHECK(c[0].alert.governorate == "NBS");
  CHECK(c[0].alert.group == AboRh::o_neg);
  CHECK(c[0].alert.figures["days_of_supply"] == 5.0);
  CHECK(c[0].alert.raised_at == kT0 + kMinute);
  const std::string id = c[0].alert.id;

  h.set_available(kBank, AboRh::o_neg, 1);  // 1 day: Amber
  c = h.at(kT0 + 2 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "escalated");
  CHECK(c[0].alert.severity == Severity::amber);
  CHECK(c[0].alert.id == id);

  h.set_available(kBank, AboRh::o_neg, 0);  // none: Red
  c = h.at(kT0 + 3 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.severity == Severity::red);
  CHECK(c[0].alert.message.find("O- red cells in Nablus") == 0);

  // 2 days would be Pre-Amber without hysteresis; 2 / 1.25 = 1.6 keeps it Amber.
  h.set_available(kBank, AboRh::o_neg, 2);
  c = h.at(kT0 + 4 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "eased");
  CHECK(c[0].alert.severity == Severity::amber);

  // 7 days is Green, but 7 / 1.25 = 5.6 is under 6: Pre-Amber, not cleared.
  h.set_available(kBank, AboRh::o_neg, 7);
  c = h.at(kT0 + 5 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.severity == Severity::info);
  CHECK(only_open(h.model).id == id);

  // Hovering does not flap: 6 and 7 days again change nothing.
  h.set_available(kBank, AboRh::o_neg, 6);
  CHECK(h.at(kT0 + 6 * kMinute).empty());

  h.set_available(kBank, AboRh::o_neg, 8);  // 8 / 1.25 = 6.4: Green, cleared
  c = h.at(kT0 + 7 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
  CHECK(c[0].alert.id == id);
  CHECK(c[0].alert.cleared_at == kT0 + 7 * kMinute);
  CHECK(h.model.open().empty());

  // Falling again is a new alert with a new id.
  h.set_available(kBank, AboRh::o_neg, 5);
  c = h.at(kT0 + 8 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "raised");
  CHECK(c[0].alert.id != id);
}

TEST_CASE("supply is judged per governorate, summing its facilities", "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  h.consumed(kBank, AboRh::a_pos, 28);
  h.set_available(kBank, AboRh::a_pos, 1);
  h.set_available("NBS-HOS", AboRh::a_pos, 9);  // same governorate: 10 days in all
  CHECK(h.at(kT0).empty());
  h.set_available("NBS-HOS", AboRh::a_pos, 0);
  auto c = h.at(kT0 + kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.severity == Severity::amber);  // 1 day
}

TEST_CASE("demand older than the window stops counting, so phases follow recent demand",
          "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  h.consumed(kBank, AboRh::b_pos, 28);
  h.set_available(kBank, AboRh::b_pos, 1);
  REQUIRE(h.at(kT0).size() == 1);
  // 30 days later yesterday's demand is out of the 28-day window: no demand, Green.
  auto c = h.at(kT0 + 30 * kDay);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}

TEST_CASE("units expiring soon raise an alert with a transfer to a short bank nearby",
          "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  // Jenin is short of O+ red cells: 1 available, one a day consumed.
  h.consumed(kJeninBank, AboRh::o_pos, 28);
  h.set_available(kJeninBank, AboRh::o_pos, 1);
  h.set_available(kBank, AboRh::o_pos, 2);
  h.model.on_index(
      available_entry(kBank, kT0 + 48 * kHour, kDin, kRedCells, Category::red_cells, AboRh::o_pos),
      true);
  h.model.on_index(available_entry(kBank, kT0 + 100 * kHour, kOtherDin, kRedCells,
                                   Category::red_cells, AboRh::o_pos),
                   true);
  auto changes = h.at(kT0);
  const Alert* expiring = nullptr;
  for (const auto& [key, a] : h.model.open()) {
    if (a.kind == AlertKind::expiring_soon) expiring = &a;
  }
  REQUIRE(expiring != nullptr);
  CHECK(expiring->facility == kBank);
  CHECK(expiring->severity == Severity::amber);
  CHECK(expiring->figures["units"] == 1);  // the unit at 100 h is beyond 72 h
  CHECK(expiring->figures["horizon_hours"] == 72);
  REQUIRE(expiring->figures["suggestion"].is_object());
  CHECK(expiring->figures["suggestion"]["to"] == kJeninBank);
  CHECK(expiring->message.find("suggested transfer to") != std::string::npos);

  // Once the unit is transferred (it leaves the available index) the alert clears.
  h.model.on_index(
      available_entry(kBank, kT0 + 48 * kHour, kDin, kRedCells, Category::red_cells, AboRh::o_pos),
      false);
  bool cleared = false;
  for (const auto& c : h.at(kT0 + kMinute)) {
    if (c.alert.kind == AlertKind::expiring_soon) cleared = c.action == "cleared";
  }
  CHECK(cleared);
}

TEST_CASE("platelets have their own 24 h horizon for expiring-soon alerts",
          "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  h.model.on_index(
      available_entry(kBank, kT0 + 30 * kHour, kDin, kPlatelets, Category::platelets, AboRh::a_pos),
      true);
  CHECK(h.at(kT0).empty());        // 30 h away: not yet
  auto c = h.at(kT0 + 7 * kHour);  // 23 h away
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.kind == AlertKind::expiring_soon);
  CHECK(c[0].alert.figures["horizon_hours"] == 24);
}

TEST_CASE("an open lookback recall is amber until its deadline, then red, and clears when done",
          "[projections][alerts]") {
  Harness h;
  const TimeMs deadline = kT0 + 72 * kHour;
  const IndexEntry recall{'k', decimal20(deadline) + "|" + kDin + "|" + kRedCells,
                          kGazaBank + "|red_cells|O-|hiv"};
  h.model.on_index(recall, true);
  auto c = h.at(kT0);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.kind == AlertKind::recall);
  CHECK(c[0].alert.severity == Severity::amber);
  CHECK(c[0].alert.facility == kGazaBank);
  CHECK(c[0].alert.governorate == "GZA");
  CHECK(c[0].alert.din == kDin);
  CHECK(c[0].alert.figures["overdue"] == false);

  CHECK(h.at(deadline).empty());  // at the deadline: not yet overdue
  c = h.at(deadline + kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "escalated");
  CHECK(c[0].alert.severity == Severity::red);
  CHECK(c[0].alert.message.find("OVERDUE") == 0);

  h.model.on_index(recall, false);  // discarded: the recall is done
  c = h.at(deadline + 2 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}

TEST_CASE("an alert survives its JSON form and a restored model raises nothing new",
          "[projections][alerts]") {
  Harness h;
  h.model.advance_clock(kT0);
  h.consumed(kBank, AboRh::o_neg, 28);
  h.set_available(kBank, AboRh::o_neg, 1);
  REQUIRE(h.at(kT0).size() == 1);
  const Alert& a = only_open(h.model);
  const auto j = alert_json(a, shipped_reference());
  CHECK(j["governorate_name_ar"] == "نابلس");
  auto back = alert_from_json(j);
  REQUIRE(back.ok());
  CHECK(*back == a);

  AlertModel restored(shipped_reference(), SupplyConfig{});
  restored.restore(h.model.open(), h.model.seq(), h.model.clock());
  restored.on_demand(DemandKey{day_of(kT0) - 1, kBank, Category::red_cells, AboRh::o_neg}, 28);
  restored.on_stock(StockKey{kBank, Category::red_cells, AboRh::o_neg, UnitStatus::available}, 1);
  CHECK(restored.evaluate().empty());
  CHECK(restored.open() == h.model.open());

  CHECK_FALSE(alert_from_json(nlohmann::json{{"id", "AL-1"}}).ok());
}

TEST_CASE("supply settings are read from JSON and refuse unknown keys and bad numbers",
          "[projections][alerts]") {
  auto c = parse_supply_config(R"({"window_days": 14, "recover_factor": 1.5,
      "thresholds": {"red_cells": {"pre_amber": 7, "amber": 3}},
      "expiring_hours": {"platelets": 12}})");
  REQUIRE(c.ok());
  CHECK(c->window_days == 14);
  CHECK(c->recover_factor == 1.5);
  CHECK(c->thresholds_for(Category::red_cells).pre_amber == 7);
  CHECK(c->thresholds_for(Category::red_cells).amber == 3);
  CHECK(c->thresholds_for(Category::red_cells).red == 1);  // the default stays
  CHECK(c->expiring_hours_for(Category::platelets) == 12);
  CHECK(c->expiring_hours_for(Category::red_cells) == 72);

  for (const char* bad : {R"([])", R"({"window": 3})", R"({"window_days": 0})",
                          R"({"recover_factor": 0.5})", R"({"thresholds": {"blood": {"red": 1}}})",
                          R"({"thresholds": {"red_cells": {"amber": 9}}})",
                          R"({"expiring_hours": {"plasma": -1}})", "{"}) {
    INFO(bad);
    auto r = parse_supply_config(bad);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "invalid_supply_config");
  }
}

TEST_CASE(
    "a lab running short of a reagent is alerted, worse as cover falls, and cleared past the "
    "margin",
    "[projections][alerts][reagents]") {
  Harness h;
  h.model.advance_clock(kT0);
  // anti-A (min cover 14 days): 56 tests used yesterday = 2 a day over 28 days.
  h.model.on_reagent_usage(ReagentUsageKey{day_of(kT0) - 1, kLab, "anti-A"}, 56);
  ReagentLot lot{"anti-A", "AA-1", kT0 + 365 * kDay, false, {{kLab, 40}}, {}};
  h.model.set_reagent_lot(lot);  // 20 days: fine
  CHECK(h.at(kT0).empty());

  lot.on_hand[kLab] = 20;  // 10 days: amber
  h.model.set_reagent_lot(lot);
  auto c = h.at(kT0 + kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.kind == AlertKind::reagent_cover);
  CHECK(c[0].alert.severity == Severity::amber);
  CHECK(c[0].alert.facility == kLab);
  CHECK(c[0].alert.reagent == "anti-A");
  CHECK(c[0].alert.figures["days_of_cover"] == 10.0);

  lot.on_hand[kLab] = 8;  // 4 days, under half the minimum: red
  h.model.set_reagent_lot(lot);
  c = h.at(kT0 + 2 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "escalated");
  CHECK(c[0].alert.severity == Severity::red);

  lot.on_hand[kLab] = 30;  // 15 days: over 14 but under 14 x 1.25 = 17.5: still open
  h.model.set_reagent_lot(lot);
  c = h.at(kT0 + 3 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "eased");
  lot.on_hand[kLab] = 40;  // 20 days: cleared
  h.model.set_reagent_lot(lot);
  c = h.at(kT0 + 4 * kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}

TEST_CASE("a reagent's cover alert leaves out today's use, as the reagents page does",
          "[projections][alerts][reagents]") {
  Harness h;
  h.model.advance_clock(kT0);
  // 56 tests yesterday (2 a day over 28 days) and 280 so far today.
  h.model.on_reagent_usage(ReagentUsageKey{day_of(kT0) - 1, kLab, "anti-A"}, 56);
  h.model.on_reagent_usage(ReagentUsageKey{day_of(kT0), kLab, "anti-A"}, 280);
  ReagentLot lot{"anti-A", "AA-1", kT0 + 365 * kDay, false, {{kLab, 20}}, {}};
  h.model.set_reagent_lot(lot);
  auto c = h.at(kT0);
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.figures["days_of_cover"] == 10.0);
  CHECK(c[0].alert.figures["daily_use"] == 2.0);
  // The next day, yesterday's 280 count: 336 over 28 days = 12 a day.
  c = h.at(kT0 + kDay);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "escalated");
  CHECK(c[0].alert.figures["daily_use"] == 12.0);
}

TEST_CASE("a reagent lot with stock nearing expiry is alerted until it is used up",
          "[projections][alerts][reagents]") {
  Harness h;
  ReagentLot lot{"hiv-elisa", "HIV-77", kT0 + 20 * kDay, false, {{kLab, 96}}, {}};
  h.model.set_reagent_lot(lot);
  auto c = h.at(kT0);  // 20 days left, warning at 30
  REQUIRE(c.size() == 1);
  CHECK(c[0].alert.kind == AlertKind::reagent_expiring);
  CHECK(c[0].alert.lot == "HIV-77");
  CHECK(c[0].alert.figures["on_hand"] == 96);
  CHECK_THAT(c[0].alert.message, Catch::Contains("Lot HIV-77 of HIV-1/2 Ag+Ab ELISA kit"));
  auto back = alert_from_json(alert_json(c[0].alert, shipped_reference()));
  REQUIRE(back.ok());
  CHECK(back->lot == "HIV-77");
  lot.on_hand.clear();  // used up
  h.model.set_reagent_lot(lot);
  c = h.at(kT0 + kMinute);
  REQUIRE(c.size() == 1);
  CHECK(c[0].action == "cleared");
}
