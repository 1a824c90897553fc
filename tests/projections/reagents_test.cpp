// Reagent and test-kit lots: receipt, use, transfer, discard and expiry, and
// every rule that refuses an impossible or unsafe record.
#include "projections/reagents.h"

#include <catch2/catch.hpp>

#include "tests/event_builders.h"
#include "tests/projections/ledger.h"
#include "tests/test_reference.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const ReagentCatalogue& catalogue() { return shipped_reference().reagents(); }

const TimeMs kLotExpiry = kT0 + 60 * kDay;

Event reagent_event(EventType t, TimeMs at, std::int32_t quantity,
                    const std::string& facility = kLab) {
  Event e;
  e.id = next_event_id();
  e.type = t;
  e.at = at;
  e.facility = facility;
  e.reagent = "anti-A";
  e.lot = "AA-2611";
  e.quantity = quantity;
  if (t == EventType::reagent_received) e.expires_at = kLotExpiry;
  return e;
}

struct Lot {
  std::optional<ReagentLot> state;
  std::vector<ReagentUsage> usage;
  void accept(const Event& e) {
    auto r = apply_reagent_event(shipped_reference(), state ? &*state : nullptr, e);
    if (!r)
      FAIL(to_string(e.type) << " was rejected: " << r.error().code << ": " << r.error().message);
    state = r->after;
    usage.insert(usage.end(), r->usage.begin(), r->usage.end());
  }
  void expect_rejected(const Event& e, const std::string& code) {
    auto r = apply_reagent_event(shipped_reference(), state ? &*state : nullptr, e);
    INFO(to_string(e.type) << " expected to be rejected with " << code);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == code);
    INFO(r.error().message);
    CHECK(is_sentence(r.error().message));
  }
};

}  // namespace

TEST_CASE("a reagent lot is received, used, moved, discarded and expires",
          "[projections][reagents]") {
  Lot l;
  l.accept(reagent_event(EventType::reagent_received, kT0, 500));
  CHECK(l.state->on_hand.at(kLab) == 500);
  Event used = reagent_event(EventType::reagent_consumed, kT0 + kHour, 20);
  used.din = kDin;
  used.test = "abo";
  l.accept(used);
  CHECK(l.state->on_hand.at(kLab) == 480);
  REQUIRE(l.usage.size() == 1);
  CHECK(l.usage[0].key.facility == kLab);
  CHECK(l.usage[0].key.reagent == "anti-A");
  CHECK(l.usage[0].change == 20);
  CHECK(l.state->history.back().detail == "20 tests used for " + kDin + " abo");

  Event moved = reagent_event(EventType::reagent_transferred, kT0 + kDay, 100);
  moved.to = "GZA-LAB";
  l.accept(moved);
  CHECK(l.state->on_hand.at(kLab) == 380);
  CHECK(l.state->on_hand.at("GZA-LAB") == 100);
  l.accept(reagent_event(EventType::reagent_discarded, kT0 + kDay, 80));
  CHECK(l.state->total() == 400);
  // A second delivery of the same lot adds to it.
  l.accept(reagent_event(EventType::reagent_received, kT0 + 2 * kDay, 50, "GZA-LAB"));
  CHECK(l.state->on_hand.at("GZA-LAB") == 150);

  l.expect_rejected(reagent_event(EventType::reagent_expired, kLotExpiry - kHour, 0),
                    "not_yet_expired");
  l.accept(reagent_event(EventType::reagent_expired, kLotExpiry, 0));
  CHECK(l.state->expired);
  CHECK(l.state->total() == 0);
  l.expect_rejected(reagent_event(EventType::reagent_consumed, kLotExpiry + kHour, 1),
                    "reagent_expired");
  l.expect_rejected(reagent_event(EventType::reagent_expired, kLotExpiry + kHour, 0),
                    "reagent_expired");
}

TEST_CASE("nobody uses, moves or discards more of a lot than they hold",
          "[projections][reagents]") {
  Lot l;
  l.accept(reagent_event(EventType::reagent_received, kT0, 10));
  l.expect_rejected(reagent_event(EventType::reagent_consumed, kT0 + kHour, 11),
                    "insufficient_reagent");
  l.expect_rejected(reagent_event(EventType::reagent_consumed, kT0 + kHour, 1, "GZA-LAB"),
                    "insufficient_reagent");
  Event moved = reagent_event(EventType::reagent_transferred, kT0 + kHour, 11);
  moved.to = "GZA-LAB";
  l.expect_rejected(moved, "insufficient_reagent");
  moved.quantity = 1;
  moved.to = kLab;
  l.expect_rejected(moved, "same_facility");
  moved.to = "NOWHERE";
  l.expect_rejected(moved, "unknown_destination");
  l.expect_rejected(reagent_event(EventType::reagent_discarded, kT0 + kHour, 11),
                    "insufficient_reagent");
  CHECK(l.state->total() == 10);
}

TEST_CASE("an unknown reagent, an unreceived lot, an expired lot or a second expiry is refused",
          "[projections][reagents]") {
  Lot l;
  l.expect_rejected(reagent_event(EventType::reagent_consumed, kT0, 1), "unknown_lot");
  Event unknown = reagent_event(EventType::reagent_received, kT0, 1);
  unknown.reagent = "anti-Z";
  l.expect_rejected(unknown, "unknown_reagent");
  Event stale = reagent_event(EventType::reagent_received, kLotExpiry + kDay, 5);
  l.expect_rejected(stale, "reagent_expired");
  l.accept(reagent_event(EventType::reagent_received, kT0, 5));
  Event other_expiry = reagent_event(EventType::reagent_received, kT0 + kDay, 5);
  other_expiry.expires_at = kLotExpiry + kDay;
  l.expect_rejected(other_expiry, "lot_expiry_mismatch");
  // Past its expiry but before the expiry is recorded, a lot still cannot be used.
  l.expect_rejected(reagent_event(EventType::reagent_consumed, kLotExpiry + kMinute, 1),
                    "reagent_expired");
}

TEST_CASE("a reagent lot survives storage and its expiry event is deterministic",
          "[projections][reagents]") {
  Lot l;
  l.accept(reagent_event(EventType::reagent_received, kT0, 7));
  auto back = decode_reagent_lot(encode_reagent_lot(*l.state));
  REQUIRE(back.ok());
  CHECK(*back == *l.state);
  CHECK_FALSE(decode_reagent_lot("").ok());
  CHECK_FALSE(decode_reagent_lot(std::string("\x01\x05", 2)).ok());
  const Event a = reagent_expiry_event(*l.state, kLab), b = reagent_expiry_event(*l.state, kLab);
  CHECK(a == b);
  CHECK(a.id == "reagent-expiry-anti-A-AA-2611");
  CHECK(a.at == kLotExpiry);
  CHECK(validate_shape(a).ok());
  CHECK(event_key(a) == "reagent:anti-A:AA-2611");
  auto k = decode_usage_key(encode_usage_key({20000, kLab, "anti-A"}));
  REQUIRE(k.ok());
  CHECK(k->facility == kLab);
  CHECK(k->day == 20000);
}

TEST_CASE("the reagent catalogue refuses a bad header, bad days and duplicates",
          "[projections][reagents]") {
  CHECK(catalogue().find("anti-D") != nullptr);
  CHECK(catalogue().find("anti-D")->min_cover_days == 14);
  const std::string header = "code,name,unit,min_cover_days,expiry_warning_days\n";
  CHECK_FALSE(ReagentCatalogue::parse("code,name\nx,y\n").ok());
  CHECK_FALSE(ReagentCatalogue::parse(header + "x,X,tests,ten,30\n").ok());
  CHECK_FALSE(ReagentCatalogue::parse(header + "x,X,tests,10,30\nx,X,tests,10,30\n").ok());
  CHECK_FALSE(ReagentCatalogue::parse(header + "a b,X,tests,10,30\n").ok());
  CHECK(ReagentCatalogue::parse(header + "x,X,tests,10,30\n").ok());
}

TEST_CASE("days of cover count in-date stock and use on the whole days of the window, not today's",
          "[projections][reagents]") {
  const std::int64_t today = day_of(kT0);
  const std::vector<ReagentLot> lots = {
      {"anti-A", "IN-DATE", kT0 + 90 * kDay, false, {{kLab, 40}}, {}},
      {"anti-A", "PAST", kT0 - kHour, false, {{kLab, 500}}, {}},  // expiry not yet recorded
      {"anti-B", "B-1", kT0 + 90 * kDay, false, {{"GZA-LAB", 10}}, {}}};
  const std::map<ReagentUsageKey, std::int64_t> usage = {
      {{today - 29, kLab, "anti-A"}, 1000},  // before the 28-day window
      {{today - 28, kLab, "anti-A"}, 20},    // its first day
      {{today - 1, kLab, "anti-A"}, 36},     // its last day
      {{today, kLab, "anti-A"}, 1000},       // today, still under way
      {{today - 3, kLab, "anti-D"}, 14}};    // used up: none left
  const auto cover = reagent_cover(lots, usage, kT0, 28);

  const ReagentCover& a = cover.at({kLab, "anti-A"});
  CHECK(a.usable == 40);
  CHECK(a.used == 56);
  CHECK(a.daily_use(28) == 2.0);
  REQUIRE(a.days);
  CHECK(*a.days == 20.0);
  CHECK_FALSE(a.below(14));
  CHECK(a.below(21));

  const ReagentCover& b = cover.at({"GZA-LAB", "anti-B"});
  CHECK(b.usable == 10);
  CHECK_FALSE(b.days);  // no use: no figure, and never below a minimum
  CHECK_FALSE(b.below(14));

  const ReagentCover& d = cover.at({kLab, "anti-D"});
  CHECK(d.usable == 0);
  REQUIRE(d.days);
  CHECK(*d.days == 0.0);
  CHECK(cover.size() == 3);
}
