// rebuild: the journal read once into fresh projections and alerts, compared
// with the stored (live) ones. These tests tamper with stored state and expect
// the check to say what differs.
#include <catch2/catch.hpp>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/ledger/engine.h"
#include "engine/storage/store.h"
#include "events/binary_codec.h"
#include "projections/partition_replay.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

// A store holding only a journal, in two recorded batches over two
// partitions, as the engine leaves it: only events the projector accepts.
void write_journal(Store& store, const KnownStream& stream) {
  Store::Batch b;
  PartitionReplay replays[2] = {PartitionReplay(shipped_engine_reference(), Rules{}),
                                PartitionReplay(shipped_engine_reference(), Rules{})};
  std::int64_t next[2] = {0, 0};
  std::map<std::int32_t, std::int64_t> ends;
  const std::size_t half = stream.events.size() / 2;
  for (std::size_t i = 0; i < stream.events.size(); ++i) {
    const Event& e = stream.events[i];
    const auto p = static_cast<std::int32_t>(std::hash<std::string>{}(e.din) % 2);
    if (replays[p].apply(e)) {
      b.put_journal(p, next[p], encode_binary(e));
      ends[p] = ++next[p];
    }
    if (i + 1 == half || i + 1 == stream.events.size()) {
      b.put_batch_end(i + 1 == half ? 1 : 2, ends);
      ends.clear();
    }
  }
  REQUIRE(store.commit(b).ok());
}

// What rebuild --check finds, the replay holding its donations as `holding` says.
std::string found_differences(Store& store, const ReplayHolding& holding) {
  auto r = rebuild(store, shipped_engine_reference(), Rules{}, false, {}, holding);
  REQUIRE(r.ok());
  std::string all;
  for (const auto& d : r->differences) all += d + "\n";
  CHECK(r->equal == all.empty());
  return all;
}

}  // namespace

TEST_CASE("rebuild --check says which stored projection differs from the journal",
          "[engine][rebuild]") {
  TempDir dir;
  auto opened = Store::open(dir.path() + "/db");
  REQUIRE(opened.ok());
  Store& store = **opened;
  const KnownStream stream = known_stream(24, "rb");
  write_journal(store, stream);
  auto written = rebuild(store, shipped_engine_reference(), Rules{}, true);
  REQUIRE(written.ok());
  CHECK(written->donations == 24);
  // Every donation decoded to the end, or all but one held encoded, in
  // memory or in a scratch store.
  ReplayHolding holding;
  holding.decoded = GENERATE(ReplayedDonations::kDecodedLimit, std::size_t{1});
  if (GENERATE(false, true)) holding.scratch_dir = dir.path() + "/rebuild-scratch";
  const auto differences = [&holding](Store& s) { return found_differences(s, holding); };
  CHECK(differences(store).empty());

  auto restore = [&] {
    REQUIRE(rebuild(store, shipped_engine_reference(), Rules{}, true).ok());
    REQUIRE(differences(store).empty());
  };
  const std::int32_t p = 0;
  std::string din;
  std::optional<Donation> d;
  REQUIRE(store
              .scan_donations(p,
                              [&](std::string_view k, std::string_view v) {
                                din = std::string(k);
                                auto decoded = decode_donation(v);
                                REQUIRE(decoded.ok());
                                d = *decoded;
                                return false;
                              })
              .ok());
  REQUIRE(d.has_value());

  SECTION("a changed donation") {
    Donation changed = *d;
    changed.volume_ml += 1;
    Store::Batch b;
    b.put_donation(p, din, encode_donation(changed));
    REQUIRE(store.commit(b).ok());
    CHECK_THAT(differences(store), Catch::Contains("donation " + din + " differs from its replay"));
    restore();
  }
  SECTION("a donation the journal does not have") {
    Donation extra = *d;
    extra.din = "G123426999990";
    Store::Batch b;
    b.put_donation(p, extra.din, encode_donation(extra));
    REQUIRE(store.commit(b).ok());
    const auto found = differences(store);
    CHECK_THAT(found, Catch::Contains("donation G123426999990 is live but not in the journal"));
    CHECK_THAT(found, Catch::Contains("live donations"));
    restore();
  }
  SECTION("a donation the store lost") {
    Store::Batch b;
    b.delete_donation(p, din);
    REQUIRE(store.commit(b).ok());
    const auto found = differences(store);
    CHECK_THAT(found, Catch::Contains("donation " + din + " is in the journal but not live"));
    CHECK_THAT(found, Catch::Contains("live donations"));
    restore();
  }
  SECTION("a missing, an extra and a changed index entry") {
    const auto entries = index_entries(*d);
    REQUIRE_FALSE(entries.empty());
    const IndexEntry& first = entries.front();
    const std::string first_key = std::string(1, first.kind) + "|" + first.key;
    IndexEntry changed = first;
    changed.value += "x";
    const IndexEntry extra{'x', "00000000000000000001|G123426999990|E0382V00", "NBS-BB"};
    const std::vector<std::pair<std::function<void(Store::Batch&)>, std::string>> tampers = {
        {[&](Store::Batch& b) { b.delete_index(p, first); },
         "first: entry " + first_key + " is replayed but not stored"},
        {[&](Store::Batch& b) { b.put_index(p, extra); },
         "first: entry x|" + extra.key + " is stored but not replayed"},
        {[&](Store::Batch& b) { b.put_index(p, changed); },
         "first: entry " + first_key + " is stored as \"" + changed.value + "\", replayed as \"" +
             first.value + "\""}};
    for (const auto& [tamper, said] : tampers) {
      Store::Batch b;
      tamper(b);
      REQUIRE(store.commit(b).ok());
      const auto found = differences(store);
      CHECK_THAT(found, Catch::Contains("partition 0 indexes differ"));
      CHECK_THAT(found, Catch::Contains(said));
      restore();
    }
  }
  SECTION("a changed stock count") {
    auto stock = store.stock(p);
    REQUIRE(stock.ok());
    REQUIRE_FALSE(stock->cells().empty());
    const auto& [key, n] = *stock->cells().begin();
    Store::Batch b;
    b.put_stock(p, key, n + 1);
    REQUIRE(store.commit(b).ok());
    CHECK_THAT(differences(store), Catch::Contains("partition 0 stock differs"));
    restore();
  }
  SECTION("an alert change the journal does not explain") {
    Store::Batch b;
    b.put_alert_change(999, "{}");
    REQUIRE(store.commit(b).ok());
    CHECK_THAT(differences(store), Catch::Contains("alert changes differ"));
  }
}
