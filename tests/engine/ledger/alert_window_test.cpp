// The engine's alert model keeps only the available units inside the
// expiring window (projections/alerts.h, "Memory"), reading the others from
// RocksDB's expiry index as the events' clock reaches them: through the real
// apply path (Engine::apply_records on disk), across a restart, and checked
// by rebuild, which replays with a model that holds every unit.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "engine/ledger/engine.h"
#include "engine/ledger/replay.h"
#include "events/binary_codec.h"
#include "tests/engine/support.h"

using namespace hemoledger;
using namespace hemoledger::testing;

namespace {

const ReferenceData& ref() { return shipped_engine_reference(); }

// Released O+ donations at NBS-BB, one a minute from `start`: red cells
// that expire at `red_expires` (0: their 42 days) and plasma (a year).
std::vector<Event> donations(EventMaker& m, int first, int count, TimeMs red_expires) {
  std::vector<Event> out;
  for (int i = first; i < first + count; ++i) {
    const std::string din = din_for(i);
    Event c = m.make(EventType::donation_collected, "NBS-BB", din);
    c.donor = "D" + std::to_string(i);
    c.abo_rh = AboRh::o_pos;
    out.push_back(c);
    Event red = m.make(EventType::component_produced, "NBS-BB", din, "E0382V00");
    red.expires_at = red_expires;
    out.push_back(red);
    out.push_back(m.make(EventType::component_produced, "NBS-BB", din, "E2555V00"));
    for (auto [test, result] : {std::pair{"abo", "O"},
                                {"rhd", "pos"},
                                {"hiv", "negative"},
                                {"hbv", "negative"},
                                {"hcv", "negative"},
                                {"syphilis", "negative"}}) {
      Event t = m.make(EventType::test_resulted, "NBS-LAB", din);
      t.test = test;
      t.result = result;
      out.push_back(t);
    }
    out.push_back(m.make(EventType::unit_released, "NBS-BB", din, "E0382V00"));
    out.push_back(m.make(EventType::unit_released, "NBS-BB", din, "E2555V00"));
  }
  return out;
}

// Applied in batches of 100 over two partitions, each recorded by Kafka when
// it happened (so the events' clock is the events' own).
struct Feeder {
  std::map<std::int32_t, std::int64_t> offset;
  void feed(Engine& engine, const std::vector<Event>& events) {
    std::vector<Record> batch;
    for (const Event& e : events) {
      const auto p = static_cast<std::int32_t>(std::hash<std::string>{}(e.din) % 2);
      batch.push_back(Record{p, offset[p]++, e.din, encode_binary(e), e.at});
      if (batch.size() == 100) {
        REQUIRE(engine.apply_records(batch).ok());
        batch.clear();
      }
    }
    if (!batch.empty()) REQUIRE(engine.apply_records(batch).ok());
  }
};

std::optional<nlohmann::json> open_alert(const Store& store, const std::string& key) {
  auto open = store.open_alerts();
  REQUIRE(open.ok());
  auto it = open->find(key);
  if (it == open->end()) return std::nullopt;
  return nlohmann::json::parse(it->second);
}

}  // namespace

TEST_CASE("the engine holds only units near expiry and alerts on them once the clock gets there",
          "[engine][alerts][memory]") {
  const TestClock clock;
  const TimeMs now = clock.now();
  const std::string key = "expiring_soon|NBS-BB|red_cells|O+";
  TempDir dir;
  EngineOptions o;
  o.data_dir = dir.path();
  o.clock = clock.clock();
  Feeder feeder;
  {
    auto engine = Engine::open(o, ref(), nullptr);
    REQUIRE(engine.ok());
    // Ten days ago: 120 donations whose red cells expire two days from now.
    EventMaker old("win-old", now - 10 * kDay);
    feeder.feed(**engine, donations(old, 0, 120, now + 2 * kDay));
    CHECK((*engine)->metrics().applied == 120 * 11);  // 11 events a donation
    CHECK((*engine)->metrics().alert_units == 0);     // all beyond the window
    CHECK_FALSE(open_alert((*engine)->store(), key));

    // Today: the clock brings the red cells into the window (not the plasma),
    // and the units collected today are far from expiry.
    EventMaker today("win-new", now - 300 * kMinute);
    feeder.feed(**engine, donations(today, 1000, 25, 0));
    CHECK((*engine)->metrics().applied == 145 * 11);
    CHECK((*engine)->metrics().alert_units == 120);
    auto alert = open_alert((*engine)->store(), key);
    REQUIRE(alert);
    CHECK((*alert)["figures"]["units"] == 120);
  }
  // A restart reads only the window's units, and the next batch changes
  // nothing of the alert.
  auto engine = Engine::open(o, ref(), nullptr);
  REQUIRE(engine.ok());
  EventMaker later("win-later", now - 20 * kMinute);
  feeder.feed(**engine, donations(later, 2000, 1, 0));
  CHECK((*engine)->metrics().alert_units == 120);
  auto alert = open_alert((*engine)->store(), key);
  REQUIRE(alert);
  CHECK((*alert)["figures"]["units"] == 120);

  // rebuild replays with a model that holds every unit: the same alerts.
  auto check = rebuild((*engine)->store(), ref(), Rules{}, false);
  REQUIRE(check.ok());
  for (const auto& d : check->differences) INFO(d);
  CHECK(check->equal);
}
