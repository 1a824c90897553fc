#include "projections/partition_replay.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <vector>

#include "events/binary_codec.h"
#include "tests/projections/ledger.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// A donation released, with red cells that expire two days after release, an
// issue refused on the way (quarantined), then issued.
std::vector<Event> released_and_issued() {
  return {
      donation_collected(kT0, AboRh::b_neg),
      component_produced(kRedCells, kT0 + kHour, kT0 + 3 * kDay),
      unit_issued(kRedCells, kT0 + kHour),  // refused: quarantined
      test_resulted("abo", "B", kT0 + 2 * kHour),
      test_resulted("rhd", "neg", kT0 + 2 * kHour),
      test_resulted("hiv", "negative", kT0 + 2 * kHour),
      test_resulted("hbv", "negative", kT0 + 2 * kHour),
      test_resulted("hcv", "negative", kT0 + 2 * kHour),
      test_resulted("syphilis", "negative", kT0 + 2 * kHour),
      unit_event(EventType::unit_released, kRedCells, kT0 + 3 * kHour),
      unit_issued(kRedCells, kT0 + 30 * kHour, AboRh::b_neg),
  };
}

}  // namespace

TEST_CASE("a replay folded in place gives the states, stock and refusals of apply_event",
          "[projections][replay]") {
  const auto events = released_and_issued();
  std::optional<Donation> pure;
  StockTable pure_stock;
  std::vector<std::string> pure_codes;
  for (const auto& e : events) {
    auto r = apply_event(shipped_reference(), Rules{}, pure ? &*pure : nullptr, e);
    pure_codes.push_back(r ? "ok" : r.error().code);
    if (!r) continue;
    pure = r->after;
    for (const auto& d : r->stock) pure_stock.apply(d);
  }
  PartitionReplay replay(shipped_reference(), Rules{});
  std::vector<std::string> codes;
  for (const auto& e : events) {
    auto s = replay.apply(e);
    codes.push_back(s ? "ok" : s.error().code);
  }
  CHECK(codes == pure_codes);
  CHECK(codes[2] == "unit_quarantined");
  REQUIRE(pure.has_value());
  REQUIRE(replay.state().donations.count(kDin) == 1);
  CHECK(*replay.state().donations.find(kDin) == *pure);
  CHECK(replay.state().donations.find(kDin)->history.size() == events.size() - 1);
  CHECK(replay.state().stock == pure_stock);
  CHECK(replay.state().events == events.size() - 1);
}

TEST_CASE("an event the replay refuses leaves the donation as it was, history included",
          "[projections][replay]") {
  PartitionReplay replay(shipped_reference(), Rules{});
  REQUIRE(replay.apply(donation_collected(kT0)).ok());
  REQUIRE(replay.apply(component_produced(kRedCells, kT0 + kHour)).ok());
  const Donation before = *replay.state().donations.find(kDin);
  auto refused = replay.apply(unit_event(EventType::unit_released, kRedCells, kT0 + 2 * kHour));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().code == "untested");
  CHECK(*replay.state().donations.find(kDin) == before);
  // A first event that is refused leaves no donation behind.
  auto orphan = unit_issued(kRedCells, kT0);
  orphan.din = "G123426000025";
  CHECK_FALSE(replay.apply(orphan).ok());
  CHECK(replay.state().donations.count("G123426000025") == 0);
}

TEST_CASE("the alert model fed by a replay at batch boundaries ends as when fed event by event",
          "[projections][replay][alerts]") {
  const auto events = released_and_issued();
  // Two batches: up to the release, then the issue.
  const std::size_t cut = events.size() - 1;
  AlertModel by_batch(shipped_reference(), SupplyConfig{});
  PartitionReplay replay(shipped_reference(), Rules{}, /*feeds_alerts=*/true);
  AlertModel by_event(shipped_reference(), SupplyConfig{});
  std::optional<Donation> state;
  std::vector<AlertChange> batch_changes, event_changes;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    (void)replay.apply(e);
    auto r = apply_event(shipped_reference(), Rules{}, state ? &*state : nullptr, e);
    if (r) {
      const auto before = state ? index_entries(*state) : std::vector<IndexEntry>{};
      const auto after = index_entries(r->after);
      for (const auto& x : before) {
        if (std::find(after.begin(), after.end(), x) == after.end()) by_event.on_index(x, false);
      }
      for (const auto& x : after) {
        if (std::find(before.begin(), before.end(), x) == before.end()) by_event.on_index(x, true);
      }
      for (const auto& d : r->stock) by_event.on_stock(d.key, d.change);
      for (const auto& d : r->demand) by_event.on_demand(d.key, d.change);
      state = r->after;
    }
    if (i + 1 == cut || i + 1 == events.size()) {
      by_event.advance_clock(std::max(e.at, e.recorded_at));
      for (auto& c : by_event.evaluate()) event_changes.push_back(std::move(c));
      const TimeMs clock = replay.feed(by_batch);
      CHECK(clock == e.at);
      by_batch.advance_clock(clock);
      for (auto& c : by_batch.evaluate()) batch_changes.push_back(std::move(c));
    }
  }
  CHECK_FALSE(batch_changes.empty());  // the unit expiring within its horizon, then issued
  CHECK(batch_changes == event_changes);
  CHECK(by_batch.open() == by_event.open());
  // Nothing applied since: a feed changes nothing.
  CHECK(replay.feed(by_batch) == 0);
  CHECK(by_batch.evaluate().empty());
}

namespace {

// Journal entries as an engine of schema version 1 and 2 wrote them (the bytes
// of encode_binary before version 3): a bank's issue with no patient and no
// destination, and the bank's own record of the transfusion.
const char kV1Issue[] =
    "484c010101000c0000006f6c642d76312d69737375650a00a22003a20100000000000000000000060000004e"
    "42532d424200000000000000000d000000473132333432363030303031370800000045303333365630300000"
    "0000000000000000000000000000000000000000000000000000000000000000";
const char kV2Transfusion[] =
    "484c01010200120000006f6c642d76322d7472616e73667573696f6e0c80905703a201000000000000000000"
    "00060000004e42532d424200000000000000000d000000473132333432363030303031370800000045303333"
    "3656303000000000000000000000000000000000000000000000000000000000000000000000000000000000"
    "000000000000";

std::string unhex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

}  // namespace

TEST_CASE("a journal of schema versions 1 and 2 decodes and replays under the rules of its time",
          "[projections][replay][bedside]") {
  auto issue = decode_binary(unhex(kV1Issue));
  auto transfusion = decode_binary(unhex(kV2Transfusion));
  REQUIRE(issue.ok());
  REQUIRE(transfusion.ok());
  CHECK(issue->schema_version == 1);
  CHECK(transfusion->schema_version == 2);
  CHECK(issue->type == EventType::unit_issued);
  CHECK(issue->patient_abo_rh == AboRh::unknown);
  CHECK(issue->to.empty());

  std::vector<Event> journal = {donation_collected(kT0, AboRh::o_pos),
                                component_produced(kRedCells, kT0 + kHour)};
  journal.push_back(test_resulted("abo", "O", kT0 + 2 * kHour));
  journal.push_back(test_resulted("rhd", "pos", kT0 + 2 * kHour));
  for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) {
    journal.push_back(test_resulted(s, "negative", kT0 + 2 * kHour));
  }
  journal.push_back(unit_event(EventType::unit_released, kRedCells, kT0 + 3 * kHour));
  PartitionReplay replay(shipped_reference(), Rules{});
  for (auto& e : journal) {
    // Written by the old engine: every entry in its own version, through its bytes.
    auto old = decode_binary(encode_binary(as_version(e, 1)));
    REQUIRE(old.ok());
    REQUIRE(replay.apply(*old).ok());
  }
  REQUIRE(replay.apply(*issue).ok());
  auto s = replay.apply(*transfusion);
  INFO((s.ok() ? std::string() : s.error().message));
  REQUIRE(s.ok());
  const auto replayed = replay.state().donations.find(kDin);
  REQUIRE(replayed);
  const UnitState* u = replayed->unit(kRedCells);
  REQUIRE(u != nullptr);
  CHECK(u->status == UnitStatus::transfused);
  CHECK(u->holder == kBank);  // custody never passed in those days
  CHECK(u->issued_by.empty());
  CHECK(replay.state().stock.cells().empty());
  // The same events written today are held to today's rules.
  PartitionReplay today(shipped_reference(), Rules{});
  for (const auto& e : journal) REQUIRE(today.apply(e).ok());
  Event now = *issue;
  now.schema_version = kSchemaVersion;
  CHECK(today.apply(now).error().code == "missing_destination");
}

TEST_CASE("a replay that holds most donations encoded ends with the same donations and stock",
          "[projections][replay]") {
  // Three donations' events interleaved, replayed once with every donation
  // decoded and once with room for only one decoded donation at a time.
  std::vector<Event> interleaved;
  const std::vector<std::string> dins = {kDin, "G123426000025", "G123426000033"};
  const auto events = released_and_issued();
  for (const auto& e : events) {
    for (const auto& din : dins) {
      Event copy = e;
      copy.din = din;
      copy.id = e.id + "-" + din;
      interleaved.push_back(copy);
    }
  }
  PartitionReplay decoded(shipped_reference(), Rules{});
  PartitionReplay encoded(shipped_reference(), Rules{});
  encoded.state().donations = ReplayedDonations(/*decoded_limit=*/1);
  // Fed after every other event: a donation is evicted with the index digest
  // remembered when it was fed, or, changed since, with a fresh one.
  PartitionReplay fed(shipped_reference(), Rules{}, /*feeds_alerts=*/true);
  fed.state().donations = ReplayedDonations(/*decoded_limit=*/1);
  AlertModel model(shipped_reference(), SupplyConfig{});
  for (std::size_t i = 0; i < interleaved.size(); ++i) {
    const Event& e = interleaved[i];
    const bool accepted = decoded.apply(e).ok();
    CHECK(encoded.apply(e).ok() == accepted);
    CHECK(fed.apply(e).ok() == accepted);
    if (i % 2 == 0) fed.feed(model);
  }
  CHECK(encoded.state().stock == decoded.state().stock);
  REQUIRE(encoded.state().donations.size() == dins.size());
  for (const auto& din : dins) {
    const auto d = decoded.state().donations.find(din);
    REQUIRE(d);
    CHECK(encoded.state().donations.find(din) == d);
    CHECK(encoded.state().donations.encoded(din) == encode_donation(*d));
    CHECK(d->history.size() == events.size() - 1);
  }
  std::size_t seen = 0;
  encoded.state().donations.for_each(
      [&](const std::string& din, const Donation& d, std::string_view bytes) {
        ++seen;
        CHECK(decoded.state().donations.find(din) == d);
        CHECK(bytes == encode_donation(d));
      });
  CHECK(seen == dins.size());
  // The index digest kept beside each encoded donation is that of its entries.
  EntryDigest expected;
  for (const auto& din : dins) {
    for (const auto& e : index_entries(*decoded.state().donations.find(din))) {
      expected.add(e.kind, e.key, e.value);
    }
  }
  CHECK(expected.count > 0);
  CHECK(encoded.state().donations.index_digest() == expected);
  CHECK(decoded.state().donations.index_digest() == expected);
  CHECK(fed.state().donations.index_digest() == expected);
  // Encoded all, they are visited in DIN order, each with its index digest.
  ReplayedDonations& all = fed.state().donations;
  all.encode_all();
  CHECK(all.size() == dins.size());
  CHECK(all.index_digest() == expected);
  std::vector<std::string> order;
  EntryDigest summed;
  for (auto c = all.cursor(); c.valid(); c.next()) {
    order.emplace_back(c.din());
    CHECK(c.bytes() == encode_donation(*decoded.state().donations.find(c.din())));
    summed += c.index();
  }
  CHECK(std::is_sorted(order.begin(), order.end()));
  CHECK(order.size() == dins.size());
  CHECK(summed == expected);
  encoded.state().donations.erase(kDin);
  CHECK(encoded.state().donations.count(kDin) == 0);
  CHECK(encoded.state().donations.size() == dins.size() - 1);
}
