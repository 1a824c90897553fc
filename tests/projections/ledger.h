// Ledger: one donation's state driven through apply_event() the way the engine
// does it, with the shipped reference data, for projector tests.
//
//   Ledger l;
//   l.accept(donation_collected(kT0));                        // FAILs the test if rejected
//   l.expect_rejected(unit_issued(kRedCells, kT0), "unknown_unit");
//
// accept() commits the new Donation and adds the event's stock deltas to
// `stock`; a rejection commits nothing. Only for use inside a Catch test.
#pragma once

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "projections/projector.h"
#include "tests/event_builders.h"
#include "tests/test_reference.h"

namespace hemoledger::testing {

// A message a technician can read: not empty, starts like a sentence and ends with a full stop.
inline bool is_sentence(const std::string& m) {
  if (m.size() < 10 || m.back() != '.') return false;
  const char c = m.front();
  return (c >= 'A' && c <= 'Z') || c == '"' || c == '\'';
}

class Ledger {
 public:
  explicit Ledger(Rules rules = {}) : rules_(rules) {}

  // Applies e and commits the result; fails the test if it is rejected.
  Applied accept(const Event& e) {
    auto r = apply_event(shipped_reference(), rules_, state_ ? &*state_ : nullptr, e);
    if (!r) {
      FAIL(std::string(to_string(e.type))
           << " was rejected: " << r.error().code << ": " << r.error().message);
    }
    state_ = r->after;
    for (const auto& d : r->stock) stock.apply(d);
    return std::move(r).value();
  }

  // Applies e, expects the rejection `code` with a readable sentence, commits nothing.
  Error expect_rejected(const Event& e, const std::string& code) {
    auto r = apply_event(shipped_reference(), rules_, state_ ? &*state_ : nullptr, e);
    INFO(to_string(e.type) << " expected to be rejected with " << code);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == code);
    INFO("message: " << r.error().message);
    CHECK(is_sentence(r.error().message));
    return r.error();
  }

  bool has_donation() const { return state_.has_value(); }
  const Donation& donation() const {
    REQUIRE(state_.has_value());
    return *state_;
  }
  const UnitState& unit(const std::string& product) const {
    const UnitState* u = donation().unit(product);
    REQUIRE(u != nullptr);
    return *u;
  }
  UnitStatus status(const std::string& product) const { return unit(product).status; }

  StockTable stock;  // the sum of the deltas of every accepted event

 private:
  Rules rules_;
  std::optional<Donation> state_;
};

// Collected at kT0 with `label`, the given components produced at kT0 + 1h,
// typed as `typed` and screened negative for every mandatory screen at kT0 + 2h.
// Nothing released yet.
inline void collect_and_test(Ledger& l, AboRh label, AboRh typed,
                             const std::vector<std::string>& products) {
  l.accept(donation_collected(kT0, label));
  for (const auto& p : products) l.accept(component_produced(p, kT0 + kHour));
  l.accept(test_resulted("abo", std::string(to_string(abo_of(typed))), kT0 + 2 * kHour));
  l.accept(test_resulted("rhd", rhd_of(typed) == RhD::positive ? "pos" : "neg", kT0 + 2 * kHour));
  for (const char* screen : {"hiv", "hbv", "hcv", "syphilis"}) {
    l.accept(test_resulted(screen, "negative", kT0 + 2 * kHour));
  }
}

// As collect_and_test, then every component released at kT0 + 3h by kBank.
inline void collect_test_release(Ledger& l, AboRh group, const std::vector<std::string>& products) {
  collect_and_test(l, group, group, products);
  for (const auto& p : products) {
    l.accept(unit_event(EventType::unit_released, p, kT0 + 3 * kHour));
  }
}

}  // namespace hemoledger::testing
