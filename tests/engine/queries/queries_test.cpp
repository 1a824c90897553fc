// Days of supply, phases and expiring units, computed from a store that the
// real apply path filled (Engine::apply_records on RocksDB on disk).
#include "engine/queries/queries.h"

#include <catch2/catch.hpp>

#include "engine/cli/reference_files.h"
#include "engine/ledger/engine.h"
#include "events/binary_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;
using nlohmann::json;

static const ReferenceData& ref() { return shipped_engine_reference(); }

namespace {

// Feeds events to an engine as consumed Kafka records of partition 0. The
// engine's clock stands still at `now`, the instant the queries are asked at.
struct Feed {
  TempDir dir;
  std::unique_ptr<Engine> engine;
  std::vector<Record> pending;
  std::int64_t offset = 0;
  int donations = 0;
  explicit Feed(TimeMs now) {
    EngineOptions o;
    o.data_dir = dir.path();
    o.clock = Clock::manual(now);
    auto e = Engine::open(o, ref(), nullptr);
    REQUIRE(e.ok());
    engine = std::move(*e);
  }
  void add(const Event& e) { pending.push_back(Record{0, offset++, e.din, encode_binary(e), 0}); }
  void commit() {
    REQUIRE(engine->apply_records(pending).ok());
    REQUIRE(engine->metrics().rejected == 0);
    pending.clear();
  }
  // A released O- red cell unit at `bank`, collected at `collected`;
  // issued at `issued` when given. Returns its DIN.
  std::string unit(const std::string& bank, TimeMs collected, std::optional<TimeMs> issued = {}) {
    const std::string din = din_for(++donations);
    EventMaker m(din, collected);
    Event c = m.make(EventType::donation_collected, bank, din);
    c.donor = "D" + din;
    c.abo_rh = AboRh::o_neg;
    add(c);
    add(m.make(EventType::component_produced, bank, din, "E0382V00"));
    Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
    t.test = "abo_rh";
    t.result = "O-";
    add(t);
    for (const char* s : {"hiv", "hbv", "hcv", "syphilis"}) {
      Event r = m.make(EventType::test_resulted, "NBS-LAB", din);
      r.test = s;
      r.result = "negative";
      add(r);
    }
    add(m.make(EventType::unit_released, bank, din, "E0382V00"));
    if (issued) {
      Event i = m.make(EventType::unit_issued, bank, din, "E0382V00");
      i.at = *issued;
      i.patient = "PAT-" + din.substr(7);
      i.patient_abo_rh = AboRh::o_neg;
      i.to = bank.substr(0, bank.find('-')) + "-HOS";
      add(i);
    }
    return din;
  }
};

const json& group_of(const json& supply, const std::string& gov, const std::string& group) {
  for (const auto& g : supply["governorates"]) {
    if (g["code"] == gov) return g["groups"][group];
  }
  FAIL("no governorate " << gov);
  throw;
}

}  // namespace

TEST_CASE("days of supply and phases per governorate follow stock and recent demand",
          "[engine][supply]") {
  const TimeMs now = 1793491200000 + 40 * kDay;  // a synthetic clock, the engine's too
  Feed f(now);
  for (int i = 0; i < 10; ++i) {
    f.unit("NBS-BB", now - 20 * kDay,
           i < 7 ? std::optional<TimeMs>(now - (i + 1) * kDay) : std::nullopt);
  }
  for (int i = 0; i < 21; ++i) {
    f.unit("GZA-BB", now - 10 * kDay, i < 20 ? std::optional<TimeMs>(now - kDay) : std::nullopt);
  }
  f.unit("GZA-BB", now - 60 * kDay, now - 40 * kDay);  // outside the 28-day window
  f.commit();

  auto s = supply_json(store_picture(f.engine->store()), f.engine->stock(), ref(),
                       Category::red_cells, now, SupplyConfig{});
  REQUIRE(s.ok());
  const json& nablus = group_of(*s, "NBS", "O-");
  CHECK(nablus["available"] == 3);
  CHECK(nablus["days"].get<double>() == Approx(12.0));
  CHECK(nablus["phase"] == "green");
  const json& gaza = group_of(*s, "GZA", "O-");
  CHECK(gaza["available"] == 1);
  CHECK(gaza["daily_demand"].get<double>() == Approx(20.0 / 28));
  CHECK(gaza["days"].get<double>() == Approx(1.4));
  CHECK(gaza["phase"] == "amber");
  CHECK(group_of(*s, "JEN", "O-")["days"].is_null());  // no demand: no index
  CHECK((*s)["country"]["groups"]["O-"]["available"] == 4);
  // 4 available against 27 consumed in 28 days: 4.1 days.
  CHECK((*s)["country"]["groups"]["O-"]["days"].get<double>() == Approx(4.1));
  CHECK((*s)["country"]["phase"] == "pre_amber");
}

TEST_CASE("a unit about to expire is listed with a transfer to a short bank nearby",
          "[engine][supply]") {
  const TimeMs now = 1793491200000 + 60 * kDay;  // a synthetic clock, the engine's too
  Feed f(now);
  for (int i = 0; i < 20; ++i) f.unit("GZA-BB", now - 10 * kDay, now - kDay);  // Gaza is short
  const std::string soon = f.unit("DEB-BB", now + 30 * kHour - 42 * kDay);     // Deir al-Balah
  const std::string later = f.unit("DEB-BB", now - 5 * kDay);
  const std::string far =
      f.unit("JEN-BB", now + 30 * kHour - 42 * kDay);  // Jenin: no one short nearby
  f.commit();

  auto x = expiring_json(store_picture(f.engine->store()), f.engine->stock(), ref(), now,
                         SupplyConfig{});
  REQUIRE(x.ok());
  const json& units = (*x)["units"];
  REQUIRE(units.size() == 2);
  std::map<std::string, json> by_din;
  for (const auto& u : units) by_din[u["din"].get<std::string>()] = u;
  REQUIRE(by_din.count(soon));
  CHECK(by_din[soon]["facility"] == "DEB-BB");
  CHECK(by_din[soon]["hours_left"].get<int>() <= 72);
  CHECK(by_din[soon]["suggestion"]["to"] == "GZA-BB");
  CHECK(by_din[soon]["suggestion"]["phase"] == "red");
  REQUIRE(by_din.count(far));
  CHECK(by_din[far]["suggestion"].is_null());
  CHECK_FALSE(by_din.count(later));
}
